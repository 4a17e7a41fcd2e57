"""An Excel workbook of an export query (write-only, spooled to disk past 32 MB)."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator

from sqlalchemy import Engine, Select

from carbonscope.export.cells import stream_rows

EXCEL_MAX_ROWS = 1_048_575  # a sheet's rows after the header


def xlsx_chunks(engine: Engine, query: Select, title: str) -> Iterator[bytes]:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title[:31])
    ws.append([c.name for c in query.selected_columns])
    n = 0
    with engine.connect() as conn:
        for part in stream_rows(conn, query):
            for row in part:
                n += 1
                if n > EXCEL_MAX_ROWS:
                    break
                ws.append([json.dumps(v, ensure_ascii=False) if isinstance(v, (list, dict)) else v for v in row])
    with tempfile.SpooledTemporaryFile(max_size=32 * 1024 * 1024) as tmp:
        wb.save(tmp)
        tmp.seek(0)
        while chunk := tmp.read(1 << 20):
            yield chunk
