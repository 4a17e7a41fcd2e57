"""The change feed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, select

from carbonscope.db.schema import changes, projects
from carbonscope.jsonsafe import json_safe


def changes_since(
    conn: Connection,
    since: datetime | None = None,
    *,
    kinds: Sequence[str] | None = None,
    limit: int = 1000,
    after_id: int | None = None,
) -> list[dict]:
    c = changes
    q = select(
        c.c.id,
        c.c.created_at,
        c.c.snapshot_id,
        c.c.kind,
        c.c.project_id,
        projects.c.name,
        projects.c.registry,
        c.c.detail,
    ).outerjoin(projects, projects.c.id == c.c.project_id)
    if since is not None:
        q = q.where(c.c.created_at >= since)
    if kinds:
        q = q.where(c.c.kind.in_(kinds))
    if after_id is not None:
        q = q.where(c.c.id > after_id)
    q = q.order_by(c.c.id).limit(limit)
    return [{k: json_safe(v) for k, v in r.items()} for r in conn.execute(q).mappings()]
