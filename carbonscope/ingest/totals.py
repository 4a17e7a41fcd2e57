"""Totals per project and per project-vintage, and their reconciliation with stated totals.

A project with events in the ledger (from a registry's own export) takes its totals from the
ledger: issued = issuances, retired = retirements, cancelled = cancellations + conversions,
buffer = buffer deposits, remaining = issued - retired - cancelled. A project without events takes
the totals a bulk source states (VROD, whose "retired" includes cancellations; else OffsetsDB).
Every stated total that disagrees with the effective one is stored in ``reconciliation``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy import Connection, case, delete, func, insert, literal, select

from carbonscope.db.schema import credit_events, project_series, reconciliation, stated_totals, vintage_totals
from carbonscope.ingest.bulk import insert_frame
from carbonscope.ingest.staging import affected, vintage_agg

TOTALS = ("issued", "retired", "cancelled", "buffer", "remaining")
BULK_SOURCES = ("vrod/projects", "offsetsdb/projects")  # in precedence order


def _sum_of(*types: str):
    return func.coalesce(func.sum(case((credit_events.c.type.in_(types), credit_events.c.quantity), else_=0)), 0)


def aggregate_events(conn: Connection) -> None:
    """One pass over the ledger of the affected projects: sums per project and vintage."""
    e = credit_events
    vint = func.coalesce(e.c.vintage, 0)
    q = (
        select(
            e.c.project_id,
            vint,
            _sum_of("issuance"),
            _sum_of("retirement"),
            _sum_of("cancellation", "conversion"),
            _sum_of("buffer_deposit"),
            func.min(case((e.c.type == "issuance", e.c.event_date))),
            func.min(case((e.c.type == "retirement", e.c.event_date))),
        )
        .join(affected, affected.c.id == e.c.project_id)
        .group_by(e.c.project_id, vint)
    )
    cols = ["project_id", "vintage", "issued", "retired", "cancelled", "buffer", "first_issuance_at", "first_retirement_at"]
    conn.execute(insert(vintage_agg).from_select(cols, q))


def event_totals(conn: Connection) -> pd.DataFrame:
    v = vintage_agg
    q = select(
        v.c.project_id.label("id"),
        func.sum(v.c.issued).label("issued"),
        func.sum(v.c.retired).label("retired"),
        func.sum(v.c.cancelled).label("cancelled"),
        func.sum(v.c.buffer).label("buffer"),
        func.min(v.c.first_issuance_at).label("first_issuance_at"),
        func.min(v.c.first_retirement_at).label("first_retirement_at"),
    ).group_by(v.c.project_id)
    df = pd.DataFrame(conn.execute(q).mappings().all(), columns=["id", "issued", "retired", "cancelled", "buffer", "first_issuance_at", "first_retirement_at"])
    for c in ("issued", "retired", "cancelled", "buffer"):
        df[c] = df[c].astype(np.int64)
    df["remaining"] = df["issued"] - df["retired"] - df["cancelled"]
    df["totals_source"] = "events"
    return df


def stated(conn: Connection) -> pd.DataFrame:
    q = select(stated_totals.c.project_id, stated_totals.c.source, stated_totals.c.metric, stated_totals.c.value).join(
        affected, affected.c.id == stated_totals.c.project_id
    )
    return pd.DataFrame(conn.execute(q).all(), columns=["project_id", "source", "metric", "value"])


def bulk_totals(st: pd.DataFrame, exclude: set[str]) -> pd.DataFrame:
    """Totals of projects without events, from the first bulk source that states them."""
    frames = []
    done = set(exclude)
    for source in BULK_SOURCES:
        s = st[(st["source"] == source) & ~st["project_id"].isin(done)]
        if s.empty:
            continue
        w = s.pivot_table(index="project_id", columns="metric", values="value", aggfunc="sum")
        out = pd.DataFrame(index=w.index)
        out["issued"] = w.get("issued", 0)
        out["retired"] = w.get("retired_cancelled", w.get("retired", 0))
        out["cancelled"] = 0
        out["buffer"] = w.get("buffer", 0)
        out["remaining"] = w["remaining"] if "remaining" in w else out["issued"] - out["retired"]
        out = out.fillna(0).astype(np.int64)
        out["totals_source"] = source.split("/")[0]
        frames.append(out.reset_index().rename(columns={"project_id": "id"}))
        done |= set(w.index)
    if not frames:
        return pd.DataFrame(columns=["id", *TOTALS, "totals_source"])
    return pd.concat(frames, ignore_index=True)


def project_totals(conn: Connection, ids: list[str]) -> pd.DataFrame:
    ev = event_totals(conn)
    st = stated(conn)
    bulk = bulk_totals(st, set(ev["id"]))
    tot = pd.concat([ev, bulk], ignore_index=True)
    tot = pd.DataFrame({"id": ids}).merge(tot, on="id", how="left")
    for c in TOTALS:
        tot[c] = pd.to_numeric(tot[c], errors="coerce").fillna(0).astype(np.int64)
    return tot


def rebuild_vintage_totals(conn: Connection, event_ids: set[str]) -> None:
    """Per-vintage totals of the affected projects: from events, else VROD's yearly series."""
    conn.execute(delete(vintage_totals).where(vintage_totals.c.project_id.in_(select(affected.c.id))))
    v = vintage_agg
    q = select(v.c.project_id, v.c.vintage, v.c.issued, v.c.retired, v.c.cancelled, v.c.buffer, v.c.issued - v.c.retired - v.c.cancelled, literal("events"))
    conn.execute(insert(vintage_totals).from_select(["project_id", "vintage", "issued", "retired", "cancelled", "buffer", "remaining", "source"], q))
    s = project_series
    q = select(s.c.project_id, s.c.series, s.c.year, s.c.quantity).join(affected, affected.c.id == s.c.project_id).where(
        s.c.series.in_(["issued_by_vintage", "remaining_by_vintage"])
    )
    ser = pd.DataFrame(conn.execute(q).all(), columns=["project_id", "series", "year", "quantity"])
    ser = ser[~ser["project_id"].isin(event_ids)]
    if ser.empty:
        return
    w = ser.pivot_table(index=["project_id", "year"], columns="series", values="quantity", aggfunc="sum").fillna(0)
    issued = w.get("issued_by_vintage", 0)
    remaining = w.get("remaining_by_vintage", 0)
    out = pd.DataFrame({"issued": issued, "remaining": remaining}).reset_index().rename(columns={"year": "vintage"})
    out["retired"] = out["issued"] - out["remaining"]
    out["cancelled"] = 0
    out["buffer"] = 0
    out["source"] = "vrod"
    insert_frame(conn, vintage_totals.name, out.astype({c: np.int64 for c in TOTALS}), ["project_id", "vintage", *TOTALS, "source"])


