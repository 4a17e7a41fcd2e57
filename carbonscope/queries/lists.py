"""Paginated, sorted lists of projects and credit events, their facets, and streamed exports."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import JSON, Boolean, Connection, String, case, func, literal, select, type_coerce

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


def project_query(filters: ProjectFilters, sort: str | None):
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


def events_query(filters: EventFilters, sort: str | None):
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


def stream_rows(conn: Connection, query, batch: int = 5000) -> Iterator[Sequence[Any]]:
    """The rows of ``query`` in batches through a server-side cursor: memory stays flat."""
    result = conn.execution_options(stream_results=True, yield_per=batch).execute(query)
    yield from result.partitions(batch)


def stream_raw_rows(conn: Connection, query, batch: int = 10_000) -> Iterator[list[tuple]]:
    """Like :func:`stream_rows` but through the driver's own cursor, without per-value type
    processing (SQLite then returns dates as ISO text): the fast path for CSV exports."""
    compiled = query.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    params = compiled.params
    if compiled.positional:
        args = tuple(params[name] for name in compiled.positiontup)
    else:
        args = params
    raw: Any = conn.connection.driver_connection
    if conn.dialect.name == "postgresql":
        cur = raw.cursor(name="carbonscope_export")  # server-side cursor: rows arrive batch by batch
        cur.itersize = batch
    else:
        cur = raw.cursor()
    try:
        cur.execute(str(compiled), args)
        while part := cur.fetchmany(batch):
            yield part
    finally:
        cur.close()


# OWASP's rule for CSV injection: a cell that a spreadsheet would read as a formula starts with one
# of these; the export prefixes it with a single quote so it is shown as text, never evaluated.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def sanitised(query):
    """``query`` with every text column made safe for spreadsheets (one rule for CSV, Excel and Parquet):
    registry text (names, proponents, beneficiaries, notes) is not ours to trust."""
    out = []
    for col in query.selected_columns:
        if isinstance(col.type, String) and not isinstance(col.type, JSON):
            safe = case(
                (func.substr(col, 1, 1).in_(FORMULA_STARTS), type_coerce(literal("'"), String) + col), else_=col
            )
            out.append(type_coerce(safe, col.type).label(col.name))
        else:
            out.append(col)
    return query.with_only_columns(*out)


def _export_columns(query) -> list:
    """The query's columns for export: booleans as 'true'/'false' on every database."""
    out = []
    for col in query.selected_columns:
        if isinstance(col.type, Boolean):
            out.append(case((col.is_(True), "true"), (col.is_(False), "false")).label(col.name))
        else:
            out.append(col)
    return out


def csv_lines(conn: Connection, query, batch: int = 20_000) -> Iterator[bytes]:
    """The rows of ``query`` as CSV text (no header), formatted without a Python object per value.

    PostgreSQL streams ``COPY (query) TO STDOUT WITH CSV``. A SQLite file whose export has only text,
    integer, date and boolean columns is read as Arrow batches (ADBC) and written by Arrow's CSV
    writer; other SQLite queries (JSON or float columns) go through the driver's raw rows and the C
    csv writer.
    """
    cols = _export_columns(query)
    if conn.dialect.name == "postgresql":
        compiled = query.with_only_columns(*cols).compile(
            dialect=conn.dialect, compile_kwargs={"render_postcompile": True}
        )
        pg: Any = conn.connection.driver_connection
        cur = pg.cursor()
        with cur.copy(f"COPY ({compiled}) TO STDOUT WITH (FORMAT csv)", compiled.params) as copy:
            pending: list[bytes] = []
            size = 0
            for data in copy:
                pending.append(bytes(data))
                size += len(data)
                if size > 1 << 20:
                    yield b"".join(pending)
                    pending, size = [], 0
            if pending:
                yield b"".join(pending)
        return
    from carbonscope.queries import arrow_export

    if arrow_export.supported(conn, query):
        yield from arrow_export.csv_batches(conn, query)
        return
    import csv
    import io

    json_cols = [i for i, c in enumerate(query.selected_columns) if c.name in ("methodologies", "sdgs")]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    for part in stream_raw_rows(conn, query.with_only_columns(*cols), batch):
        if json_cols:  # JSON text as stored; compact it the same way on every row
            part = [
                tuple(
                    json.dumps(json.loads(v), ensure_ascii=False) if i in json_cols and v else v
                    for i, v in enumerate(row)
                )
                for row in part
            ]
        buf.seek(0)
        buf.truncate()
        writer.writerows(part)
        yield buf.getvalue().encode()
