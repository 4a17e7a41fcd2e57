"""Statistics for the API and the pages: yearly series, breakdowns, rankings, freshness.

Yearly issuance and retirement combine the ledger (projects with events) with VROD's yearly series
(projects without events), so the registries' whole history counts once.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, extract, func, not_, select

from carbonscope.db.schema import credit_events, project_series, projects, snapshots, source_files, vintage_totals
from carbonscope.jsonsafe import json_safe
from carbonscope.registry import beneficiaries

BREAKDOWNS = {
    "registry": projects.c.registry,
    "category": projects.c.category,
    "type": projects.c.project_type,
    "country": projects.c.country,
    "status": projects.c.status,
}


def _has_events():
    return projects.c.totals_source == "events"


def by_year(conn: Connection, basis: str = "event_date", registry: Sequence[str] | None = None) -> list[dict]:
    """Issued, retired and cancelled per year of the event (``event_date``) or of the vintage."""
    if basis not in ("event_date", "vintage"):
        raise ValueError("basis must be event_date or vintage")
    reg = [projects.c.registry.in_(registry)] if registry else []
    rows: dict[int, list[int]]
    if basis == "vintage":
        v = vintage_totals.c
        q = (
            select(v.vintage.label("year"), func.sum(v.issued), func.sum(v.retired), func.sum(v.cancelled))
            .join(projects, projects.c.id == v.project_id)
            .where(v.vintage > 0, *reg)
            .group_by(v.vintage)
        )
        rows = {int(y): [int(i or 0), int(r or 0), int(c or 0)] for y, i, r, c in conn.execute(q)}
    else:
        e = credit_events.c
        year = extract("year", e.event_date)
        ev = (
            select(year.label("year"), e.type, func.sum(e.quantity).label("q"))
            .where(e.event_date.is_not(None))
            .where(*([e.registry.in_(registry)] if registry else []))
            .group_by(year, e.type)
        )
        s = project_series.c
        series = (
            select(s.year, s.series, func.sum(s.quantity))
            .join(projects, projects.c.id == s.project_id)
            .where(s.series.in_(["issued_by_issuance_year", "retired_by_year"]), s.year > 0, not_(_has_events()), *reg)
            .group_by(s.year, s.series)
        )
        rows = {}
        for y, t, q in conn.execute(ev):
            slot = {"issuance": 0, "retirement": 1, "cancellation": 2, "conversion": 2}.get(t)
            if slot is not None:
                rows.setdefault(int(y), [0, 0, 0])[slot] += int(q or 0)
        for y, name, q in conn.execute(series):
            rows.setdefault(int(y), [0, 0, 0])[0 if name == "issued_by_issuance_year" else 1] += int(q or 0)
    return [{"year": y, "issued": v[0], "retired": v[1], "cancelled": v[2]} for y, v in sorted(rows.items())]


def breakdown(conn: Connection, dimension: str, registry: Sequence[str] | None = None, limit: int = 300) -> list[dict]:
    if dimension not in BREAKDOWNS:
        raise ValueError(f"unknown dimension {dimension!r}; choose one of {', '.join(BREAKDOWNS)}")
    col = BREAKDOWNS[dimension]
    p = projects.c
    q = (
        select(
            col.label("value"),
            func.count().label("projects"),
            func.sum(p.issued),
            func.sum(p.retired),
            func.sum(p.cancelled),
            func.sum(p.remaining),
            func.sum(p.retired_or_cancelled),
        )
        .where(*([p.registry.in_(registry)] if registry else []))
        .group_by(col)
        .order_by(func.sum(p.issued).desc(), col)
        .limit(limit)
    )
    out = []
    for value, n, i, r, c, rem, roc in conn.execute(q):
        # retired and cancelled: of the projects whose retirements are known apart; retired_or_cancelled: of all
        row = {
            "value": value,
            "projects": int(n),
            "issued": int(i or 0),
            "retired": int(r or 0),
            "cancelled": int(c or 0),
            "remaining": int(rem or 0),
            "retired_or_cancelled": int(roc or 0),
        }
        if dimension == "country":
            row["country_name"] = None
        out.append(row)
    if dimension == "country":
        from carbonscope.registry.countries import country_name

        for row in out:
            row["country_name"] = country_name(row["value"])
    return out


def listings_by_year(conn: Connection) -> list[dict]:
    """Projects by the year they were listed (registration date, then first issuance, when not listed)."""
    p = projects.c
    when = func.coalesce(p.listed_at, p.registered_at, p.first_issuance_at)
    year = extract("year", when)
    q = select(year, p.registry, func.count()).where(when.is_not(None)).group_by(year, p.registry).order_by(year)
    out: dict[int, dict] = {}
    for y, reg, n in conn.execute(q):
        out.setdefault(int(y), {"year": int(y), "projects": 0, "by_registry": {}})
        out[int(y)]["projects"] += int(n)
        out[int(y)]["by_registry"][reg] = int(n)
    return list(out.values())


def undated_projects(conn: Connection) -> dict[str, int]:
    """Projects per registry with no listing, registration or first-issuance date (not in the listings chart)."""
    p = projects.c
    when = func.coalesce(p.listed_at, p.registered_at, p.first_issuance_at)
    return {
        reg: int(n)
        for reg, n in conn.execute(select(p.registry, func.count()).where(when.is_(None)).group_by(p.registry))
    }


def first_dated_cancellation(conn: Connection) -> int | None:
    """The first year with a dated cancellation in the event ledger (older ones exist only inside totals)."""
    e = credit_events.c
    first = conn.execute(
        select(func.min(e.event_date)).where(e.type.in_(["cancellation", "conversion"]), e.event_date.is_not(None))
    ).scalar_one_or_none()
    if first is None:
        return None
    return first.year if hasattr(first, "year") else int(str(first)[:4])


# retired and cancelled are unknown where a source states only their sum: rank by that sum to
# compare every project, by retired alone to rank the projects whose retirements are known.
TOP_METRICS = ("issued", "retired", "retired_or_cancelled", "remaining", "cancelled")


def top_projects(
    conn: Connection, metric: str = "issued", limit: int = 20, registry: Sequence[str] | None = None
) -> list[dict]:
    if metric not in TOP_METRICS:
        raise ValueError(f"metric must be one of {', '.join(TOP_METRICS)}")
    p = projects.c
    q = (
        select(p.id, p.name, p.registry, p.country, p.project_type, p[metric].label("quantity"))
        .where(*([p.registry.in_(registry)] if registry else []))
        .where(p[metric].is_not(None))
        .order_by(p[metric].desc(), p.id)
        .limit(limit)
    )
    return [{k: json_safe(v) for k, v in r.items()} for r in conn.execute(q).mappings()]


def beneficiary_groups(conn: Connection, registry: Sequence[str] | None = None) -> tuple[list[dict], dict]:
    """Retirement beneficiaries harmonised (:mod:`carbonscope.registry.beneficiaries`) and their coverage."""
    e = credit_events.c
    q = (
        select(e.beneficiary, func.sum(e.quantity), func.count(), func.count(e.project_id.distinct()))
        .where(e.type == "retirement", *([e.registry.in_(registry)] if registry else []))
        .group_by(e.beneficiary)
    )
    return beneficiaries.group([(b, int(qty), int(n), int(np)) for b, qty, n, np in conn.execute(q)])


def top_beneficiaries(conn: Connection, limit: int = 20, registry: Sequence[str] | None = None) -> list[dict]:
    """The largest harmonised beneficiaries by quantity retired (from the event ledger); undisclosed
    buyers and notes that are not names are left out (their share is in :func:`beneficiary_groups`)."""
    groups, _ = beneficiary_groups(conn, registry)
    return [
        {
            "beneficiary": g["beneficiary"],
            "quantity": g["quantity"],
            "retirements": g["retirements"],
            "spellings": g["spellings"],
        }
        for g in groups[:limit]
    ]


def summary(conn: Connection) -> dict:
    p = projects.c
    n, issued, retired, cancelled, roc, regs = conn.execute(
        select(
            func.count(),
            func.sum(p.issued),
            func.sum(p.retired),
            func.sum(p.cancelled),
            func.sum(p.retired_or_cancelled),
            func.count(p.registry.distinct()),
        )
    ).one()
    events = conn.execute(select(func.count()).select_from(credit_events)).scalar_one()
    return {
        "projects": int(n),
        "events": int(events),
        "issued": int(issued or 0),
        "retired": int(retired or 0),
        "cancelled": int(cancelled or 0),
        "retired_or_cancelled": int(roc or 0),
        "registries": int(regs),
        "freshness": freshness(conn),
        "data_version": data_version(conn),
    }


def freshness(conn: Connection) -> list[dict]:
    """Per source: the export date of its newest applied file and what that date is based on (the
    file name, the download, or only the file's modification time), and when it was last checked."""
    f = source_files.c
    checked = dict(
        conn.execute(
            select(f.source, func.max(snapshots.c.finished_at))
            .join(snapshots, snapshots.c.id == f.snapshot_id)
            .group_by(f.source)
        ).all()
    )
    q = (
        select(f.source, f.exported_at, f.date_basis, f.retrieved_at)
        .where(f.status == "ingested")
        .order_by(f.source, f.id)
    )
    newest: dict[str, tuple] = {}
    for src, exported, basis, retrieved in conn.execute(q):
        d = exported or retrieved
        if src not in newest or (d is not None and newest[src][0] is not None and d > newest[src][0]):
            newest[src] = (d, basis or "file modified", retrieved)
    return [
        {
            "source": s,
            "exported_at": json_safe(d),
            "date_basis": b,
            "retrieved_at": json_safe(r),
            "checked_at": json_safe(checked.get(s)),
        }
        for s, (d, b, r) in sorted(newest.items())
    ]


def data_version(conn: Connection) -> int:
    """Changes with every committed ingest; caches key on it."""
    return int(conn.execute(select(func.coalesce(func.max(snapshots.c.id), 0))).scalar_one())


def snapshot_history(conn: Connection, limit: int = 50) -> list[dict]:
    s = snapshots.c
    q = select(s.id, s.started_at, s.finished_at, s.command, s.summary).order_by(s.id.desc()).limit(limit)
    out = []
    for r in conn.execute(q).mappings():
        d = {k: json_safe(v) for k, v in r.items()}
        d["files"] = [
            {k: json_safe(v) for k, v in fr.items()}
            for fr in conn.execute(
                select(
                    source_files.c.path,
                    source_files.c.source,
                    source_files.c.kind,
                    source_files.c.status,
                    source_files.c.rows,
                    source_files.c.size,
                    source_files.c.sha256,
                    source_files.c.retrieved_at,
                )
                .where(source_files.c.snapshot_id == r["id"])
                .order_by(source_files.c.id)
            ).mappings()
        ]
        out.append(d)
    return out


def project_yearly(conn: Connection, project_id: str) -> dict:
    """One project's issuance/retirement/cancellation by year of event and by vintage."""
    e = credit_events.c
    year = extract("year", e.event_date)
    by_year: dict[int, dict] = {}
    for y, t, q in conn.execute(
        select(year, e.type, func.sum(e.quantity))
        .where(e.project_id == project_id, e.event_date.is_not(None))
        .group_by(year, e.type)
    ):
        by_year.setdefault(int(y), {"year": int(y), "issued": 0, "retired": 0, "cancelled": 0, "buffer": 0})
        key = {
            "issuance": "issued",
            "retirement": "retired",
            "cancellation": "cancelled",
            "conversion": "cancelled",
            "buffer_deposit": "buffer",
        }[t]
        by_year[int(y)][key] += int(q)
    if not by_year:  # projects without events: VROD's series
        s = project_series.c
        for y, name, q in conn.execute(
            select(s.year, s.series, s.quantity).where(s.project_id == project_id, s.year > 0)
        ):
            series_key = {"issued_by_issuance_year": "issued", "retired_by_year": "retired"}.get(name)
            if series_key:
                by_year.setdefault(int(y), {"year": int(y), "issued": 0, "retired": 0, "cancelled": 0, "buffer": 0})[
                    series_key
                ] += int(q)
    v = vintage_totals.c
    vint = [
        {
            "vintage": int(r.vintage),
            "issued": int(r.issued),
            "retired": int(r.retired),
            "cancelled": int(r.cancelled),
            "remaining": int(r.remaining),
        }
        for r in conn.execute(
            select(v.vintage, v.issued, v.retired, v.cancelled, v.remaining)
            .where(v.project_id == project_id)
            .order_by(v.vintage)
        )
    ]
    return {"by_year": [by_year[y] for y in sorted(by_year)], "by_vintage": vint}
