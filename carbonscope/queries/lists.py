"""Paginated, sorted lists of projects and credit events and their facets; the queries behind each
list (``project_query``, ``events_query``) are what the export package streams."""

from __future__ import annotations

from sqlalchemy import Connection, Select, extract, func, select

from carbonscope.db.schema import credit_events, projects
from carbonscope.queries.filters import EVENT_SORTS, PROJECT_SORTS, EventFilters, Page, ProjectFilters, parse_sort
from carbonscope.registry.base import EVENT_FIELDS

PROJECT_LIST_COLUMNS = [
    "id",
    "registry",
    "name",
    "proponent",
    "country",
    "country_name",
    "category",
    "project_type",
    "status",
    "status_raw",
    "methodologies",
    "scope",
    "reduction_removal",
    "issued",
    "retired",
    "cancelled",
    "retired_or_cancelled",
    "buffer",
    "remaining",
    "ledger_complete",
    "listed_at",
    "registered_at",
    "first_vintage",
    "estimated_annual",
    "corsia",
    "ccp",
    "article6",
    "registry_url",
]
# The ledger's fields as the parsers give them (registry.base.EVENT_FIELDS), with the event ID first and
# the source last; the per-event CORSIA flag stays out of lists and exports.
EVENT_COLUMNS = ["id", *(f for f in EVENT_FIELDS if f != "corsia"), "source"]
FACETS = {
    "registry": projects.c.registry,
    "country": projects.c.country,
    "category": projects.c.category,
    "type": projects.c.project_type,
    "status": projects.c.status,
    "reduction_removal": projects.c.reduction_removal,
}


def _page_doc(total: int, page: Page, items: list[dict], sort: str) -> dict:
    pages = max(1, -(-total // page.limit))
    return {"total": total, "page": page.page, "limit": page.limit, "pages": pages, "sort": sort, "items": items}


def project_query(filters: ProjectFilters, sort: str | None) -> Select:
    order = parse_sort(sort, PROJECT_SORTS, "-issued")
    cols = [projects.c[c] for c in PROJECT_LIST_COLUMNS]
    return select(*cols).where(*filters.where()).order_by(*order, projects.c.id)


def _records(result, columns: list[str]) -> list[dict]:
    """Rows as dicts; dates stay ``date`` objects (the JSON encoder writes them as ISO text)."""
    return [dict(zip(columns, row)) for row in result.all()]


def list_projects(conn: Connection, filters: ProjectFilters, page: Page, sort: str | None = None) -> dict:
    q = project_query(filters, sort)
    total = conn.execute(select(func.count()).select_from(projects).where(*filters.where())).scalar_one()
    items = _records(conn.execute(q.limit(page.limit).offset((page.page - 1) * page.limit)), PROJECT_LIST_COLUMNS)
    return _page_doc(total, page, items, sort or "-issued")


def project_facets(conn: Connection, filters: ProjectFilters, limit: int = 300) -> dict:
    """Value counts of each facet under the other filters (so choosing one value keeps its siblings)."""
    out: dict[str, list[dict]] = {}
    for name, col in FACETS.items():
        q = (
            select(col.label("value"), func.count().label("count"))
            .where(*filters.where(skip=name))
            .where(col.is_not(None))
            .group_by(col)
            .order_by(func.count().desc(), col)
            .limit(limit)
        )
        out[name] = [{"value": v, "count": n} for v, n in conn.execute(q)]
    return out


def events_query(filters: EventFilters, sort: str | None) -> Select:
    order = parse_sort(sort, EVENT_SORTS, "-event_date")
    cols = [credit_events.c[c] for c in EVENT_COLUMNS]
    return select(*cols).where(*filters.where()).order_by(*order, credit_events.c.id)


def list_events(conn: Connection, filters: EventFilters, page: Page, sort: str | None = None) -> dict:
    q = events_query(filters, sort)
    total = conn.execute(select(func.count()).select_from(credit_events).where(*filters.where())).scalar_one()
    items = _records(conn.execute(q.limit(page.limit).offset((page.page - 1) * page.limit)), EVENT_COLUMNS)
    doc = _page_doc(total, page, items, sort or "-event_date")
    qty = (
        conn.execute(select(func.coalesce(func.sum(credit_events.c.quantity), 0)).where(*filters.where())).scalar_one()
        if total
        else 0
    )
    doc["quantity"] = int(qty)
    return doc


def project_view_totals(conn: Connection, filters: ProjectFilters) -> dict:
    """The filtered view in figures: credits issued, retired or cancelled and remaining, in all and by
    category, and the projects by year listed (registration, then first issuance, when not listed)."""
    p = projects.c
    where = filters.where()
    sums = [func.coalesce(func.sum(p[k]), 0) for k in ("issued", "retired_or_cancelled", "remaining")]
    issued, retired, remaining = conn.execute(select(*sums).where(*where)).one()
    by_category = [
        {"category": c, "projects": int(n), "issued": int(i), "retired_or_cancelled": int(r)}
        for c, n, i, r in conn.execute(
            select(p.category, func.count(), sums[0], sums[1])
            .where(*where)
            .group_by(p.category)
            .order_by(sums[0].desc())
        )
    ]
    when = func.coalesce(p.listed_at, p.registered_at, p.first_issuance_at)
    year = extract("year", when)
    listed = [
        {"year": int(y), "projects": int(n)}
        for y, n in conn.execute(select(year, func.count()).where(*where, when.is_not(None)).group_by(year))
    ]
    undated = conn.execute(select(func.count()).select_from(projects).where(*where, when.is_(None))).scalar_one()
    return {
        "issued": int(issued),
        "retired_or_cancelled": int(retired),
        "remaining": int(remaining),
        "by_category": by_category,
        "listed": listed,
        "undated": int(undated),
    }
