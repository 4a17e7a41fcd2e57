"""CSV of an export query, formatted without a Python object per value where the database allows."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, Engine, Select

from carbonscope.export import arrow_csv
from carbonscope.export.cells import json_columns, stream_raw_rows, text_booleans
from carbonscope.prefetch import prefetch


def csv_lines(conn: Connection, query: Select, batch: int = 20_000) -> Iterator[bytes]:
    """The rows of ``query`` as CSV text (no header).

    PostgreSQL streams ``COPY (query) TO STDOUT WITH CSV``. A SQLite file whose export has only text,
    integer, date and boolean columns is read as Arrow batches (ADBC) and written by Arrow's CSV
    writer; other SQLite queries (JSON or float columns) go through the driver's raw rows and the C
    csv writer.
    """
    cols = text_booleans(query)
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
    if arrow_csv.supported(conn, query):
        yield from arrow_csv.csv_batches(conn, query)
        return
    json_cols = json_columns(query)
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


def csv_chunks(engine: Engine, query: Select) -> Iterator[bytes]:
    """Header, then the rows; the next chunk is read (in a thread) while this one is sent."""
    yield (",".join(c.name for c in query.selected_columns) + "\n").encode()
    with engine.connect() as conn:
        with conn.begin():
            yield from prefetch(csv_lines(conn, query), depth=2)
