"""The change feed: what an ingest run changed, compared with the state before it."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlalchemy import Connection, select

from carbonscope.db.schema import projects
from carbonscope.ingest.staging import affected

WATCHED = ("status", "issued", "retired", "cancelled", "retired_or_cancelled", "buffer", "remaining")


def before_state(conn: Connection) -> pd.DataFrame:
    q = select(projects.c.id, projects.c.name, *[projects.c[c] for c in WATCHED]).join(
        affected, affected.c.id == projects.c.id
    )
    return pd.DataFrame(conn.execute(q).all(), columns=["id", "name", *WATCHED]).set_index("id")


def diff(
    before: pd.DataFrame,
    after: pd.DataFrame,
    new_events: pd.DataFrame,
    updated_events: int,
    now: datetime,
    snapshot_id: int,
) -> list[dict]:
    out: list[dict] = []

    def add(kind, pid, detail):
        out.append({"snapshot_id": snapshot_id, "created_at": now, "kind": kind, "project_id": pid, "detail": detail})

    after = after.set_index("id")
    is_new = ~after.index.isin(before.index)
    fresh = after.loc[is_new]
    for pid, name, reg, status in zip(fresh.index, fresh["name"], fresh["registry"], fresh["status"]):
        add(
            "new_project",
            pid,
            {"name": None if pd.isna(name) else name, "registry": reg, "status": None if pd.isna(status) else status},
        )
    both = after.loc[~is_new, list(WATCHED)].join(before[list(WATCHED)], rsuffix="_old")
    status_old, status_new = both["status_old"].fillna(""), both["status"].fillna("")
    for pid in both.index[status_old != status_new]:
        add("status_changed", pid, {"from": both.at[pid, "status_old"], "to": both.at[pid, "status"]})

    def num(v):
        return None if v is None or pd.isna(v) else int(v)

    diffs = pd.DataFrame(
        {c: [num(a) != num(b) for a, b in zip(both[c], both[c + "_old"])] for c in WATCHED[1:]}, index=both.index
    )
    for pid in both.index[diffs.any(axis=1)]:
        add(
            "totals_changed",
            pid,
            {c: [num(both.at[pid, c + "_old"]), num(both.at[pid, c])] for c in WATCHED[1:] if diffs.at[pid, c]},
        )
    if not new_events.empty:
        for pid, g in new_events.groupby("project_id"):
            add(
                "new_events",
                pid,
                {t: {"count": int(n), "quantity": int(q or 0)} for t, n, q in zip(g["type"], g["n"], g["quantity"])},
            )
    if updated_events:
        add("events_updated", None, {"count": updated_events})
    return out


def retractions(gone: pd.DataFrame, delisted: list[tuple[str, str]], now: datetime, snapshot_id: int) -> list[dict]:
    """``event_retracted`` and ``event_corrected`` per project, ``project_delisted`` per record."""
    out: list[dict] = []
    if len(gone):
        for (pid, kind), g in gone.groupby(["project_id", "retraction"]):
            detail = {
                "count": len(g),
                "quantity": int(g["quantity"].sum()),
                "source": g["source"].iloc[0],
                "events": [
                    {"id": i, "type": t, "quantity": int(q), "serial": s, "superseded_by": b}
                    for i, t, q, s, b in zip(g["id"], g["type"], g["quantity"], g["serial"], g["superseded_by"])
                ][:50],
            }
            out.append(
                {
                    "snapshot_id": snapshot_id,
                    "created_at": now,
                    "kind": "event_" + kind,
                    "project_id": pid,
                    "detail": detail,
                }
            )
    for pid, source in delisted:
        out.append(
            {
                "snapshot_id": snapshot_id,
                "created_at": now,
                "kind": "project_delisted",
                "project_id": pid,
                "detail": {"source": source},
            }
        )
    return out
