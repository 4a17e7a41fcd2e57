"""Personal API tokens for the write API: shown once, stored hashed, revocable."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection, bindparam, insert, select, update

from carbonscope.accounts.secrets import digest, new_secret
from carbonscope.db.schema import api_tokens, users
from carbonscope.errors import AuthError, InvalidField, NotFoundError

PREFIX = "cst_"


def create(conn: Connection, user_id: int, name: str) -> str:
    name = (name or "").strip()
    if not 1 <= len(name) <= 80:
        raise InvalidField("name", "between 1 and 80 characters")
    token = new_secret(PREFIX, 32)
    conn.execute(
        insert(api_tokens).values(
            user_id=user_id,
            name=name,
            prefix=token[:10],
            token_hash=digest(token),
            created_at=datetime.now(UTC),
        )
    )
    return token


def list_for(conn: Connection, user_id: int) -> list[dict]:
    t = api_tokens.c
    q = (
        select(t.id, t.name, t.prefix, t.created_at, t.last_used_at, t.revoked_at)
        .where(t.user_id == user_id)
        .order_by(t.id.desc())
    )
    return [dict(r) for r in conn.execute(q).mappings()]


def revoke(conn: Connection, user_id: int, token_id: int) -> None:
    n = conn.execute(
        update(api_tokens)
        .where(api_tokens.c.id == token_id, api_tokens.c.user_id == user_id, api_tokens.c.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
    ).rowcount
    if not n:
        raise NotFoundError(f"no active token {token_id} of yours")


_BY_TOKEN = (  # built once: every write-API call runs it
    select(
        users.c.id,
        users.c.email,
        users.c.display_name,
        users.c.role,
        users.c.disabled,
        api_tokens.c.id.label("token_id"),
        api_tokens.c.revoked_at,
        api_tokens.c.last_used_at,
    )
    .join(api_tokens, api_tokens.c.user_id == users.c.id)
    .where(api_tokens.c.token_hash == bindparam("token_hash"))
)


def user_for(conn: Connection, token: str) -> dict:
    if not token or not token.startswith(PREFIX):
        raise AuthError("missing or malformed API token (Authorization: Bearer cst_...)")
    row = conn.execute(_BY_TOKEN, {"token_hash": digest(token)}).mappings().first()
    if row is None or row["revoked_at"] is not None or row["disabled"]:
        raise AuthError("invalid or revoked API token")
    return {k: row[k] for k in ("id", "email", "display_name", "role", "token_id", "last_used_at")}


def needs_touch(user: dict, every_seconds: int = 60) -> bool:
    """Record use at most once a minute: a write per API call would queue every call behind the database lock."""
    last = user.get("last_used_at")
    if last is None:
        return True
    last = last if last.tzinfo else last.replace(tzinfo=UTC)
    return (datetime.now(UTC) - last).total_seconds() > every_seconds


def touch(conn: Connection, token_id: int) -> None:
    conn.execute(update(api_tokens).where(api_tokens.c.id == token_id).values(last_used_at=datetime.now(UTC)))
