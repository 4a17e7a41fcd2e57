"""What one signed-in reader's copy of a page needs beyond the shared rendering: whether they
support and watch the target, and the target's version (the key of the shared copy)."""

from __future__ import annotations

from typing import TypedDict

from sqlalchemy import Connection, bindparam, exists, select

from carbonscope.db.schema import supports, target_versions, watches


class ReaderState(TypedDict):
    supported: bool
    watching: int | None  # the watch's id, to remove it
    version: int


_READER = select(
    exists()
    .where(
        supports.c.user_id == bindparam("uid"),
        supports.c.target_kind == bindparam("kind"),
        supports.c.target_id == bindparam("target"),
    )
    .label("supported"),
    select(watches.c.id)
    .where(
        watches.c.user_id == bindparam("uid"),
        watches.c.kind == bindparam("kind"),
        watches.c.value == bindparam("target"),
    )
    .limit(1)
    .scalar_subquery()
    .label("watching"),
    select(target_versions.c.version)
    .where(target_versions.c.target_kind == bindparam("kind"), target_versions.c.target_id == bindparam("target"))
    .scalar_subquery()
    .label("version"),
)


def reader_state(conn: Connection, user_id: int, kind: str, target: str) -> ReaderState:
    """In one statement: does the reader support and watch the target, and the target's version
    (bumped by every comment and support, see community.targets)."""
    row = conn.execute(_READER, {"uid": user_id, "kind": kind, "target": str(target)}).one()
    return {"supported": bool(row.supported), "watching": row.watching, "version": row.version or 0}
