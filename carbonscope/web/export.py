"""File exports over HTTP: the export package's chunks streamed as a download, at most a few at once."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator

from fastapi.responses import StreamingResponse
from sqlalchemy import Engine, Select
from starlette.background import BackgroundTask

from carbonscope import export
from carbonscope.errors import Busy


class ExportSlots:
    """At most ``n`` exports prepared at once in this process (an Excel file of the whole list costs
    seconds of CPU): one more is refused with 503 and Retry-After instead of queueing without end."""

    def __init__(self, n: int):
        self.n = max(1, n)
        self._sem = threading.BoundedSemaphore(self.n)

    def lease(self) -> _Lease:
        if not self._sem.acquire(blocking=False):
            raise Busy(f"{self.n} exports are being prepared right now; try again in a few seconds", retry_after=5)
        return _Lease(self._sem)


class _Lease:
    """Given back once, whichever comes first: the stream ends, the response is done, or it is dropped."""

    def __init__(self, sem: threading.BoundedSemaphore):
        self._sem, self._lock, self._held = sem, threading.Lock(), True

    def release(self) -> None:
        with self._lock:
            if self._held:
                self._held = False
                self._sem.release()


def _leased(body: Iterator[bytes], lease: _Lease) -> Iterator[bytes]:
    try:
        yield from body
    finally:
        lease.release()


def response(
    fmt: export.Format, engine: Engine, query: Select, name: str, slots: ExportSlots | None = None
) -> StreamingResponse:
    headers = {"Content-Disposition": f'attachment; filename="{name}.{fmt}"', "Cache-Control": "no-store"}
    lease = slots.lease() if slots is not None else None  # before any work: a refusal costs nothing
    body = export.chunks(fmt, engine, query, name)
    if lease is None:
        return StreamingResponse(body, media_type=export.MEDIA[fmt], headers=headers)
    body = _leased(body, lease)
    weakref.finalize(body, lease.release)  # a stream never started (client gone) still gives its slot back
    return StreamingResponse(
        body, media_type=export.MEDIA[fmt], headers=headers, background=BackgroundTask(lease.release)
    )
