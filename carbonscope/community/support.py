"""Support: one per user per project or proposal, toggled; counts shown."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection, delete, func, insert, select, update

from carbonscope.community import targets
from carbonscope.db.schema import proposals, supports


def toggle(conn: Connection, user: dict, kind: str, target_id: str) -> bool:
    """Support if not yet supported, else withdraw it; returns whether the user now supports it."""
    tid = targets.check(conn, kind, target_id, writing=True)
    s = supports.c
    where = (s.user_id == user["id"], s.target_kind == kind, s.target_id == tid)
    if conn.execute(select(s.user_id).where(*where)).first():
        conn.execute(delete(supports).where(*where))
        on = False
    else:
        conn.execute(
            insert(supports).values(user_id=user["id"], target_kind=kind, target_id=tid, created_at=datetime.now(UTC))
        )
        on = True
    if kind == "proposal":
        conn.execute(update(proposals).where(proposals.c.id == int(tid)).values(support_count=count(conn, kind, tid)))
    targets.bump(conn, kind, tid)
    return on


def count(conn: Connection, kind: str, target_id: str) -> int:
    s = supports.c
    return conn.execute(select(func.count()).where(s.target_kind == kind, s.target_id == str(target_id))).scalar_one()


def supports_it(conn: Connection, user: dict | None, kind: str, target_id: str) -> bool:
    if not user:
        return False
    s = supports.c
    return (
        conn.execute(
            select(s.user_id).where(s.user_id == user["id"], s.target_kind == kind, s.target_id == str(target_id))
        ).first()
        is not None
    )
