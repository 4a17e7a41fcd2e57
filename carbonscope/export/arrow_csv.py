"""CSV exports from a SQLite file through Arrow: ADBC reads record batches, Arrow's writer formats them.

Python's sqlite3 builds an object per value, which caps an export near 120,000 rows/s before any
formatting; the ADBC SQLite driver fills Arrow arrays in C and Arrow's CSV writer formats them in
C++. The driver infers each column's type from its first batch, so a text column that is NULL
throughout the first batch would be taken for an integer and the export would fail on the first
text value. Every text column is therefore read as ``coalesce(CAST(col AS TEXT), marker)`` and the
marker is turned back into NULL in Arrow; integer columns are cast to INTEGER (NULL fits int64).
Queries with other column types (floats, JSON) use the csv-module path of ``csv.csv_lines``.

Output: Arrow quotes every non-null text value (valid RFC 4180 CSV; a NULL is an empty field, an
empty text is ``""``); integers, dates and booleans read back the same as from PostgreSQL's COPY.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, Connection, Date, Integer, Select, String, Text, case, cast, func, literal
from sqlalchemy.sql.elements import ColumnElement

NULL_MARK = (
    "\x00carbonscope-null\x00"  # stands for NULL while the driver infers types; no registry value holds NUL bytes
)
TEXT_TYPES = (String, Text, Date, Boolean)
INT_TYPES = (Integer, BigInteger)


def _driver():
    try:
        import adbc_driver_sqlite.dbapi as adbc
    except ImportError:  # optional speed-up: the csv-module path still works
        return None
    return adbc


def supported(conn: Connection, query: Select) -> bool:
    """True when ``query`` runs on a SQLite file and every column is text, integer, date or boolean."""
    if conn.dialect.name != "sqlite" or _driver() is None:
        return False
    db = conn.engine.url.database
    if not db or db == ":memory:" or db.startswith("file:"):
        return False
    return all(isinstance(c.type, TEXT_TYPES + INT_TYPES) for c in query.selected_columns)


def _typed(col) -> ColumnElement:
    if isinstance(col.type, INT_TYPES):
        return cast(col, Integer).label(col.name)
    text: ColumnElement
    if isinstance(col.type, Boolean):
        text = case((col.is_(True), "true"), (col.is_(False), "false"))
    else:
        text = cast(col, Text)
    return func.coalesce(text, literal(NULL_MARK)).label(col.name)


def _param(value):
    """A bound value as SQLAlchemy stores it in SQLite (dates as ISO text)."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value


def compile_sqlite(conn: Connection, query: Select) -> tuple[str, tuple]:
    compiled = query.with_only_columns(*[_typed(c) for c in query.selected_columns]).compile(
        dialect=conn.dialect, compile_kwargs={"render_postcompile": True}
    )
    params = compiled.params
    names = compiled.positiontup or []
    return str(compiled), tuple(_param(params[n]) for n in names)


def csv_batches(conn: Connection, query: Select, batch: int = 20_000) -> Iterator[bytes]:
    """CSV text of ``query`` (no header), one chunk per Arrow batch of ``batch`` rows."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pcsv

    sql, args = compile_sqlite(conn, query)
    adbc = _driver()
    # A connection of its own, read-only: a single SELECT sees one consistent snapshot in WAL mode.
    con = adbc.connect(f"file:{conn.engine.url.database}?mode=ro")
    try:
        cur = con.cursor()
        cur.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": str(batch)})
        cur.execute(sql, args if args else None)
        reader = cur.fetch_record_batch()
        sink = io.BytesIO()
        writer = None
        null_text = pa.scalar(None, pa.string())
        for rb in reader:
            cols = []
            for arr in rb.columns:
                if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
                    arr = pc.if_else(pc.equal(arr, NULL_MARK), null_text, arr)
                cols.append(arr)
            rb = pa.RecordBatch.from_arrays(cols, names=rb.schema.names)
            if writer is None:
                writer = pcsv.CSVWriter(sink, rb.schema, write_options=pcsv.WriteOptions(include_header=False))
            writer.write_batch(rb)
            data = sink.getvalue()
            sink.seek(0)
            sink.truncate()
            if data:
                yield data
        if writer is not None:
            writer.close()
        cur.close()
    finally:
        con.close()
