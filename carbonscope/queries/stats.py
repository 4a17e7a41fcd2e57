"""Counts and totals by registry."""

from __future__ import annotations

from sqlalchemy import Connection, func, select

from carbonscope.db.schema import credit_events, projects
from carbonscope.registry.codes import CODES


def by_registry(conn: Connection) -> dict:
    """``{"registries": {"VCS": {"projects", "events", "issued", "retired", "cancelled", "retired_or_cancelled", ...}, ...}}`` for all five."""
    p = projects
    out = {
        r: {
            "projects": 0,
            "events": 0,
            "issued": 0,
            "retired": 0,
            "cancelled": 0,
            "retired_or_cancelled": 0,
            "buffer": 0,
            "remaining": 0,
        }
        for r in CODES
    }
    c = p.c
    q = select(
        c.registry,
        func.count(),
        func.sum(c.issued),
        func.sum(c.retired),
        func.sum(c.cancelled),
        func.sum(c.retired_or_cancelled),
        func.sum(c.buffer),
        func.sum(c.remaining),
    )
    # retired and cancelled sum the projects whose retirements are known apart; retired_or_cancelled sums all
    for reg, n, iss, ret, can, roc, buf, rem in conn.execute(q.group_by(c.registry)):
        out.setdefault(reg, {}).update(
            projects=int(n),
            issued=int(iss or 0),
            retired=int(ret or 0),
            cancelled=int(can or 0),
            retired_or_cancelled=int(roc or 0),
            buffer=int(buf or 0),
            remaining=int(rem or 0),
        )
    for reg, n in conn.execute(select(credit_events.c.registry, func.count()).group_by(credit_events.c.registry)):
        out.setdefault(reg, {})["events"] = int(n)
    return {"registries": out}
