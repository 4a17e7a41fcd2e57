"""The web app's own schedule: every 30 s it sends queued mail (confirmation and reset links must
not wait for an operator) and every ``housekeeping_minutes`` prunes what has expired
(``jobs.housekeeping``). One daemon thread per process, started and stopped with the app; each round is
one short write transaction, so several workers running it at once do no harm."""

from __future__ import annotations

import logging
import threading

from sqlalchemy import Engine

from carbonscope.errors import DatabaseBusy
from carbonscope.jobs import housekeeping
from carbonscope.settings import Settings

log = logging.getLogger("carbonscope.housekeeping")
MAIL_EVERY_SECONDS = 30


class Housekeeping:
    def __init__(self, engine: Engine, settings: Settings):
        self.engine, self.settings = engine, settings
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.settings.housekeeping_minutes <= 0 or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._loop, name="carbonscope-housekeeping", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _loop(self) -> None:
        every = self.settings.housekeeping_minutes * 60
        waited = every  # prune at start, then every ``every`` seconds; mail every 30 s
        while not self._stop.is_set():
            try:
                housekeeping(self.settings, self.engine, prune_too=waited >= every)
            except (DatabaseBusy, OSError) as exc:  # a busy database or a mail server down: next round
                log.warning("housekeeping round skipped: %s", exc)
            except Exception:  # never let the thread die silently
                log.exception("housekeeping round failed")
            waited = 0 if waited >= every else waited + MAIL_EVERY_SECONDS
            self._stop.wait(MAIL_EVERY_SECONDS)
