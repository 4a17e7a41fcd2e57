"""methodology codes column

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 10:31:43.558989
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.add_column(sa.Column("methodology_codes", sa.Text(), nullable=True))
    # Backfill from the JSON list the merge already stored.
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, methodologies FROM projects WHERE methodologies IS NOT NULL")).all()
    updates = []
    for pid, codes in rows:
        codes = json.loads(codes) if isinstance(codes, str) else codes
        if codes:
            updates.append({"id": pid, "codes": "|" + "|".join(codes) + "|"})
    if updates:
        conn.execute(sa.text("UPDATE projects SET methodology_codes = :codes WHERE id = :id"), updates)


def downgrade() -> None:
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.drop_column("methodology_codes")
