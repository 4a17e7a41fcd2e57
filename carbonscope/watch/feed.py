"""A user's private Atom feed of notifications."""

from __future__ import annotations

from datetime import UTC, datetime
from xml.sax.saxutils import escape

from sqlalchemy import Connection, select

from carbonscope.db.schema import users
from carbonscope.errors import NotFoundError
from carbonscope.watch.notify import list_for


def _iso(dt: datetime) -> str:
    return (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).isoformat()


def atom(conn: Connection, feed_token: str, site_url: str) -> str:
    # A disabled account's feed is dead (as its sessions and tokens are); a rotated token finds no one.
    user = conn.execute(
        select(users.c.id, users.c.display_name).where(users.c.feed_token == feed_token, users.c.disabled.is_(False))
    ).first()
    if user is None or not feed_token:
        raise NotFoundError("no such feed")
    items = list_for(conn, user.id, limit=100)
    updated = _iso(items[0]["created_at"]) if items else _iso(datetime.now(UTC))
    entries = "".join(
        f"<entry><id>{escape(site_url)}/notifications/{it['id']}</id><title>{escape(it['title'])}</title>"
        f'<updated>{_iso(it["created_at"])}</updated><link href="{escape(site_url + (it["link"] or "/"))}"/></entry>'
        for it in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<feed xmlns="http://www.w3.org/2005/Atom">'
        f"<id>{escape(site_url)}/feeds/watchlist</id><title>CarbonScope watchlist of {escape(user.display_name)}</title>"
        f"<updated>{updated}</updated>{entries}</feed>"
    )
