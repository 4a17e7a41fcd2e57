"""Parquet of an export query, row group by row group, with Arrow types taken from the schema."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Engine,
    Float,
    Integer,
    Numeric,
    Select,
    SmallInteger,
)
from sqlalchemy.types import TypeEngine

from carbonscope.export.cells import stream_rows


def arrow_type(t: TypeEngine) -> pa.DataType:
    """The Arrow type of a column type of the schema (JSON as its text; anything else as text)."""
    if isinstance(t, BigInteger):
        return pa.int64()
    if isinstance(t, SmallInteger):
        return pa.int16()
    if isinstance(t, Integer):
        return pa.int32()
    if isinstance(t, (Float, Numeric)):
        return pa.float64()
    if isinstance(t, Boolean):
        return pa.bool_()
    if isinstance(t, DateTime):
        return pa.timestamp("us", tz="UTC" if t.timezone else None)
    if isinstance(t, Date):
        return pa.date32()
    return pa.string()


def arrow_schema(query: Select) -> pa.Schema:
    return pa.schema([(c.name, arrow_type(c.type)) for c in query.selected_columns])


class _Sink(io.RawIOBase):
    """A write-only file that hands over what was written since the last drain."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._pos = 0

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        data = bytes(b)
        self._parts.append(data)
        self._pos += len(data)
        return len(data)

    def tell(self) -> int:
        return self._pos

    def drain(self) -> bytes:
        out = b"".join(self._parts)
        self._parts.clear()
        return out


def _text(values: Sequence[Any]) -> list[str | None]:
    return [None if v is None else (json.dumps(v) if isinstance(v, (list, dict)) else str(v)) for v in values]


def parquet_chunks(engine: Engine, query: Select, batch: int = 50_000) -> Iterator[bytes]:
    schema = arrow_schema(query)
    sink = _Sink()
    writer = pq.ParquetWriter(pa.PythonFile(sink, mode="w"), schema, compression="zstd")
    json_names = {c.name for c in query.selected_columns if isinstance(c.type, JSON)}
    with engine.connect() as conn:
        for part in stream_rows(conn, query, batch=batch):
            cols: list[Sequence[Any]] = list(zip(*part)) if part else [[] for _ in schema.names]
            arrays = []
            for field, values in zip(schema, cols):
                if pa.types.is_string(field.type) or field.name in json_names:
                    values = _text(values)
                arrays.append(pa.array(values, type=field.type))
            writer.write_table(pa.Table.from_arrays(arrays, schema=schema))
            yield sink.drain()
    writer.close()
    yield sink.drain()
