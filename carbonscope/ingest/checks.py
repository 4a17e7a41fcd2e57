"""Checks on every downloaded export before it is ingested, against the last good file of the same
registry and kind (``source_files``): a changed schema (columns added or removed, named), a file
that shrank by more than ``max_shrink_share`` of its rows, and a registry not refreshed for
``stale_days``. A failed check keeps the database as it was (the registry's files are not
ingested) and becomes an alert (``ops.alerts``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Connection, func, or_, select

from carbonscope.db.schema import schedule_runs, source_files
from carbonscope.registry.detect import detect
from carbonscope.registry.reading import read_header
from carbonscope.settings import Settings


@dataclass
class LastGood:
    columns: list[str] | None
    rows: int | None
    retrieved_at: datetime


def last_good(conn: Connection, source: str, kind: str) -> LastGood | None:
    f = source_files.c
    row = conn.execute(
        select(f.columns, f.rows, f.retrieved_at)
        .where(f.source == source, f.kind == kind, f.status == "ingested", or_(f.partial.is_(None), ~f.partial))
        .order_by(f.id.desc())
        .limit(1)
    ).first()
    return LastGood(row.columns, row.rows, row.retrieved_at) if row else None


def count_rows(path: Path) -> int | None:
    """Data rows of a CSV or Parquet export, counted as a CSV reader counts them (quoted line breaks
    inside a field are one row); None for a format not counted here."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        return pq.ParquetFile(path).metadata.num_rows
    if suffix == ".csv":
        import pandas as pd

        n = 0
        for chunk in pd.read_csv(path, usecols=[0], dtype=str, chunksize=200_000, encoding_errors="replace"):
            n += len(chunk)
        return n
    return None


def check_download(conn: Connection, settings: Settings, source: str, path: Path) -> list[str]:
    """What is wrong with a freshly downloaded export, in sentences naming the file (empty: fine)."""
    parser = detect(path, source)
    last = last_good(conn, source, parser.kind)
    if last is None:
        return []  # a first download: nothing to compare with
    problems = []
    when = f"{last.retrieved_at:%Y-%m-%d}"
    if last.columns:
        new = read_header(path)
        added = [c for c in new if c not in last.columns]
        removed = [c for c in last.columns if c not in new]
        if added or removed:
            parts = ([f"added {', '.join(added)}"] if added else []) + (
                [f"removed {', '.join(removed)}"] if removed else []
            )
            problems.append(
                f"{path.name} ({parser.label}): the export's columns changed since the last good file of {when}: "
                + "; ".join(parts)
            )
    rows = count_rows(path)
    if rows is not None and last.rows:
        floor = last.rows * (1 - settings.max_shrink_share)
        if rows < floor:
            share = 1 - rows / last.rows
            problems.append(
                f"{path.name} ({parser.label}): {rows:,} rows, {share:.0%} fewer than the {last.rows:,} of the last "
                f"good file of {when} (more than the {settings.max_shrink_share:.0%} allowed): refused as an "
                "incomplete export"
            )
    return problems


def stale(conn: Connection, settings: Settings, sources: list[str], now: datetime) -> dict[str, str]:
    """Scheduled registries whose last good download is older than ``stale_days``: source -> why. The
    last good download is the last successful scheduled refresh, else the newest file loaded."""
    f, r = source_files.c, schedule_runs.c
    out = {}
    limit = timedelta(days=settings.stale_days)
    for source in sources:
        last = (
            conn.execute(
                select(func.max(r.started_at)).where(r.job == f"refresh:{source}", r.outcome == "ok")
            ).scalar_one_or_none()
            or conn.execute(
                select(func.max(f.retrieved_at)).where(f.source == source, f.status.in_(["ingested", "unchanged"]))
            ).scalar_one_or_none()
        )
        if last is not None and last.tzinfo is None:
            last = last.replace(tzinfo=UTC)
        if last is None:  # never a good download: stale once it has been scheduled for the limit
            first = conn.execute(
                select(func.min(r.started_at)).where(r.job == f"refresh:{source}")
            ).scalar_one_or_none()
            first = first if first is None or first.tzinfo else first.replace(tzinfo=UTC)
            if first is None or now - first <= limit:
                continue
        if last is None or now - last > limit:
            since = f"since {last:%Y-%m-%d %H:%M} UTC" if last else "ever"
            out[source] = f"{source}: no good download {since} (the limit is {settings.stale_days:g} days)"
    return out
