"""Exports of a filtered list (projects, credit events) as CSV, Parquet or Excel: one path for the
web, the CLI and jobs. Every format gets the same sanitised cells (no spreadsheet formulas) and
types from the database schema; rows are streamed, so memory stays flat whatever the size."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from sqlalchemy import Engine, Select

from carbonscope.errors import InvalidField
from carbonscope.export.cells import sanitised
from carbonscope.export.to_csv import csv_chunks
from carbonscope.export.to_parquet import arrow_schema, parquet_chunks
from carbonscope.export.to_xlsx import EXCEL_MAX_ROWS, xlsx_chunks

Format = Literal["csv", "parquet", "xlsx"]
FORMATS: tuple[Format, ...] = ("csv", "parquet", "xlsx")
MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "parquet": "application/vnd.apache.parquet",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

__all__ = ["EXCEL_MAX_ROWS", "FORMATS", "MEDIA", "Format", "arrow_schema", "chunks", "format_of", "write"]


def format_of(name: str) -> Format:
    """The format a name or file suffix gives (``csv``, ``.parquet``, ``report.xlsx``)."""
    fmt = name.rsplit(".", 1)[-1].lower()
    if fmt not in FORMATS:
        raise InvalidField("format", f"{name!r}: choose one of {', '.join(FORMATS)}")
    return fmt


def chunks(fmt: Format, engine: Engine, query: Select, title: str = "export") -> Iterator[bytes]:
    """The bytes of the export, chunk by chunk (nothing runs until the first chunk is asked for)."""
    query = sanitised(query)  # every format: no cell a spreadsheet would run as a formula
    if fmt == "csv":
        return csv_chunks(engine, query)
    if fmt == "parquet":
        return parquet_chunks(engine, query)
    if fmt == "xlsx":
        return xlsx_chunks(engine, query, title)
    raise InvalidField("format", f"{fmt!r}: choose one of {', '.join(FORMATS)}")


def write(fmt: Format, engine: Engine, query: Select, path: Path, title: str = "export") -> int:
    """Write the export to ``path`` atomically (a failed export leaves no partial file); the bytes written."""
    body = chunks(fmt, engine, query, title)  # a bad format fails before any file is made
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    size = 0
    try:
        with os.fdopen(fd, "wb") as fh:
            for chunk in body:
                fh.write(chunk)
                size += len(chunk)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return size
