"""account hardening: e-mail verification, look-alike name keys, sign-up throttle, links rendered at send

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 08:00:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

JSONType = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("users") as b:
        b.add_column(sa.Column("email_verified_at", sa.DateTime(timezone=True)))
        b.add_column(sa.Column("name_key", sa.String(160)))
    op.create_index("ix_users_name_key", "users", ["name_key"])
    # Accounts made before verification existed were made by their owners or by an admin: verified.
    op.execute("UPDATE users SET email_verified_at = created_at")
    from carbonscope.lookalike import skeleton

    conn = op.get_bind()
    for uid, name in conn.execute(sa.text("SELECT id, display_name FROM users")).all():
        conn.execute(sa.text("UPDATE users SET name_key = :k WHERE id = :i"), {"k": skeleton(name), "i": uid})
    with op.batch_alter_table("outbox") as b:
        b.add_column(
            sa.Column("params", JSONType)
        )  # what is rendered at send time (a secret link's nonce), wiped once sent
    op.create_table(
        "email_verifications",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "signups",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("address", sa.String(64), nullable=False, index=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, index=True),
    )
    op.create_index("ix_password_resets_user_id", "password_resets", ["user_id"])
    op.create_index("ix_outbox_to_addr", "outbox", ["to_addr"])


def downgrade() -> None:
    op.drop_index("ix_outbox_to_addr", "outbox")
    op.drop_index("ix_password_resets_user_id", "password_resets")
    op.drop_table("signups")
    op.drop_table("email_verifications")
    with op.batch_alter_table("outbox") as b:
        b.drop_column("params")
    op.drop_index("ix_users_name_key", "users")
    with op.batch_alter_table("users") as b:
        b.drop_column("name_key")
        b.drop_column("email_verified_at")
