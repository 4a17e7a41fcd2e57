"""registry hub schema

Revision ID: 0001
Revises:
Create Date: 2026-11-23 10:01:45.451241
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "credit_events",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("project_id", sa.String(length=40), nullable=False),
        sa.Column("registry", sa.String(length=8), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("vintage", sa.Integer(), nullable=True),
        sa.Column("vintage_start", sa.Date(), nullable=True),
        sa.Column("vintage_end", sa.Date(), nullable=True),
        sa.Column("event_date", sa.Date(), nullable=True),
        sa.Column("serial", sa.Text(), nullable=True),
        sa.Column("serial_start", sa.BigInteger(), nullable=True),
        sa.Column("serial_end", sa.BigInteger(), nullable=True),
        sa.Column("beneficiary", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("account", sa.Text(), nullable=True),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("file_id", sa.Integer(), nullable=False),
        sa.Column("row", sa.Integer(), nullable=True),
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_events")),
    )
    with op.batch_alter_table("credit_events", schema=None) as batch_op:
        batch_op.create_index("ix_credit_events_date", ["event_date"], unique=False)
        batch_op.create_index("ix_credit_events_project_date", ["project_id", "event_date"], unique=False)

    op.create_table(
        "project_series",
        sa.Column("project_id", sa.String(length=40), nullable=False),
        sa.Column("series", sa.String(length=40), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.PrimaryKeyConstraint("project_id", "series", "year", name=op.f("pk_project_series")),
    )
    op.create_table(
        "reconciliation",
        sa.Column("project_id", sa.String(length=40), nullable=False),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("metric", sa.String(length=30), nullable=False),
        sa.Column("stated", sa.BigInteger(), nullable=False),
        sa.Column("computed", sa.BigInteger(), nullable=False),
        sa.Column("difference", sa.BigInteger(), nullable=False),
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("project_id", "source", "metric", name=op.f("pk_reconciliation")),
    )
    op.create_table(
        "snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("command", sa.String(length=40), nullable=False),
        sa.Column(
            "summary", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=True
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_snapshots")),
    )
    op.create_table(
        "stated_totals",
        sa.Column("project_id", sa.String(length=40), nullable=False),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("metric", sa.String(length=30), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.Column("file_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("project_id", "source", "metric", name=op.f("pk_stated_totals")),
    )
    op.create_table(
        "vintage_totals",
        sa.Column("project_id", sa.String(length=40), nullable=False),
        sa.Column("vintage", sa.Integer(), nullable=False),
        sa.Column("issued", sa.BigInteger(), nullable=False),
        sa.Column("retired", sa.BigInteger(), nullable=False),
        sa.Column("cancelled", sa.BigInteger(), nullable=False),
        sa.Column("buffer", sa.BigInteger(), nullable=False),
        sa.Column("remaining", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.PrimaryKeyConstraint("project_id", "vintage", name=op.f("pk_vintage_totals")),
    )
    op.create_table(
        "changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("project_id", sa.String(length=40), nullable=True),
        sa.Column(
            "detail", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=True
        ),
        sa.ForeignKeyConstraint(["snapshot_id"], ["snapshots.id"], name=op.f("fk_changes_snapshot_id_snapshots")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_changes")),
    )
    with op.batch_alter_table("changes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_changes_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_changes_project_id"), ["project_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_changes_snapshot_id"), ["snapshot_id"], unique=False)

    op.create_table(
        "projects",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("registry", sa.String(length=8), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("proponent", sa.Text(), nullable=True),
        sa.Column("owner", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=30), nullable=True),
        sa.Column("status_raw", sa.Text(), nullable=True),
        sa.Column("methodology_raw", sa.Text(), nullable=True),
        sa.Column(
            "methodologies",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("methodology_version", sa.Text(), nullable=True),
        sa.Column("category", sa.String(length=40), nullable=True),
        sa.Column("project_type", sa.String(length=80), nullable=True),
        sa.Column("type_source", sa.String(length=20), nullable=True),
        sa.Column("type_raw", sa.Text(), nullable=True),
        sa.Column("scope", sa.Text(), nullable=True),
        sa.Column("reduction_removal", sa.String(length=30), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("country_name", sa.Text(), nullable=True),
        sa.Column("country_raw", sa.Text(), nullable=True),
        sa.Column("region", sa.Text(), nullable=True),
        sa.Column("state", sa.Text(), nullable=True),
        sa.Column("site", sa.Text(), nullable=True),
        sa.Column("listed_at", sa.Date(), nullable=True),
        sa.Column("registered_at", sa.Date(), nullable=True),
        sa.Column("crediting_start", sa.Date(), nullable=True),
        sa.Column("crediting_end", sa.Date(), nullable=True),
        sa.Column("first_vintage", sa.Integer(), nullable=True),
        sa.Column("estimated_annual", sa.Float(), nullable=True),
        sa.Column("verifier", sa.Text(), nullable=True),
        sa.Column("sdgs", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=True),
        sa.Column("corsia", sa.Boolean(), nullable=True),
        sa.Column("ccp", sa.Boolean(), nullable=True),
        sa.Column("article6", sa.Boolean(), nullable=True),
        sa.Column("corresponding_adjustment", sa.Boolean(), nullable=True),
        sa.Column("is_compliance", sa.Boolean(), nullable=True),
        sa.Column("compliance_id", sa.Text(), nullable=True),
        sa.Column("poa_id", sa.Text(), nullable=True),
        sa.Column("size_class", sa.Text(), nullable=True),
        sa.Column("registry_url", sa.Text(), nullable=True),
        sa.Column("website", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("issued", sa.BigInteger(), nullable=False),
        sa.Column("retired", sa.BigInteger(), nullable=False),
        sa.Column("cancelled", sa.BigInteger(), nullable=False),
        sa.Column("buffer", sa.BigInteger(), nullable=False),
        sa.Column("remaining", sa.BigInteger(), nullable=False),
        sa.Column("totals_source", sa.String(length=20), nullable=True),
        sa.Column("first_issuance_at", sa.Date(), nullable=True),
        sa.Column("first_retirement_at", sa.Date(), nullable=True),
        sa.Column(
            "sources", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=True
        ),
        sa.Column(
            "provenance", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=True
        ),
        sa.Column("created_snapshot", sa.Integer(), nullable=True),
        sa.Column("updated_snapshot", sa.Integer(), nullable=True),
        sa.Column("search_text", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_snapshot"], ["snapshots.id"], name=op.f("fk_projects_created_snapshot_snapshots")
        ),
        sa.ForeignKeyConstraint(
            ["updated_snapshot"], ["snapshots.id"], name=op.f("fk_projects_updated_snapshot_snapshots")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_projects")),
    )
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_projects_category"), ["category"], unique=False)
        batch_op.create_index(batch_op.f("ix_projects_country"), ["country"], unique=False)
        batch_op.create_index("ix_projects_issued", ["issued"], unique=False)
        batch_op.create_index("ix_projects_listed_at", ["listed_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_projects_project_type"), ["project_type"], unique=False)
        batch_op.create_index(batch_op.f("ix_projects_registry"), ["registry"], unique=False)
        batch_op.create_index("ix_projects_retired", ["retired"], unique=False)
        batch_op.create_index(batch_op.f("ix_projects_status"), ["status"], unique=False)

    op.create_table(
        "source_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("parser_version", sa.Integer(), nullable=False),
        sa.Column("retrieved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=True),
        sa.Column("skipped_rows", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["snapshot_id"], ["snapshots.id"], name=op.f("fk_source_files_snapshot_id_snapshots")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_source_files")),
    )
    with op.batch_alter_table("source_files", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_source_files_sha256"), ["sha256"], unique=False)
        batch_op.create_index(batch_op.f("ix_source_files_snapshot_id"), ["snapshot_id"], unique=False)

    op.create_table(
        "ingest_warnings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("file_id", sa.Integer(), nullable=False),
        sa.Column("row", sa.Integer(), nullable=True),
        sa.Column("column", sa.String(length=120), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["file_id"], ["source_files.id"], name=op.f("fk_ingest_warnings_file_id_source_files")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingest_warnings")),
    )
    with op.batch_alter_table("ingest_warnings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ingest_warnings_file_id"), ["file_id"], unique=False)

    op.create_table(
        "source_records",
        sa.Column("project_id", sa.String(length=40), nullable=False),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("file_id", sa.Integer(), nullable=False),
        sa.Column("row", sa.Integer(), nullable=True),
        sa.Column("retrieved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "data", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.ForeignKeyConstraint(["file_id"], ["source_files.id"], name=op.f("fk_source_records_file_id_source_files")),
        sa.PrimaryKeyConstraint("project_id", "source", name=op.f("pk_source_records")),
    )


def downgrade() -> None:

    op.drop_table("source_records")
    with op.batch_alter_table("ingest_warnings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ingest_warnings_file_id"))

    op.drop_table("ingest_warnings")
    with op.batch_alter_table("source_files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_source_files_snapshot_id"))
        batch_op.drop_index(batch_op.f("ix_source_files_sha256"))

    op.drop_table("source_files")
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_projects_status"))
        batch_op.drop_index("ix_projects_retired")
        batch_op.drop_index(batch_op.f("ix_projects_registry"))
        batch_op.drop_index(batch_op.f("ix_projects_project_type"))
        batch_op.drop_index("ix_projects_listed_at")
        batch_op.drop_index("ix_projects_issued")
        batch_op.drop_index(batch_op.f("ix_projects_country"))
        batch_op.drop_index(batch_op.f("ix_projects_category"))

    op.drop_table("projects")
    with op.batch_alter_table("changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_changes_snapshot_id"))
        batch_op.drop_index(batch_op.f("ix_changes_project_id"))
        batch_op.drop_index(batch_op.f("ix_changes_created_at"))

    op.drop_table("changes")
    op.drop_table("vintage_totals")
    op.drop_table("stated_totals")
    op.drop_table("snapshots")
    op.drop_table("reconciliation")
    op.drop_table("project_series")
    with op.batch_alter_table("credit_events", schema=None) as batch_op:
        batch_op.drop_index("ix_credit_events_project_date")
        batch_op.drop_index("ix_credit_events_date")

    op.drop_table("credit_events")
