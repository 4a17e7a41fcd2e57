"""analyses: background jobs that run a recipe on a boundary

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 17:30:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

JSONType = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "analyses",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("owner_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("proposal_id", sa.Integer(), sa.ForeignKey("proposals.id", ondelete="SET NULL")),
        sa.Column("recipe", sa.String(40), nullable=False),
        sa.Column("recipe_version", sa.String(20), nullable=False),
        sa.Column("inputs", JSONType, nullable=False),
        sa.Column("area_ha", sa.Float()),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("step", sa.String(200)),
        sa.Column("log", sa.Text(), nullable=False),
        sa.Column("error", sa.Text()),
        sa.Column("worker", sa.String(200)),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("result_folder", sa.Text()),
        sa.Column("summary", JSONType),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True)),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True)),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_analyses_owner_id", "analyses", ["owner_id"])
    op.create_index("ix_analyses_proposal_id", "analyses", ["proposal_id"])
    op.create_index("ix_analyses_status", "analyses", ["status"])


def downgrade() -> None:
    op.drop_table("analyses")
