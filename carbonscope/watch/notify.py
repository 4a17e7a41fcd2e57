"""Turn one ingest's change feed into notifications for the users whose watches match.

Runs inside the ingest transaction, so alerts exist exactly when the data that caused them does.
Matches: a watched project's new events, status change or changed totals; a new project, status
change or new events in a watched country or with a watched methodology; a new retirement whose
beneficiary contains a watched name. Each user also gets one digest e-mail per ingest (outbox).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

from sqlalchemy import Connection, and_, func, literal, select

from carbonscope.db.bulk import insert_frame, timestamp_text
from carbonscope.db.schema import changes, credit_events, notifications, projects, users, watches
from carbonscope.mail import enqueue
from carbonscope.settings import get_settings

WATCHED_KINDS = (
    "new_project",
    "status_changed",
    "new_events",
    "totals_changed",
    "event_retracted",
    "event_corrected",
    "project_delisted",
)
LABEL = {
    "issuance": "issuance",
    "retirement": "retirement",
    "cancellation": "cancellation",
    "conversion": "conversion",
    "buffer_deposit": "buffer deposit",
}


def _describe(kind: str, detail: dict | None, project: str, name: str | None) -> str:
    who = f"{project} {name or ''}".strip()
    detail = detail or {}
    if kind == "new_project":
        return f"New project: {who}"
    if kind == "status_changed":
        return f"{who}: status {detail.get('from') or 'unknown'} → {detail.get('to') or 'unknown'}"
    if kind == "new_events":
        parts = [
            f"{v['count']} {LABEL.get(t, t)}{'s' if v['count'] != 1 else ''} ({v['quantity']:,} credits)"
            for t, v in detail.items()
        ]
        return f"{who}: " + ", ".join(parts)
    if kind == "totals_changed":
        parts = [f"{k.replace('_', ' ')} {_n(old)} → {_n(new)}" for k, (old, new) in detail.items()]
        return f"{who}: " + "; ".join(parts)
    if kind == "event_retracted":
        return f"{who}: {detail.get('count', 0)} event(s) ({detail.get('quantity', 0):,} credits) are no longer in the registry's newer export"
    if kind == "event_corrected":
        return f"{who}: {detail.get('count', 0)} event(s) corrected in the registry's newer export"
    if kind == "project_delisted":
        return f"{who}: no longer listed in the registry's projects export"
    return f"{who}: {kind}"


def _n(v) -> str:
    return "not stated apart" if v is None else f"{v:,}"


def on_snapshot(conn: Connection, snapshot_id: int) -> int:
    """Create the notifications of ``snapshot_id``; returns how many."""
    if conn.execute(select(watches.c.id).limit(1)).first() is None:
        return 0
    c, w, p = changes.c, watches.c, projects.c
    base = (
        select(w.user_id, c.id.label("change_id"), c.kind, c.project_id, c.detail, p.name)
        .select_from(changes)
        .join(projects, p.id == c.project_id)
        .where(c.snapshot_id == snapshot_id, c.kind.in_(WATCHED_KINDS))
    )
    by_project = base.join(watches, and_(w.kind == "project", w.value == c.project_id))
    by_country = base.join(watches, and_(w.kind == "country", w.value == p.country)).where(c.kind != "totals_changed")
    by_method = base.join(
        watches, and_(w.kind == "methodology", p.methodology_codes.like(literal("%|") + w.value + literal("|%")))
    ).where(c.kind != "totals_changed")
    rows: dict = {}
    for q in (by_project, by_country, by_method):
        for r in conn.execute(q).mappings():
            rows[(r["user_id"], r["change_id"])] = r
    # Beneficiary watches look at this snapshot's new retirements
    e = credit_events.c
    ben = (
        select(
            w.user_id,
            c.id.label("change_id"),
            c.project_id,
            p.name,
            w.value.label("beneficiary"),
            func.sum(e.quantity).label("quantity"),
        )
        .select_from(watches)
        .join(
            credit_events,
            and_(
                e.snapshot_id == snapshot_id,
                e.type == "retirement",
                func.lower(e.beneficiary).like(literal("%") + func.lower(w.value) + literal("%")),
            ),
        )
        .join(changes, and_(c.snapshot_id == snapshot_id, c.kind == "new_events", c.project_id == e.project_id))
        .join(projects, p.id == e.project_id)
        .where(w.kind == "beneficiary")
        .group_by(w.user_id, c.id, c.project_id, p.name, w.value)
    )
    extra: dict = {}
    for r in conn.execute(ben).mappings():
        key = (r["user_id"], r["change_id"])
        extra[key] = (
            f"{r['project_id']} {r['name'] or ''}: {r['quantity']:,} credits retired for {r['beneficiary']}".strip()
        )
        rows.setdefault(
            key,
            {
                "user_id": r["user_id"],
                "change_id": r["change_id"],
                "kind": "new_events",
                "project_id": r["project_id"],
                "detail": None,
                "name": r["name"],
            },
        )
    if not rows:
        return 0
    now = datetime.now(UTC)
    out = []
    for key, r in rows.items():
        title = extra.get(key) or _describe(r["kind"], r["detail"], r["project_id"], r["name"])
        out.append(
            {
                "user_id": r["user_id"],
                "change_id": r["change_id"],
                "created_at": now,
                "title": title,
                "body": None,
                "link": f"/projects/{r['project_id']}",
            }
        )
    import pandas as pd

    frame = pd.DataFrame(out).assign(created_at=timestamp_text(conn, now))
    insert_frame(conn, notifications.name, frame, ["user_id", "change_id", "created_at", "title", "body", "link"])
    _digests(conn, out)
    return len(out)


def _digests(conn: Connection, items: list[dict]) -> None:
    per_user: dict[int, list[str]] = defaultdict(list)
    for it in items:
        per_user[it["user_id"]].append(it["title"])
    site = get_settings().site_url
    emails = dict(conn.execute(select(users.c.id, users.c.email).where(users.c.id.in_(list(per_user)))).all())
    for uid, titles in per_user.items():
        lines = "\n".join(f"- {t}" for t in titles[:50])
        more = f"\n... and {len(titles) - 50} more" if len(titles) > 50 else ""
        enqueue(
            conn,
            emails[uid],
            f"CarbonScope: {len(titles)} update{'s' if len(titles) != 1 else ''} on your watchlist",
            f"{lines}{more}\n\nSee them all: {site}/account/notifications",
        )


def list_for(conn: Connection, user_id: int, limit: int = 100, unread_only: bool = False) -> list[dict]:
    n = notifications.c
    q = select(n.id, n.created_at, n.title, n.body, n.link, n.read_at).where(n.user_id == user_id)
    if unread_only:
        q = q.where(n.read_at.is_(None))
    return [dict(r) for r in conn.execute(q.order_by(n.id.desc()).limit(limit)).mappings()]


def unread_count(conn: Connection, user_id: int) -> int:
    n = notifications.c
    return conn.execute(select(func.count()).where(n.user_id == user_id, n.read_at.is_(None))).scalar_one()


def mark_read(conn: Connection, user_id: int) -> None:
    from sqlalchemy import update

    conn.execute(
        update(notifications)
        .where(notifications.c.user_id == user_id, notifications.c.read_at.is_(None))
        .values(read_at=datetime.now(UTC))
    )
