"""registry truth: totals rules, one meaning per number, retracted events, export dates

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 20:40:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

JSONType = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("source_files") as b:
        b.add_column(sa.Column("exported_at", sa.DateTime(timezone=True)))
        b.add_column(sa.Column("date_basis", sa.String(30)))
        b.add_column(sa.Column("partial", sa.Boolean()))
    with op.batch_alter_table("projects") as b:
        b.alter_column("retired", existing_type=sa.BigInteger(), nullable=True)
        b.alter_column("cancelled", existing_type=sa.BigInteger(), nullable=True)
        b.alter_column("totals_source", existing_type=sa.String(20), type_=sa.String(40))
        b.add_column(sa.Column("retired_or_cancelled", sa.BigInteger(), nullable=False, server_default="0"))
        b.add_column(sa.Column("totals_rules", JSONType))
        b.add_column(sa.Column("ledger_complete", sa.Boolean()))
        b.add_column(sa.Column("listed", sa.Boolean()))
        b.add_column(sa.Column("compliance_program", sa.Text()))
        b.add_column(sa.Column("compliance_status", sa.Text()))
        b.add_column(sa.Column("certifications", JSONType))
        b.add_column(sa.Column("pers", sa.BigInteger()))
        b.add_column(sa.Column("notes", sa.Text()))
        b.add_column(sa.Column("countries", JSONType))
    # Existing rows: what they called retired was retired or cancelled where VROD gave it.
    op.execute("UPDATE projects SET retired_or_cancelled = COALESCE(retired, 0) + COALESCE(cancelled, 0)")
    with op.batch_alter_table("source_records") as b:
        b.add_column(sa.Column("delisted_snapshot", sa.Integer()))
    with op.batch_alter_table("stated_totals") as b:
        b.add_column(sa.Column("row", sa.Integer()))
    op.create_index("ix_credit_events_source", "credit_events", ["source"])
    with op.batch_alter_table("credit_events") as b:
        b.add_column(sa.Column("corsia", sa.Boolean()))
    with op.batch_alter_table("vintage_totals") as b:
        b.add_column(sa.Column("corsia", sa.Boolean()))
    op.create_table(
        "event_history",
        sa.Column("id", sa.String(24), primary_key=True),
        sa.Column("project_id", sa.String(40), nullable=False),
        sa.Column("registry", sa.String(8), nullable=False),
        sa.Column("type", sa.String(20), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("vintage", sa.Integer()),
        sa.Column("vintage_start", sa.Date()),
        sa.Column("vintage_end", sa.Date()),
        sa.Column("event_date", sa.Date()),
        sa.Column("serial", sa.Text()),
        sa.Column("serial_start", sa.BigInteger()),
        sa.Column("serial_end", sa.BigInteger()),
        sa.Column("beneficiary", sa.Text()),
        sa.Column("reason", sa.Text()),
        sa.Column("note", sa.Text()),
        sa.Column("account", sa.Text()),
        sa.Column("corsia", sa.Boolean()),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("file_id", sa.Integer(), nullable=False),
        sa.Column("row", sa.Integer()),
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("retracted_snapshot", sa.Integer(), nullable=False),
        sa.Column("retraction", sa.String(20), nullable=False),
        sa.Column("superseded_by", sa.String(24)),
    )
    op.create_index("ix_event_history_retracted_snapshot", "event_history", ["retracted_snapshot"])
    op.create_index("ix_event_history_project", "event_history", ["project_id"])


def downgrade() -> None:
    op.drop_table("event_history")
    with op.batch_alter_table("vintage_totals") as b:
        b.drop_column("corsia")
    with op.batch_alter_table("credit_events") as b:
        b.drop_column("corsia")
    op.drop_index("ix_credit_events_source", "credit_events")
    with op.batch_alter_table("stated_totals") as b:
        b.drop_column("row")
    with op.batch_alter_table("source_records") as b:
        b.drop_column("delisted_snapshot")
    with op.batch_alter_table("projects") as b:
        for c in (
            "countries",
            "notes",
            "pers",
            "certifications",
            "compliance_status",
            "compliance_program",
            "listed",
            "ledger_complete",
            "totals_rules",
            "retired_or_cancelled",
        ):
            b.drop_column(c)
    with op.batch_alter_table("source_files") as b:
        for c in ("partial", "date_basis", "exported_at"):
            b.drop_column(c)