METRIC_OF = {"issued": "issued", "retired_cancelled": "retired+cancelled", "retired": "retired+cancelled", "cancelled": "cancelled", "buffer": "buffer", "remaining": "remaining"}


def reconcile(conn: Connection, totals: pd.DataFrame, snapshot_id: int) -> int:
    """Store every stated total that differs from the effective total of the affected projects."""
    conn.execute(delete(reconciliation).where(reconciliation.c.project_id.in_(select(affected.c.id))))
    st = stated(conn)
    if st.empty:
        return 0
    t = totals.set_index("id")
    computed = {
        "issued": t["issued"],
        "retired+cancelled": t["retired"] + t["cancelled"],
        "cancelled": t["cancelled"],
        "buffer": t["buffer"],
        "remaining": t["remaining"],
    }
    st = st[st["metric"].isin(METRIC_OF)].copy()
    st["computed"] = 0
    for metric, values in computed.items():
        rows = st["metric"].map(METRIC_OF) == metric
        st.loc[rows, "computed"] = values.reindex(st.loc[rows, "project_id"]).fillna(0).to_numpy()
    # A bulk source is not reconciled against the totals it gave itself.
    own = t["totals_source"].reindex(st["project_id"]).to_numpy()
    st = st[st["source"].str.split("/").str[0] != own]
    st["difference"] = st["value"].astype(np.int64) - st["computed"].astype(np.int64)
    diff = st[st["difference"] != 0].rename(columns={"value": "stated"})
    diff = diff.assign(snapshot_id=snapshot_id)
    insert_frame(conn, reconciliation.name, diff, ["project_id", "source", "metric", "stated", "computed", "difference", "snapshot_id"])
    return len(diff)
