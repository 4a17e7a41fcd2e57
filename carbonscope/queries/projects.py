"""One project, with its totals, vintages, yearly series, provenance and events."""

from __future__ import annotations

from sqlalchemy import Connection, func, select

from carbonscope.db.schema import changes, credit_events, event_history, project_series, projects, vintage_totals
from carbonscope.errors import NotFoundError
from carbonscope.jsonsafe import json_safe
from carbonscope.registry.codes import normalise_id

TOTAL_FIELDS = ("issued", "retired", "cancelled", "retired_or_cancelled", "buffer", "remaining")
VINTAGE_FIELDS = ("issued", "retired", "cancelled", "buffer", "remaining")
HIDDEN = {"search_text", "provenance", "sources", "totals_rules", *TOTAL_FIELDS}
PUBLIC_FIELDS = [c.name for c in projects.columns if c.name not in HIDDEN]


def project_detail(conn: Connection, project_id: str, *, events_limit: int | None = 0) -> dict:
    """The project's fields (``id``, ``registry``, ``name``, ``country`` alpha-2, ``status``, ...),
    ``totals``, ``vintages``, ``series``, ``sources`` and ``provenance``; events if ``events_limit``."""
    pid = normalise_id(project_id)
    row = conn.execute(select(projects).where(projects.c.id == pid)).mappings().first()
    if row is None:
        raise NotFoundError(f"no project {project_id!r}")
    out = {k: json_safe(row[k]) for k in PUBLIC_FIELDS}
    # retired and cancelled are null where a source states only their sum (retired_or_cancelled)
    out["totals"] = {k: None if row[k] is None else int(row[k]) for k in TOTAL_FIELDS}
    out["totals_source"] = row["totals_source"]
    out["totals_rules"] = row["totals_rules"] or {}
    v = vintage_totals
    out["vintages"] = [
        dict(r)
        for r in conn.execute(
            select(v.c.vintage, *[v.c[k] for k in VINTAGE_FIELDS], v.c.source, v.c.corsia)
            .where(v.c.project_id == pid)
            .order_by(v.c.vintage)
        ).mappings()
    ]
    s = project_series
    series: dict[str, dict[int, int]] = {}
    for name, year, qty in conn.execute(
        select(s.c.series, s.c.year, s.c.quantity).where(s.c.project_id == pid).order_by(s.c.series, s.c.year)
    ):
        series.setdefault(name, {})[int(year)] = int(qty)
    out["series"] = series
    out["sources"] = row["sources"]
    out["provenance"] = _field_provenance(row["provenance"])
    out["event_count"] = conn.execute(
        select(func.count()).select_from(credit_events).where(credit_events.c.project_id == pid)
    ).scalar_one()
    h = event_history
    hq = select(
        h.c.id,
        h.c.type,
        h.c.quantity,
        h.c.vintage,
        h.c.event_date,
        h.c.serial,
        h.c.retraction,
        h.c.retracted_snapshot,
        h.c.superseded_by,
        h.c.source,
    )
    # Events a newer export no longer holds or holds corrected: out of the totals, kept here
    out["retracted_events"] = [
        {k: json_safe(val) for k, val in r.items()}
        for r in conn.execute(
            hq.where(h.c.project_id == pid).order_by(h.c.retracted_snapshot.desc(), h.c.id).limit(100)
        ).mappings()
    ]
    if events_limit:
        e = credit_events
        q = select(e).where(e.c.project_id == pid).order_by(e.c.event_date.desc(), e.c.id).limit(events_limit)
        out["events"] = [{k: json_safe(val) for k, val in r.items()} for r in conn.execute(q).mappings()]
    return out


def _field_provenance(prov: dict | None) -> dict:
    """{"records": [...], "fields": {field: i}} -> {field: record}."""
    if not prov:
        return {}
    recs = prov.get("records", [])
    out = {}
    for f, i in prov.get("fields", {}).items():
        if i >= len(recs):
            continue
        rec = {k: v for k, v in recs[i].items() if k != "flag_rows"}
        rows = (recs[i].get("flag_rows") or {}).get(f)
        if rows:
            rec["row"], rec["rows"] = (
                rows[0],
                rows,
            )  # every row of the file that gave this flag, not the project's last row
        out[f] = rec
    return out


def project_changes(conn: Connection, project_id: str, limit: int = 100) -> list[dict]:
    c = changes
    q = (
        select(c.c.created_at, c.c.kind, c.c.detail, c.c.snapshot_id)
        .where(c.c.project_id == normalise_id(project_id))
        .order_by(c.c.id.desc())
        .limit(limit)
    )
    return [{k: json_safe(v) for k, v in r.items()} for r in conn.execute(q).mappings()]
