"""Server-side sessions: the cookie holds a signed random ID, the database its digest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import Connection, bindparam, delete, insert, select

from carbonscope.accounts.secrets import digest, new_secret
from carbonscope.db.schema import sessions, users

COOKIE = "cs_session"


def _signer(secret: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt="carbonscope-session")


def create(conn: Connection, user_id: int, secret: str, days: int) -> str:
    """A new session; returns the cookie value."""
    raw = new_secret(nbytes=32)
    at = datetime.now(UTC)
    conn.execute(
        insert(sessions).values(
            id_hash=digest(raw), user_id=user_id, created_at=at, expires_at=at + timedelta(days=days)
        )
    )
    return _signer(secret).dumps(raw)


_BY_SESSION = (  # built once: every signed-in request runs it
    select(
        users.c.id,
        users.c.email,
        users.c.display_name,
        users.c.role,
        users.c.feed_token,
        users.c.disabled,
        sessions.c.expires_at,
    )
    .join(sessions, sessions.c.user_id == users.c.id)
    .where(sessions.c.id_hash == bindparam("id_hash"))
)


def user_for(conn: Connection, cookie: str | None, secret: str) -> dict | None:
    if not cookie:
        return None
    try:
        raw = _signer(secret).loads(cookie)
    except BadSignature:
        return None
    row = conn.execute(_BY_SESSION, {"id_hash": digest(str(raw))}).mappings().first()
    if row is None or row["disabled"]:
        return None
    exp = row["expires_at"] if row["expires_at"].tzinfo else row["expires_at"].replace(tzinfo=UTC)
    if exp < datetime.now(UTC):
        return None
    return {k: row[k] for k in ("id", "email", "display_name", "role", "feed_token")}


def destroy(conn: Connection, cookie: str | None, secret: str) -> None:
    if not cookie:
        return
    try:
        raw = _signer(secret).loads(cookie)
    except BadSignature:
        return
    conn.execute(delete(sessions).where(sessions.c.id_hash == digest(str(raw))))
