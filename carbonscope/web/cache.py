"""A response cache for public GET requests: in-process by default, Redis when configured.

Entries are keyed by the data version (the newest committed snapshot), so every ingest makes old
entries unreachable; the version is read from the database at most once a second per process.
Responses carry an ETag; a matching ``If-None-Match`` gets 304 without a body.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict

from sqlalchemy import Engine


class MemoryStore:
    def __init__(self, max_items: int = 2000, max_bytes: int = 128 * 1024 * 1024):
        self._d: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._bytes = 0
        self.max_items, self.max_bytes = max_items, max_bytes
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            hit = self._d.get(key)
            if hit is None:
                return None
            expires, value = hit
            if expires < time.monotonic():
                self._drop(key)
                return None
            self._d.move_to_end(key)
            return value

    def set(self, key: str, value: bytes, ttl: float) -> None:
        with self._lock:
            if key in self._d:
                self._drop(key)
            self._d[key] = (time.monotonic() + ttl, value)
            self._bytes += len(value)
            while len(self._d) > self.max_items or self._bytes > self.max_bytes:
                self._drop(next(iter(self._d)))

    def _drop(self, key: str) -> None:
        _, value = self._d.pop(key)
        self._bytes -= len(value)

    def clear(self) -> None:
        with self._lock:
            self._d.clear()
            self._bytes = 0


class RedisStore:
    def __init__(self, url: str):
        import redis

        self._r = redis.Redis.from_url(url)
        self._r.ping()

    def get(self, key: str) -> bytes | None:
        value = self._r.get("carbonscope:cache:" + key)
        return value.encode() if isinstance(value, str) else value

    def set(self, key: str, value: bytes, ttl: float) -> None:
        self._r.setex("carbonscope:cache:" + key, int(max(ttl, 1)), value)

    def clear(self) -> None:
        for k in self._r.scan_iter("carbonscope:cache:*"):
            self._r.delete(k)


class DataVersion:
    """The newest snapshot ID, re-read at most every ``interval`` seconds."""

    def __init__(self, engine: Engine, interval: float = 1.0):
        self.engine, self.interval = engine, interval
        self._value, self._read_at = 0, 0.0
        self._lock = threading.Lock()

    def get(self) -> int:
        now = time.monotonic()
        if now - self._read_at > self.interval:
            with self._lock:
                if now - self._read_at > self.interval:
                    from carbonscope.queries.analytics import data_version

                    with self.engine.connect() as conn:
                        self._value = data_version(conn)
                    self._read_at = now
        return self._value

    def bump(self) -> None:
        self._read_at = 0.0


def cache_key(version: int, path: str, query: str, accept: str) -> str:
    return hashlib.blake2b(f"{version}|{path}|{query}|{accept}".encode(), digest_size=16).hexdigest()


def make_store(redis_url: str | None) -> MemoryStore | RedisStore:
    return RedisStore(redis_url) if redis_url else MemoryStore()
