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

from carbonscope.db.bulk import insert_frame
from carbonscope.db.schema import (
    credit_events,
    project_series,
    reconciliation,
    source_files,
    stated_totals,
    vintage_totals,
)
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
            func.max(case((e.c.corsia.is_(True), 1), (e.c.corsia.is_(False), 0))),
        )
        .join(affected, affected.c.id == e.c.project_id)
        .group_by(e.c.project_id, vint)
    )
    cols = [
        "project_id",
        "vintage",
        "issued",
        "retired",
        "cancelled",
        "buffer",
        "first_issuance_at",
        "first_retirement_at",
        "corsia",
    ]
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
    df = pd.DataFrame(
        conn.execute(q).mappings().all(),
        columns=["id", "issued", "retired", "cancelled", "buffer", "first_issuance_at", "first_retirement_at"],
    )
    for c in ("issued", "retired", "cancelled", "buffer"):
        df[c] = df[c].astype(np.int64)
    df["remaining"] = df["issued"] - df["retired"] - df["cancelled"]
    df["totals_source"] = "events"
    return df


def stated(conn: Connection) -> pd.DataFrame:
    st = stated_totals
    q = select(st.c.project_id, st.c.source, st.c.metric, st.c.value, st.c.file_id, st.c.row).join(
        affected, affected.c.id == st.c.project_id
    )
    return pd.DataFrame(conn.execute(q).all(), columns=["project_id", "source", "metric", "value", "file_id", "row"])


# Which stated figure stands for which effective metric. VROD's "retired" and OffsetsDB's
# "retired" both include cancellations.
STATED_AS = {
    "issued": "issued",
    "retired_cancelled": "retired_or_cancelled",
    "retired": "retired_or_cancelled",
    "buffer": "buffer",
}


def _source_rank(source: str) -> int:
    """Precedence of stated totals: the registry's own projects export, then VROD, then OffsetsDB."""
    if source in BULK_SOURCES:
        return 20 + BULK_SOURCES.index(source)
    return 10 if source.endswith("/projects") else 90


def best_stated(st: pd.DataFrame, files: dict[int, str]) -> dict[tuple[str, str], dict]:
    """Per (project, metric): the first stated figure in precedence order, with its source, file and row."""
    if st.empty:
        return {}
    st = st[st["metric"].isin(list(STATED_AS)) & (st["source"].map(_source_rank) < 90)].copy()
    if st.empty:
        return {}
    st["as"] = st["metric"].map(STATED_AS)
    st["rank"] = st["source"].map(_source_rank)
    st = st.sort_values(["project_id", "as", "rank"], kind="stable").drop_duplicates(["project_id", "as"])
    return {
        (p, m): {"value": int(v), "source": s, "file": files.get(int(f)), "row": None if pd.isna(r) else int(r)}
        for p, m, v, s, f, r in zip(st["project_id"], st["as"], st["value"], st["source"], st["file_id"], st["row"])
    }


LEDGER_PARTIAL = "the ledger holds less than this statement (a partial event list)"
LEDGER_CONTRADICTS = "the ledger retires more than it issues: issuances are missing from the exports"


def _pick(metric: str, ledger_value: int | None, stated: dict | None) -> tuple[int, bool, dict]:
    """(value, from the ledger?, rule) for one project and metric."""
    if ledger_value is not None and (stated is None or ledger_value >= stated["value"]):
        rule = {"rule": "ledger", "value": ledger_value, "source": "events"}
        if stated is not None:
            rule["stated"] = stated
        return ledger_value, True, rule
    if stated is not None:
        rule = {"rule": "stated", "value": stated["value"], **{k: stated[k] for k in ("source", "file", "row")}}
        if ledger_value is not None:
            rule.update(ledger=ledger_value, why=LEDGER_PARTIAL)
        return stated["value"], False, rule
    return 0, False, {"rule": "none", "value": 0}


