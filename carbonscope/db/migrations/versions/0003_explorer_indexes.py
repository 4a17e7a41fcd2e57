"""explorer indexes

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 10:58:29.639195
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:

    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.create_index("ix_projects_registry_issued", ["registry", "issued"], unique=False)
        batch_op.create_index("ix_projects_registry_retired", ["registry", "retired"], unique=False)
        batch_op.create_index("ix_projects_search_text", ["search_text"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.drop_index("ix_projects_search_text")
        batch_op.drop_index("ix_projects_registry_retired")
        batch_op.drop_index("ix_projects_registry_issued")
