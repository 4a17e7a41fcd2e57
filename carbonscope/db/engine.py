"""Engines: SQLite (embedded default, WAL mode) or PostgreSQL, chosen by URL."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from functools import lru_cache
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: SQLite's busy handler alone
    fcntl = None  # type: ignore[assignment]

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from carbonscope.errors import DatabaseBusy
from carbonscope.settings import get_settings


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA cache_size=-8192")  # 8 MB per connection; reads mostly go through mmap and the OS cache
    cur.execute("PRAGMA temp_store=MEMORY")
    cur.execute("PRAGMA mmap_size=268435456")
    cur.close()


def make_engine(url: str) -> Engine:
    """Build an engine for ``url``; SQLite files get their folder created and WAL switched on."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # Web workers run sync routes and their dependencies in a 40-thread pool: the connection pool
        # must not be smaller, or threads holding a connection wait on threads that need one.
        engine = create_engine(
            url, connect_args={"check_same_thread": False}, pool_size=20, max_overflow=60, pool_timeout=60
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        # Let SQLAlchemy own transaction boundaries (pysqlite's legacy behaviour breaks BEGIN/ROLLBACK of DDL)
        event.listen(engine, "connect", lambda conn, _rec: setattr(conn, "isolation_level", None))
        # A write transaction takes the write lock at BEGIN (IMMEDIATE): a deferred one that read
        # first cannot upgrade once another writer has committed (SQLITE_BUSY at once, no waiting).
        event.listen(
            engine,
            "begin",
            lambda conn: conn.exec_driver_sql(
                "BEGIN IMMEDIATE" if conn.get_execution_options().get("write") else "BEGIN"
            ),
        )
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return create_engine(parsed, pool_pre_ping=True, pool_size=10, max_overflow=50, pool_timeout=60)


_WRITE_LOCKS: dict[int, threading.Lock] = {}


@contextmanager
def _file_lock(database: str | None) -> Iterator[None]:
    """An exclusive lock on ``<database>-writer`` shared by the short writers of every process.

    A waiting process wakes the moment the holder releases it; SQLite's own busy handler sleeps
    1, 2, 5, 10 ... ms between tries, which gives writers of several processes (web workers) a long
    tail of waits. Only short transactions take it (a request's write); long ones (an ingest) do
    not, so that a short writer meeting one waits at SQLite's busy handler, which gives up after
    busy_timeout, instead of waiting for the whole ingest."""
    if not database or database == ":memory:" or database.startswith("file:") or fcntl is None:
        yield
        return
    fd = os.open(database + "-writer", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


@contextmanager
def _long_lock(database: str | None, on_wait) -> Iterator[None]:
    """Long writers (ingests) of every process take ``<database>-long`` in turn: a second ingest
    waits for the first to finish (and says so through ``on_wait``) instead of failing at SQLite's
    busy timeout with "database is locked"."""
    if not database or database == ":memory:" or database.startswith("file:") or fcntl is None:
        yield
        return
    fd = os.open(database + "-long", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait is not None:
                on_wait()
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


@contextmanager
def write(engine: Engine, *, long: bool = False, on_wait: Callable[[], None] | None = None) -> Iterator[Connection]:
    """A write transaction: commits on success, rolls back on error.

    On SQLite it is BEGIN IMMEDIATE, taken in turn: first by the threads of this process (a lock),
    then, for short transactions, by processes (a lock file), so writers queue in order instead of
    polling SQLite's busy handler, whose growing sleeps make a long tail of waits. ``long`` marks a
    transaction that may hold the database for minutes (an ingest): see ``_file_lock``."""
    if engine.dialect.name != "sqlite":
        with engine.begin() as conn:
            yield conn
        return
    lock = _WRITE_LOCKS.setdefault(id(engine), threading.Lock())
    with (
        _long_lock(engine.url.database, on_wait) if long else nullcontext(),
        lock,
        nullcontext() if long else _file_lock(engine.url.database),
    ):
        try:
            conn_cm = engine.connect().execution_options(write=True)
            with conn_cm as conn:
                with conn.begin():
                    yield conn
        except OperationalError as exc:
            if "database is locked" in str(exc):
                raise DatabaseBusy(
                    "the database stayed locked by another writer for longer than the busy timeout; try again when it has finished"
                ) from exc
            raise


@lru_cache(maxsize=8)
def _engine_for(url: str) -> Engine:
    return make_engine(url)


def get_engine(url: str | None = None) -> Engine:
    """The process-wide engine for ``url`` (default: the configured database)."""
    return _engine_for(url or get_settings().effective_database_url)