def choose_totals(ledger: pd.DataFrame, best: dict[tuple[str, str], dict], ids: list[str]) -> pd.DataFrame:
    """Effective totals per project and the rule that chose each (see docs/data-model.md, Totals).

    Per metric (issued; retired and cancelled, whose sum is what bulk sources state; buffer): the
    ledger's sum where the project has a ledger and no stated total is larger (the ledger reconciles
    with the statement, or is more recent than it); otherwise the best stated total, so a partial
    ledger never replaces a complete statement. Where the statement wins for the retired metric,
    ``retired`` and ``cancelled`` are unknown (null) and ``retired_or_cancelled`` holds the sum.
    """
    led = ledger.set_index("id")[["issued", "retired", "cancelled", "buffer"]].to_dict("index") if len(ledger) else {}
    rows = []
    empty: dict = {}
    for pid in ids:
        found = led.get(pid)
        has = found is not None
        lv: dict = found if found is not None else empty
        issued, ok_i, r_i = _pick("issued", int(lv["issued"]) if has else None, best.get((pid, "issued")))
        roc, ok_r, r_r = _pick(
            "retired_or_cancelled",
            int(lv["retired"] + lv["cancelled"]) if has else None,
            best.get((pid, "retired_or_cancelled")),
        )
        buffer, ok_b, r_b = _pick("buffer", int(lv["buffer"]) if has else None, best.get((pid, "buffer")))
        rules = {"issued": r_i, "retired_or_cancelled": r_r, "buffer": r_b}
        complete = has and ok_i and ok_r and ok_b
        if has and ok_i and int(lv["retired"] + lv["cancelled"]) > int(lv["issued"]):
            complete = False
            r_i["why"] = LEDGER_CONTRADICTS
        source: str | None
        if complete:
            source = "events"
        elif r_i["rule"] == "stated":
            source = r_i["source"].split("/")[0]
        else:
            source = "events" if has else None
        rows.append(
            {
                "id": pid,
                "issued": issued,
                # unknown (null) where a statement gives only their sum; nothing known anywhere is 0
                "retired": int(lv["retired"]) if ok_r else (0 if r_r["rule"] == "none" else None),
                "cancelled": int(lv["cancelled"]) if ok_r else (0 if r_r["rule"] == "none" else None),
                "retired_or_cancelled": roc,
                "buffer": buffer,
                "remaining": issued - roc,
                "ledger_complete": bool(complete),
                "totals_source": source,
                "totals_rules": rules,
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "id",
            "issued",
            "retired",
            "cancelled",
            "retired_or_cancelled",
            "buffer",
            "remaining",
            "ledger_complete",
            "totals_source",
            "totals_rules",
        ],
    )


def project_totals(conn: Connection, ids: list[str], ev: pd.DataFrame, st: pd.DataFrame) -> pd.DataFrame:
    """Effective totals of ``ids`` from the ledger sums ``ev`` (:func:`event_totals`) and the
    statements ``st`` (:func:`stated`), read once per run and shared with :func:`reconcile`."""
    file_ids = [int(i) for i in st["file_id"].unique()] if len(st) else []
    files = (
        dict(conn.execute(select(source_files.c.id, source_files.c.path).where(source_files.c.id.in_(file_ids))).all())
        if file_ids
        else {}
    )
    tot = choose_totals(ev, best_stated(st, files), ids)
    tot = tot.merge(ev[["id", "first_issuance_at", "first_retirement_at"]], on="id", how="left")
    for c in ("issued", "retired_or_cancelled", "buffer", "remaining"):
        tot[c] = tot[c].astype(np.int64)
    for c in ("retired", "cancelled"):
        tot[c] = tot[c].astype("Int64")
    return tot


