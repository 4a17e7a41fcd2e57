"""Rows of an export query: safe cells for spreadsheets, and the rows read in flat-memory batches."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import JSON, Boolean, Connection, Select, String, case, func, literal, type_coerce
from sqlalchemy.sql.elements import ColumnElement

# OWASP's rule for CSV injection: a cell that a spreadsheet would read as a formula starts with one
# of these; the export prefixes it with a single quote so it is shown as text, never evaluated.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def sanitised(query: Select) -> Select:
    """``query`` with every text column made safe for spreadsheets (one rule for CSV, Excel and Parquet):
    registry text (names, proponents, beneficiaries, notes) is not ours to trust."""
    out: list[ColumnElement] = []
    for col in query.selected_columns:
        if isinstance(col.type, String) and not isinstance(col.type, JSON):
            safe = case(
                (func.substr(col, 1, 1).in_(FORMULA_STARTS), type_coerce(literal("'"), String) + col), else_=col
            )
            out.append(type_coerce(safe, col.type).label(col.name))
        else:
            out.append(col)
    return query.with_only_columns(*out)


def text_booleans(query: Select) -> list[ColumnElement]:
    """The query's columns with booleans as 'true'/'false', the same on every database."""
    out: list[ColumnElement] = []
    for col in query.selected_columns:
        if isinstance(col.type, Boolean):
            out.append(case((col.is_(True), "true"), (col.is_(False), "false")).label(col.name))
        else:
            out.append(col)
    return out


def json_columns(query: Select) -> list[int]:
    """Positions of the query's JSON columns (lists such as methodologies and SDGs)."""
    return [i for i, c in enumerate(query.selected_columns) if isinstance(c.type, JSON)]


def stream_rows(conn: Connection, query: Select, batch: int = 5000) -> Iterator[Sequence[Any]]:
    """The rows of ``query`` in batches through a server-side cursor: memory stays flat."""
    result = conn.execution_options(stream_results=True, yield_per=batch).execute(query)
    yield from result.partitions(batch)


def stream_raw_rows(conn: Connection, query: Select, batch: int = 10_000) -> Iterator[list[tuple]]:
    """Like :func:`stream_rows` but through the driver's own cursor, without per-value type
    processing (SQLite then returns dates as ISO text): the fast path for CSV exports."""
    compiled = query.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    params = compiled.params
    args = tuple(params[name] for name in compiled.positiontup or ()) if compiled.positional else params
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
