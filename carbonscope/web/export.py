"""Streamed exports of a filtered view: CSV and Parquet row group by row group, Excel spooled.

Rows come from a server-side cursor in batches, so memory stays flat whatever the size.
"""

from __future__ import annotations

import io
import json
import tempfile
import threading
import weakref
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from fastapi.responses import StreamingResponse
from sqlalchemy import Engine
from starlette.background import BackgroundTask

from carbonscope.errors import Busy
from carbonscope.prefetch import prefetch
from carbonscope.queries.lists import csv_lines, sanitised, stream_rows

EXCEL_MAX_ROWS = 1_048_575

MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "parquet": "application/vnd.apache.parquet",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _cell(v):
    if v is None:
        return ""
    if isinstance(v, (list, dict)):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, (date, datetime)):
        return v.isoformat()
    return v


def csv_chunks(engine: Engine, query, columns: list[str]) -> Iterator[bytes]:
    """Header, then the rows; the next chunk is read (in a thread) while this one is sent."""
    yield (",".join(columns) + "\n").encode()
    with engine.connect() as conn:
        with conn.begin():
            yield from prefetch(csv_lines(conn, query), depth=2)


class _Sink(io.RawIOBase):
    """A write-only file that hands over what was written since the last drain."""

    def __init__(self):
        self._parts: list[bytes] = []
        self._pos = 0

    def writable(self):
        return True

    def write(self, b):
        data = bytes(b)
        self._parts.append(data)
        self._pos += len(data)
        return len(data)

    def tell(self):
        return self._pos

    def drain(self) -> bytes:
        out = b"".join(self._parts)
        self._parts.clear()
        return out


def parquet_chunks(engine: Engine, query, schema: pa.Schema) -> Iterator[bytes]:
    sink = _Sink()
    writer = pq.ParquetWriter(pa.PythonFile(sink, mode="w"), schema, compression="zstd")
    names = schema.names
    with engine.connect() as conn:
        for part in stream_rows(conn, query, batch=50_000):
            cols: list[Sequence[Any]] = list(zip(*part)) if part else [[] for _ in names]
            arrays = []
            for name, values in zip(names, cols):
                typ = schema.field(name).type
                if pa.types.is_string(typ):
                    values = [
                        None if v is None else (json.dumps(v) if isinstance(v, (list, dict)) else str(v))
                        for v in values
                    ]
                arrays.append(pa.array(values, type=typ))
            writer.write_table(pa.Table.from_arrays(arrays, schema=schema))
            yield sink.drain()
    writer.close()
    yield sink.drain()


def xlsx_file(engine: Engine, query, columns: list[str], title: str) -> Iterator[bytes]:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title[:31])
    ws.append(columns)
    n = 0
    with engine.connect() as conn:
        for part in stream_rows(conn, query):
            for row in part:
                n += 1
                if n > EXCEL_MAX_ROWS:
                    break
                ws.append([_cell(v) if isinstance(v, (list, dict)) else v for v in row])
    with tempfile.SpooledTemporaryFile(max_size=32 * 1024 * 1024) as tmp:
        wb.save(tmp)
        tmp.seek(0)
        while chunk := tmp.read(1 << 20):
            yield chunk


class ExportSlots:
    """At most ``n`` exports prepared at once in this process (an Excel file of the whole list costs
    seconds of CPU): one more is refused with 503 and Retry-After instead of queueing without end."""

    def __init__(self, n: int):
        self.n = max(1, n)
        self._sem = threading.BoundedSemaphore(self.n)

    def lease(self) -> _Lease:
        if not self._sem.acquire(blocking=False):
            raise Busy(f"{self.n} exports are being prepared right now; try again in a few seconds", retry_after=5)
        return _Lease(self._sem)


class _Lease:
    """Given back once, whichever comes first: the stream ends, the response is done, or it is dropped."""

    def __init__(self, sem: threading.BoundedSemaphore):
        self._sem, self._lock, self._held = sem, threading.Lock(), True

    def release(self) -> None:
        with self._lock:
            if self._held:
                self._held = False
                self._sem.release()


def _leased(body: Iterator[bytes], lease: _Lease) -> Iterator[bytes]:
    try:
        yield from body
    finally:
        lease.release()


def response(
    fmt: str, engine: Engine, query, columns: list[str], schema: pa.Schema, name: str, slots: ExportSlots | None = None
) -> StreamingResponse:
    headers = {"Content-Disposition": f'attachment; filename="{name}.{fmt}"', "Cache-Control": "no-store"}
    lease = slots.lease() if slots is not None else None  # before any work: a refusal costs nothing
    query = sanitised(query)  # every format: no cell a spreadsheet would run as a formula
    if fmt == "csv":
        body = csv_chunks(engine, query, columns)
    elif fmt == "parquet":
        body = parquet_chunks(engine, query, schema)
    else:
        body = xlsx_file(engine, query, columns, name)
    if lease is None:
        return StreamingResponse(body, media_type=MEDIA[fmt], headers=headers)
    body = _leased(body, lease)
    weakref.finalize(body, lease.release)  # a stream never started (client gone) still gives its slot back
    return StreamingResponse(body, media_type=MEDIA[fmt], headers=headers, background=BackgroundTask(lease.release))


PROJECT_SCHEMA_TYPES = {
    "issued": pa.int64(),
    "retired": pa.int64(),
    "cancelled": pa.int64(),
    "retired_or_cancelled": pa.int64(),
    "buffer": pa.int64(),
    "remaining": pa.int64(),
    "ledger_complete": pa.bool_(),
    "first_vintage": pa.int32(),
    "estimated_annual": pa.float64(),
    "listed_at": pa.date32(),
    "registered_at": pa.date32(),
    "corsia": pa.bool_(),
    "ccp": pa.bool_(),
    "article6": pa.bool_(),
}
EVENT_SCHEMA_TYPES = {
    "quantity": pa.int64(),
    "vintage": pa.int32(),
    "vintage_start": pa.date32(),
    "vintage_end": pa.date32(),
    "event_date": pa.date32(),
    "serial_start": pa.int64(),
    "serial_end": pa.int64(),
}


def schema_for(columns: list[str], types: dict) -> pa.Schema:
    return pa.schema([(c, types.get(c, pa.string())) for c in columns])
