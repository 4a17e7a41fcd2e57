"""news: the language of each item, and developer names as link targets

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 21:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("news_items") as batch:
        batch.add_column(sa.Column("language", sa.String(8)))
        batch.create_index("ix_news_items_language", ["language"])
    with op.batch_alter_table("news_links") as batch:  # a developer's name is longer than a project ID
        batch.alter_column("target_id", type_=sa.String(200), existing_type=sa.String(40), existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("news_links") as batch:
        batch.alter_column("target_id", type_=sa.String(40), existing_type=sa.String(200), existing_nullable=False)
    with op.batch_alter_table("news_items") as batch:
        batch.drop_index("ix_news_items_language")
        batch.drop_column("language")
