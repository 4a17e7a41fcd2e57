"""Export a filtered list of projects or credit events to a file (CSV, Parquet or Excel), the same
rows and cells the web's download gives for the same filters."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ValidationError
from sqlalchemy import Engine, Select, func, select

from carbonscope import export
from carbonscope.errors import InvalidField, first_problem
from carbonscope.progress import NullProgress, Progress
from carbonscope.queries import lists
from carbonscope.queries.filters import EVENT_SORTS, PROJECT_SORTS, EventFilters, ProjectFilters, from_pairs, parse_sort


@dataclass
class ExportReport:
    path: Path
    format: export.Format
    rows: int
    bytes: int
    sort: str


def _query(what: str, pairs: Iterable[tuple[str, str]], sort: str | None) -> tuple[Select, str]:
    model: type[BaseModel]
    if what == "projects":
        model, sorts, default = ProjectFilters, PROJECT_SORTS, "-issued"
    elif what == "credits":
        model, sorts, default = EventFilters, EVENT_SORTS, "-event_date"
    else:
        raise InvalidField("list", f"{what!r}: choose projects or credits")
    try:
        filters = from_pairs(model, pairs)
    except ValidationError as exc:
        name, msg, given = first_problem(exc, "filter")
        raise InvalidField(name, f"{msg} (got {given!r})") from exc
    try:
        parse_sort(sort, sorts, default)
    except ValueError as exc:
        raise InvalidField("sort", str(exc)) from exc
    sort = sort or default
    if isinstance(filters, ProjectFilters):
        return lists.project_query(filters, sort), sort
    assert isinstance(filters, EventFilters)
    return lists.events_query(filters, sort), sort


def export_list(
    engine: Engine,
    what: str,
    path: Path,
    *,
    filters: Iterable[tuple[str, str]] = (),
    sort: str | None = None,
    fmt: export.Format | None = None,
    progress: Progress | None = None,
) -> ExportReport:
    """Write the list ``what`` under ``filters`` (name, value pairs as the API takes them) to ``path``;
    the format is ``fmt`` or the file's suffix. A failed export leaves no file behind."""
    progress = progress or NullProgress()
    fmt = fmt or export.format_of(path.name)
    query, sort = _query(what, filters, sort)
    with engine.connect() as conn:
        rows = conn.execute(select(func.count()).select_from(query.order_by(None).subquery())).scalar_one()
    if fmt == "xlsx" and rows > export.EXCEL_MAX_ROWS:
        raise InvalidField(
            "format", f"{rows:,} rows do not fit an Excel sheet ({export.EXCEL_MAX_ROWS:,}); use csv or parquet"
        )
    task = progress.task(f"exporting {rows:,} {what} to {path.name}", total=None)
    size = export.write(fmt, engine, query, path, title=what)
    progress.update(task, completed=1, total=1)
    return ExportReport(path, fmt, rows, size, sort)
