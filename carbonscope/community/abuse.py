"""Abuse reports on comments and proposals, resolved by admins."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection, insert, select, update

from carbonscope.db.schema import comments, proposals, reports, users
from carbonscope.errors import InvalidField, NotFoundError


def create(conn: Connection, user: dict, kind: str, target_id: int, reason: str) -> int:
    reason = (reason or "").strip()
    if not 3 <= len(reason) <= 2000:
        raise InvalidField("reason", "between 3 and 2,000 characters")
    table = {"comment": comments, "proposal": proposals}.get(kind)
    if table is None:
        raise InvalidField("target_kind", "comment or proposal")
    # What the reporter cannot see does not exist for them: a hidden proposal (unless theirs) or a
    # hidden or deleted comment answers as a missing one, so a report never reveals it.
    row = conn.execute(select(table).where(table.c.id == int(target_id))).mappings().first()
    visible = row is not None and (
        (kind == "comment" and not row["hidden"] and not row["deleted"])
        or (kind == "proposal" and (not row["hidden"] or user.get("role") == "admin" or row["owner_id"] == user["id"]))
    )
    if not visible:
        raise NotFoundError(f"no {kind} {target_id}")
    return conn.execute(
        insert(reports)
        .values(
            reporter_id=user["id"],
            target_kind=kind,
            target_id=str(target_id),
            reason=reason,
            created_at=datetime.now(UTC),
        )
        .returning(reports.c.id)
    ).scalar_one()


def open_reports(conn: Connection, limit: int = 200) -> list[dict]:
    r = reports.c
    q = (
        select(r.id, r.target_kind, r.target_id, r.reason, r.created_at, users.c.display_name.label("reporter"))
        .outerjoin(users, users.c.id == r.reporter_id)
        .where(r.resolved_at.is_(None))
        .order_by(r.id)
        .limit(limit)
    )
    out = []
    for row in conn.execute(q).mappings():
        d = dict(row)
        if d["target_kind"] == "comment":
            c = (
                conn.execute(
                    select(comments.c.body_md, comments.c.target_kind, comments.c.target_id, comments.c.hidden).where(
                        comments.c.id == int(d["target_id"])
                    )
                )
                .mappings()
                .first()
            )
            d["excerpt"] = c["body_md"][:300] if c else ""
            d["where"] = (
                f"/{'projects' if c and c['target_kind'] == 'project' else 'proposals'}/{c['target_id']}" if c else None
            )
            d["hidden"] = bool(c and c["hidden"])
        else:
            p = (
                conn.execute(select(proposals.c.name, proposals.c.hidden).where(proposals.c.id == int(d["target_id"])))
                .mappings()
                .first()
            )
            d["excerpt"] = p["name"] if p else ""
            d["where"] = f"/proposals/{d['target_id']}"
            d["hidden"] = bool(p and p["hidden"])
        out.append(d)
    return out


def resolve(conn: Connection, admin: dict, report_id: int) -> None:
    n = conn.execute(
        update(reports)
        .where(reports.c.id == report_id, reports.c.resolved_at.is_(None))
        .values(resolved_at=datetime.now(UTC), resolver_id=admin["id"])
    ).rowcount
    if not n:
        raise NotFoundError(f"no open report {report_id}")
