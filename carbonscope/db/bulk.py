"""Fast bulk writes of DataFrames: ``executemany`` on SQLite, ``COPY`` on PostgreSQL."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection

from carbonscope.uniques import on_uniques


def _python_column(s: pd.Series) -> list:
    """A column as Python values with ``None`` for missing; dates as ISO text (SQLAlchemy's SQLite format)."""
    if pd.api.types.is_datetime64_any_dtype(s):
        return on_uniques(s, lambda u: u.dt.strftime("%Y-%m-%d"), object).astype(object).where(s.notna(), None).tolist()
    if str(s.dtype) == "boolean" or pd.api.types.is_bool_dtype(s):
        return s.astype("boolean").to_numpy(dtype=object, na_value=None).tolist()
    if pd.api.types.is_integer_dtype(s):
        return s.astype("Int64").to_numpy(dtype=object, na_value=None).tolist()
    if pd.api.types.is_float_dtype(s):
        f = s.astype("Float64")
        if bool(((f % 1) == 0).fillna(True).all()):
            return f.astype("Int64").to_numpy(dtype=object, na_value=None).tolist()
        return f.to_numpy(dtype=object, na_value=None).tolist()
    return s.astype(object).where(s.notna(), None).tolist()


def timestamp_text(conn: Connection, value: datetime) -> str:
    """A timestamp as the database stores it when written through the raw driver path."""

    if conn.dialect.name == "sqlite":  # SQLAlchemy's SQLite format: naive UTC text
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    return value.isoformat()


def rows(df: pd.DataFrame, columns: list[str]) -> list[tuple]:
    cols = [_python_column(df[c]) if c in df else [None] * len(df) for c in columns]
    return list(zip(*cols))


def insert_frame(conn: Connection, table: str, df: pd.DataFrame, columns: list[str], *, or_ignore: bool = False) -> int:
    """Append ``df[columns]`` to ``table`` through the driver's fastest path.

    ``or_ignore`` (SQLite only) skips rows whose key is already there."""
    if df.empty:
        return 0
    dbapi: Any = conn.connection.driver_connection
    if conn.dialect.name == "postgresql":
        buf = io.StringIO()
        frame = pd.DataFrame({c: _copy_column(df[c]) if c in df else None for c in columns})
        frame.to_csv(buf, index=False, header=False, na_rep="")
        buf.seek(0)
        with dbapi.cursor() as cur:
            with cur.copy(f"COPY {table} ({', '.join(_q(c) for c in columns)}) FROM STDIN WITH (FORMAT csv)") as copy:
                while data := buf.read(1 << 20):
                    copy.write(data)
        return len(df)
    cur = dbapi.cursor()
    verb = "INSERT OR IGNORE" if or_ignore else "INSERT"
    cur.executemany(
        f"{verb} INTO {table} ({', '.join(_q(c) for c in columns)}) VALUES ({', '.join('?' * len(columns))})",
        rows(df, columns),
    )
    cur.close()
    return len(df)


def _copy_column(s: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(s):
        return s.dt.strftime("%Y-%m-%d")
    if pd.api.types.is_float_dtype(s):
        whole = s.dropna()
        if len(whole) and np.all(np.mod(whole, 1) == 0):
            return s.astype("Int64")
    return s


def _q(name: str) -> str:
    return f'"{name}"'
