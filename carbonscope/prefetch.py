"""Run a generator in a background thread, a few items ahead of its consumer.

Parsing (pandas, much of it outside the GIL) then overlaps with database writes (SQLite and
psycopg release the GIL while the database works); an export's next Arrow batch is read while the
last one is compressed and sent. Exceptions reach the consumer; a consumer that stops early stops
the producer, which closes the generator (releasing its connection).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")
_DONE = object()


def prefetch(items: Iterable[T], depth: int = 2) -> Iterator[T]:
    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce():
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        q.put((None, item), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put((None, _DONE))
        except BaseException as exc:  # handed to the consumer, which re-raises it
            q.put((exc, None))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    thread = threading.Thread(target=produce, name="carbonscope-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            exc, item = q.get()
            if exc is not None:
                raise exc
            if item is _DONE:
                return
            yield item
    finally:
        stop.set()
        while thread.is_alive():
            try:
                q.get_nowait()
            except queue.Empty:
                pass
            thread.join(timeout=0.05)
