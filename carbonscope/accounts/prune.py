"""Pruning of what expires: sessions, reset and confirmation links, sign-in attempts, sign-ups and
sent mail. Run by the web app's housekeeping every ``housekeeping_minutes`` and by
``carbonscope prune``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, delete, or_

from carbonscope.db.schema import email_verifications, login_attempts, outbox, password_resets, sessions, signups
from carbonscope.settings import Settings

SENT_MAIL_DAYS = 30
USED_LINK_DAYS = 1  # a used or expired link is kept a day: "this link was already used" stays explainable


def prune(conn: Connection, settings: Settings, at: datetime | None = None) -> dict[str, int]:
    """Delete expired rows; returns how many of each kind went."""
    at = at or datetime.now(UTC)
    link_cut = at - timedelta(days=USED_LINK_DAYS)
    out = {
        "sessions": conn.execute(delete(sessions).where(sessions.c.expires_at < at)).rowcount,
        "login attempts": conn.execute(
            delete(login_attempts).where(login_attempts.c.at < at - timedelta(days=settings.login_attempts_keep_days))
        ).rowcount,
        "sign-ups": conn.execute(delete(signups).where(signups.c.at < at - timedelta(days=1))).rowcount,
        "sent mail": conn.execute(
            delete(outbox).where(outbox.c.sent_at < at - timedelta(days=SENT_MAIL_DAYS))
        ).rowcount,
    }
    for name, table in (("reset links", password_resets), ("confirmation links", email_verifications)):
        t = table.c
        out[name] = conn.execute(delete(table).where(or_(t.expires_at < link_cut, t.used_at < link_cut))).rowcount
    return out
