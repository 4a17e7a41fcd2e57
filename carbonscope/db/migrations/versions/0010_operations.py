"""operations: scheduled runs, alert states, the header of each ingested file

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 22:00:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

JSONType = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("source_files") as batch:
        batch.add_column(sa.Column("columns", JSONType))
    op.create_table(
        "schedule_runs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("job", sa.String(80), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("outcome", sa.String(12), nullable=False),
        sa.Column("detail", JSONType),
        sa.Column("error", sa.Text()),
        sa.Column("worker", sa.String(200)),
        sa.UniqueConstraint("job", "due_at", name="uq_schedule_runs_job_due"),
    )
    op.create_index("ix_schedule_runs_job", "schedule_runs", ["job"])
    op.create_table(
        "alert_states",
        sa.Column("key", sa.String(120), primary_key=True),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_sent_at", sa.DateTime(timezone=True)),
        sa.Column("message", sa.Text()),
    )


def downgrade() -> None:
    op.drop_table("alert_states")
    op.drop_index("ix_schedule_runs_job", table_name="schedule_runs")
    op.drop_table("schedule_runs")
    with op.batch_alter_table("source_files") as batch:
        batch.drop_column("columns")
