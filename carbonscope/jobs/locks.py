"""Named job locks: a file lock per job name in the data folder, so a second copy of a job (a cron
run meeting a manual one, two workers) waits or is refused instead of running beside the first."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None  # type: ignore[assignment]

from carbonscope.errors import Busy
from carbonscope.settings import Settings


@contextmanager
def job_lock(settings: Settings, name: str, wait: bool = True) -> Iterator[None]:
    """Hold the lock of job ``name``; with ``wait=False`` a held lock raises Busy at once."""
    if fcntl is None:
        yield
        return
    folder = Path(settings.data_dir) / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / f"{name}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            raise Busy(
                f"the job {name!r} is already running (lock {folder / (name + '.lock')})", retry_after=60
            ) from None
        yield
    finally:
        os.close(fd)
