"""Backups: the database (SQLite's online backup API, which copies a live database page by page
without stopping writers; ``pg_dump``/``pg_restore`` in PostgreSQL's custom format), restore, the
raw downloads mirrored to a folder or an fsspec URL (s3://...), and retention.

A backup is written under a temporary name and renamed when complete; a restore replaces the
database only after the backup file was read whole."""

from __future__ import annotations

import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from carbonscope.errors import InputError
from carbonscope.settings import Settings

SQLITE_SUFFIX = ".sqlite3"
PG_SUFFIX = ".pgdump"


@dataclass
class BackupResult:
    path: Path
    bytes: int
    seconds: float


def _sqlite_path(url: str) -> Path:
    db = make_url(url).database
    if not db or db == ":memory:":
        raise InputError("an in-memory SQLite database cannot be backed up (setting database_url)")
    return Path(db)


def _pg_args(url: str) -> tuple[list[str], dict[str, str]]:
    u = make_url(url)
    args = ["--host", u.host or "127.0.0.1", "--port", str(u.port or 5432), "--username", u.username or "postgres"]
    env = {"PGPASSWORD": u.password} if u.password else {}
    return args + ["--dbname", u.database or "postgres"], env


def _pg_tool(url: str, tool: str, *options: str, file: Path | None = None) -> None:
    """Run ``pg_dump`` or ``pg_restore`` against the database of ``url``; its own words on failure."""
    import os

    args, env = _pg_args(url)
    proc = subprocess.run([tool, *options, *args], env={**os.environ, **env}, capture_output=True, text=True)
    if proc.returncode != 0:
        raise InputError(f"{tool} failed: {proc.stderr.strip()[:500]}", file=str(file) if file else None)


def _pg_schema(url: str) -> list[str]:
    """A database URL that sets its search path (``options=-csearch_path=x``) keeps its tables in that
    schema: the dump holds that schema only, and a restore replaces that schema only."""
    import re

    options = make_url(url).query.get("options") or ""
    if isinstance(options, tuple):
        options = " ".join(options)
    m = re.search(r"-csearch_path\s*=\s*([A-Za-z0-9_]+)", options)
    return ["--schema", m.group(1)] if m else []


def backup(url: str, dest: Path) -> BackupResult:
    """The database at ``url`` into the file ``dest`` (or a new file in the folder ``dest``)."""
    import time

    t0 = time.perf_counter()
    dialect = make_url(url).get_backend_name()
    if dest.is_dir() or not dest.suffix:
        dest.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        dest = dest / f"carbonscope-{stamp}{SQLITE_SUFFIX if dialect == 'sqlite' else PG_SUFFIX}"
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    if dialect == "sqlite":
        src = sqlite3.connect(_sqlite_path(url))
        out = sqlite3.connect(part)
        try:
            with out:
                src.backup(out, pages=4096)  # a consistent copy while the site keeps writing
        finally:
            out.close()
            src.close()
    elif dialect == "postgresql":
        try:
            _pg_tool(url, "pg_dump", "--format=custom", "--no-owner", "--file", str(part), *_pg_schema(url))
        except InputError:
            part.unlink(missing_ok=True)
            raise
    else:
        raise InputError(f"backups support SQLite and PostgreSQL, not {dialect} (setting database_url)")
    part.replace(dest)
    return BackupResult(dest, dest.stat().st_size, time.perf_counter() - t0)


def restore(url: str, src: Path) -> float:
    """Replace the database at ``url`` by the backup ``src``; returns the seconds it took."""
    import time

    if not src.is_file():
        raise InputError("no such backup file", file=str(src))
    t0 = time.perf_counter()
    dialect = make_url(url).get_backend_name()
    if dialect == "sqlite":
        check = sqlite3.connect(f"file:{src}?mode=ro", uri=True)
        try:
            if check.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                raise InputError("the backup file is damaged (SQLite integrity check failed)", file=str(src))
        except sqlite3.DatabaseError as exc:
            raise InputError(f"not a SQLite backup ({exc})", file=str(src)) from exc
        finally:
            check.close()
        target = _sqlite_path(url)
        back = sqlite3.connect(src)
        live = sqlite3.connect(target)
        try:
            with live:
                back.backup(live)  # the live file is overwritten page by page, in one transaction
        finally:
            live.close()
            back.close()
    elif dialect == "postgresql":
        _pg_tool(url, "pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction", str(src), file=src)
    else:
        raise InputError(f"backups support SQLite and PostgreSQL, not {dialect} (setting database_url)")
    return time.perf_counter() - t0


def prune(folder: Path, keep: int) -> list[Path]:
    """Delete all but the ``keep`` newest backups in ``folder``; returns what was deleted."""
    found = sorted(
        (p for p in folder.glob("carbonscope-*") if p.suffix in (SQLITE_SUFFIX, PG_SUFFIX)),
        key=lambda p: p.name,
    )
    gone = found[:-keep] if len(found) > keep else []
    for p in gone:
        p.unlink()
    return gone


def mirror_raw(settings: Settings) -> int:
    """Copy raw downloads not yet in ``raw_mirror_url`` there (a folder or an fsspec URL); returns
    how many files were copied."""
    if not settings.raw_mirror_url or not settings.raw_dir.exists():
        return 0
    import fsspec

    fs, root = fsspec.core.url_to_fs(settings.raw_mirror_url)
    copied = 0
    for path in sorted(p for p in settings.raw_dir.rglob("*") if p.is_file() and not p.name.endswith(".part")):
        rel = path.relative_to(settings.raw_dir).as_posix()
        target = f"{root.rstrip('/')}/{rel}"
        if fs.exists(target) and fs.size(target) == path.stat().st_size:
            continue
        fs.makedirs(target.rsplit("/", 1)[0], exist_ok=True)
        fs.put_file(str(path), target)
        copied += 1
    return copied


def scheduled(settings: Settings) -> dict:
    """The backup schedule's job: a backup in ``backup_dir``, retention, the raw mirror."""
    result = backup(settings.effective_database_url, settings.effective_backup_dir)
    pruned = prune(settings.effective_backup_dir, settings.backup_keep)
    mirrored = mirror_raw(settings)
    return {
        "file": result.path.name,
        "bytes": result.bytes,
        "seconds": round(result.seconds, 2),
        "deleted": [p.name for p in pruned],
        "raw_files_mirrored": mirrored,
    }
