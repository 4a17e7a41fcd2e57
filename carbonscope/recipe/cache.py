"""Objects a run opens once per process and thread and reuses for all its windows (raster readers,
loaded models), owned by the run: :meth:`RunCache.release` closes a run's objects when it ends, so a
long-lived worker that runs many analyses does not keep every run's files and models open."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


class RunCache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[tuple[str, str, int], Any] = {}

    def get(self, run: str, name: str, make: Callable[[], T], per_thread: bool = True) -> T:
        """The object ``name`` of run ``run`` (made on first use; per thread unless ``per_thread`` is False)."""
        key = (run, name, threading.get_ident() if per_thread else 0)
        with self._lock:
            if key in self._items:
                return self._items[key]
        obj = make()
        with self._lock:
            return self._items.setdefault(key, obj)

    def release(self, run: str) -> int:
        """Close and forget every object of ``run``; how many there were."""
        with self._lock:
            keys = [k for k in self._items if k[0] == run]
            objs = [self._items.pop(k) for k in keys]
        for obj in objs:
            close = getattr(obj, "close", None)
            if callable(close):
                close()
        return len(objs)

    def runs(self) -> set[str]:
        with self._lock:
            return {k[0] for k in self._items}


PROCESS = RunCache()  # this process's objects (a dask worker's, or the main process's threads')


def release(run: str) -> int:
    """Release ``run`` in this process (also sent to each dask worker at the end of a map)."""
    return PROCESS.release(run)