def rebuild_vintage_totals(conn: Connection, complete: set[str]) -> None:
    """Per-vintage totals of the affected projects: from events where the ledger is complete (or
    nothing else is known), else VROD's yearly series (retired there includes cancelled)."""
    conn.execute(delete(vintage_totals).where(vintage_totals.c.project_id.in_(select(affected.c.id))))
    s = project_series
    q = (
        select(s.c.project_id, s.c.series, s.c.year, s.c.quantity)
        .join(affected, affected.c.id == s.c.project_id)
        .where(s.c.series.in_(["issued_by_vintage", "remaining_by_vintage"]))
    )
    ser = pd.DataFrame(conn.execute(q).all(), columns=["project_id", "series", "year", "quantity"])
    ser = ser[~ser["project_id"].isin(complete)]
    v = vintage_agg
    corsia = case((v.c.corsia == 1, True), (v.c.corsia == 0, False))
    q = select(
        v.c.project_id,
        v.c.vintage,
        v.c.issued,
        v.c.retired,
        v.c.cancelled,
        v.c.buffer,
        v.c.issued - v.c.retired - v.c.cancelled,
        literal("events"),
        corsia,
    )
    with_series = sorted(set(ser["project_id"]))
    if with_series:
        q = q.where(v.c.project_id.not_in(with_series))
    conn.execute(
        insert(vintage_totals).from_select(
            ["project_id", "vintage", "issued", "retired", "cancelled", "buffer", "remaining", "source", "corsia"], q
        )
    )
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
    insert_frame(
        conn,
        vintage_totals.name,
        out.astype({c: np.int64 for c in TOTALS}),
        ["project_id", "vintage", *TOTALS, "source"],
    )


METRIC_OF = {
    "issued": "issued",
    "retired_cancelled": "retired+cancelled",
    "retired": "retired+cancelled",
    "cancelled": "cancelled",
    "buffer": "buffer",
    "remaining": "remaining",
}


def reconcile(conn: Connection, totals: pd.DataFrame, snapshot_id: int, ledger: pd.DataFrame, st: pd.DataFrame) -> int:
    """Store every stated total that differs from what CarbonScope holds for it, like with like.

    A statement is compared with the ledger's own sum where the project has a ledger (so a partial
    ledger shows as a difference against the statement that was chosen instead of it), else with
    the effective total; a statement is never compared with itself (the rule chose it).
    """
    conn.execute(delete(reconciliation).where(reconciliation.c.project_id.in_(select(affected.c.id))))
    if st.empty:
        return 0
    ledger = ledger.set_index("id")
    t = totals.set_index("id")
    eff = {
        "issued": t["issued"],
        "retired+cancelled": t["retired_or_cancelled"],
        "cancelled": t["cancelled"].astype("Float64"),
        "buffer": t["buffer"],
        "remaining": t["remaining"],
    }
    led = {
        "issued": ledger["issued"],
        "retired+cancelled": ledger["retired"] + ledger["cancelled"],
        "cancelled": ledger["cancelled"],
        "buffer": ledger["buffer"],
        "remaining": ledger["remaining"],
    }
    st = st[st["metric"].isin(list(METRIC_OF))].copy()
    st["computed"] = np.nan
    has_ledger = st["project_id"].isin(ledger.index)
    for metric in eff:
        rows = st["metric"].map(METRIC_OF) == metric
        a = rows & has_ledger
        st.loc[a, "computed"] = led[metric].reindex(st.loc[a, "project_id"]).astype(float).to_numpy()
        b = rows & ~has_ledger
        st.loc[b, "computed"] = (
            pd.to_numeric(eff[metric].reindex(st.loc[b, "project_id"]), errors="coerce").astype(float).to_numpy()
        )
    # Not against itself: the statement that a rule chose for this project and metric.
    chosen = set()
    for pid, rules in zip(t.index, t["totals_rules"]):
        for m, r in (rules or {}).items():
            if r.get("rule") == "stated":
                chosen.add((pid, r["source"], {"retired_or_cancelled": "retired+cancelled"}.get(m, m)))
    key = list(zip(st["project_id"], st["source"], st["metric"].map(METRIC_OF)))
    st = st[np.array([k not in chosen for k in key], dtype=bool) & st["computed"].notna().to_numpy()]
    st = st[
        ~(
            (~st["project_id"].isin(ledger.index))
            & st["source"].isin(BULK_SOURCES)
            & (st["source"].str.split("/").str[0] == t["totals_source"].reindex(st["project_id"]).to_numpy())
        )
    ]
    st["difference"] = st["value"].astype(np.int64) - st["computed"].astype(np.int64)
    diff = st[st["difference"] != 0].rename(columns={"value": "stated"})
    diff = diff.assign(snapshot_id=snapshot_id, computed=diff["computed"].astype(np.int64))
    insert_frame(
        conn,
        reconciliation.name,
        diff,
        ["project_id", "source", "metric", "stated", "computed", "difference", "snapshot_id"],
    )
    return len(diff)
