"""Snapshots of an export kind: a file is the registry's current export of its (source, kind).

Rows of the previous snapshot of that kind that the newer file no longer holds are *retracted*;
a row whose serial block (or, without serials, whose project, type, vintage and date) reappears
with other values is *corrected*. Nothing is deleted: retracted and corrected events move from the
ledger to ``event_history`` with the snapshot that retracted them (and, for a correction, the event
that superseded them); an event that reappears in a later export returns to the ledger. A project
missing from a newer projects export keeps its source record, marked with the snapshot that no
longer listed it. A file marked partial (``--partial``) retracts nothing.

The export's date decides which file is newer: a date in the file name (``projects-2025-11-05``,
VROD's ``v2025-12``), else the download time, else the file's modification time (labelled so).
An older file than the current one of its kind is recorded but not applied, so ingesting an old
file after a new one never rolls the data back.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from sqlalchemy import Connection, and_, delete, insert, select, update

from carbonscope.db.schema import credit_events, event_history, source_files, source_records
from carbonscope.ingest.staging import EVENT_COLUMNS, add_affected, stage

DATE_IN_NAME = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")
MONTH_IN_NAME = re.compile(r"(?<!\d)v?(\d{4})-(\d{2})(?!\d)(?!-\d)")


def export_date(path: Path, downloaded_at: datetime | None) -> tuple[datetime, str]:
    """The export's own date and what it is based on: ``file name``, ``download`` or ``file modified``."""
    name = path.name
    m = DATE_IN_NAME.search(name)
    if m:
        try:
            return datetime(int(m[1]), int(m[2]), int(m[3]), tzinfo=UTC), "file name"
        except ValueError:
            pass
    m = MONTH_IN_NAME.search(name)
    if m and 1 <= int(m[2]) <= 12:
        return datetime(int(m[1]), int(m[2]), 1, tzinfo=UTC), "file name (month)"
    if downloaded_at is not None:
        return downloaded_at, "download"
    return datetime.fromtimestamp(path.stat().st_mtime, UTC), "file modified"


def newest_applied(conn: Connection, source: str, kind: str) -> datetime | None:
    """The export date of the newest complete file of this kind already applied."""
    f = source_files
    q = (
        select(f.c.exported_at, f.c.retrieved_at)
        .where(f.c.source == source, f.c.kind == kind, f.c.status == "ingested", f.c.partial.is_not(True))
        .order_by(f.c.id.desc())
    )
    best = None
    for exported, retrieved in conn.execute(q):
        d = _aware(exported or retrieved)
        if best is None or d > best:
            best = d
    return best


def _aware(d: datetime) -> datetime:
    return d if d.tzinfo is not None else d.replace(tzinfo=UTC)


def _block(serial, end) -> str | None:
    """A serial block without its end: ``...-9205-1 to 5000`` and ``...-9205-1 to 4000`` are one block."""
    if serial is None or serial is pd.NA or (isinstance(serial, float) and serial != serial) or not str(serial):
        return None
    text = str(serial)
    if end is not None and not pd.isna(end):
        e = str(int(end))
        i = text.rfind(e)
        if i >= 0:
            text = text[:i] + "#" + text[i + len(e) :]
    return text


def _match_key(df: pd.DataFrame) -> list[str]:
    """What makes two rows of two exports "the same row": the serial block (its start and prefix), else
    type, project, vintage and date."""
    out = []
    for t, p, serial, end, v, vs, d in zip(
        df["type"],
        df["project_id"],
        df["serial"],
        df["serial_end"],
        df["vintage"],
        df["vintage_start"],
        df["event_date"],
    ):
        block = _block(serial, end)
        out.append(f"s|{p}|{block}" if block else f"k|{t}|{p}|{v}|{vs}|{d}")
    return out


def retract_missing(conn: Connection, source_key: str, file_id: int, snapshot_id: int) -> pd.DataFrame:
    """Move ledger events of ``source_key`` that file ``file_id`` (staged) no longer holds to history.

    Returns the moved events with ``retraction`` (retracted | corrected) and ``superseded_by``.
    """
    e = credit_events
    staged_ids = select(stage.c.id).where(stage.c.file_id == file_id)
    rows = [
        dict(r) for r in conn.execute(select(e).where(e.c.source == source_key, e.c.id.not_in(staged_ids))).mappings()
    ]
    if not rows:
        return pd.DataFrame(columns=[*EVENT_COLUMNS, "retraction", "superseded_by"])
    gone = pd.DataFrame(rows, columns=EVENT_COLUMNS)
    cols = ["id", "project_id", "type", "serial", "serial_end", "vintage", "vintage_start", "event_date", "quantity"]
    new = pd.DataFrame(
        conn.execute(
            select(*[stage.c[c] for c in cols]).where(
                stage.c.file_id == file_id, stage.c.project_id.in_(sorted(set(gone["project_id"])))
            )
        ).all(),
        columns=cols,
    )
    by_key = dict(zip(_match_key(new), new["id"])) if len(new) else {}
    superseded = [by_key.get(k) for k in _match_key(gone)]
    for r, sup in zip(rows, superseded):
        r.update(retracted_snapshot=snapshot_id, retraction="corrected" if sup else "retracted", superseded_by=sup)
    ids = [r["id"] for r in rows]
    for start in range(0, len(rows), 5000):
        part = ids[start : start + 5000]
        conn.execute(delete(event_history).where(event_history.c.id.in_(part)))
        conn.execute(insert(event_history), rows[start : start + 5000])
        conn.execute(delete(e).where(e.c.id.in_(part)))
    add_affected(conn, gone["project_id"].unique())
    return gone.assign(retraction=[r["retraction"] for r in rows], superseded_by=superseded)


def restore_reappeared(conn: Connection) -> int:
    """Events staged in this run that were retracted earlier leave history (they enter the ledger again)."""
    h = event_history
    res = conn.execute(delete(h).where(h.c.id.in_(select(stage.c.id))))
    return int(res.rowcount or 0)


def delist_missing(conn: Connection, source_key: str, listed_ids: list[str], snapshot_id: int) -> list[str]:
    """Mark the source records of ``source_key`` whose project the newer export no longer lists."""
    sr = source_records
    q = select(sr.c.project_id).where(sr.c.source == source_key, sr.c.delisted_snapshot.is_(None))
    known = set(conn.execute(q).scalars())
    missing = sorted(known - set(listed_ids))
    for start in range(0, len(missing), 5000):
        part = missing[start : start + 5000]
        conn.execute(
            update(sr)
            .where(and_(sr.c.source == source_key, sr.c.project_id.in_(part)))
            .values(delisted_snapshot=snapshot_id)
        )
    add_affected(conn, missing)
    return missing
