"""Polite downloads of registry exports: a clear User-Agent, a minimum interval between requests
to one host, retries with exponential backoff, resumable transfers and checks of what arrived.

A download goes to ``<name>.part`` and is renamed into place only when complete, so an archive
never holds half a file. A transfer cut short resumes with an HTTP Range request when the server
supports it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from carbonscope.errors import DownloadError
from carbonscope.settings import Settings


@dataclass
class Fetched:
    url: str
    path: Path
    bytes: int
    attempts: int


class PoliteClient:
    def __init__(self, settings: Settings, transport: httpx.BaseTransport | None = None):
        self.settings = settings
        self._last: dict[str, float] = {}
        self._client = httpx.Client(
            # identity: byte counts and Range offsets then refer to the file itself
            headers={"User-Agent": settings.user_agent, "Accept-Encoding": "identity"},
            timeout=httpx.Timeout(settings.http_timeout),
            follow_redirects=True,
            transport=transport,
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _wait_turn(self, url: str) -> None:
        host = urlsplit(url).netloc
        wait = self._last.get(host, 0) + self.settings.http_min_interval - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        self._last[host] = time.monotonic()

    def fetch(
        self,
        url: str,
        dest: Path,
        *,
        method: str = "GET",
        json_body: dict | None = None,
        on_bytes: Callable[[int], None] | None = None,
    ) -> Fetched:
        """Download ``url`` to ``dest``; raise :class:`DownloadError` after the configured retries."""
        dest.parent.mkdir(parents=True, exist_ok=True)
        part = dest.with_name(dest.name + ".part")
        last_error: str | None = None
        retries = self.settings.http_retries
        for attempt in range(1, retries + 2):
            self._wait_turn(url)
            have = part.stat().st_size if part.exists() else 0
            headers = {"Range": f"bytes={have}-"} if have and method == "GET" else {}
            try:
                with self._client.stream(method, url, headers=headers, json=json_body) as resp:
                    if resp.status_code == 416:  # our partial file is already complete or stale
                        part.unlink(missing_ok=True)
                        last_error = "range not satisfiable; restarting"
                        continue
                    if resp.status_code in (429, 500, 502, 503, 504):
                        last_error = f"HTTP {resp.status_code}"
                        self._backoff(attempt, resp.headers.get("Retry-After"))
                        continue
                    if resp.status_code >= 400:
                        raise DownloadError(f"{url}: HTTP {resp.status_code} {resp.reason_phrase}")
                    append = resp.status_code == 206 and have > 0
                    expected = resp.headers.get("Content-Length")
                    written = 0
                    with open(part, "ab" if append else "wb") as fh:
                        for chunk in resp.iter_raw():  # as it arrives, so a cut transfer keeps what came
                            fh.write(chunk)
                            written += len(chunk)
                            if on_bytes:
                                on_bytes(len(chunk))
                    if expected is not None and written != int(expected):
                        last_error = f"truncated body ({written} of {expected} bytes)"
                        self._backoff(attempt)
                        continue
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                # httpx reports a body shorter than Content-Length as a protocol error: resume next time.
                last_error = f"{type(exc).__name__}: {exc}"
                self._backoff(attempt)
                continue
            size = part.stat().st_size
            if size == 0:
                last_error = "empty body"
                part.unlink(missing_ok=True)
                self._backoff(attempt)
                continue
            part.replace(dest)
            return Fetched(url, dest, size, attempt)
        part.unlink(missing_ok=True)
        raise DownloadError(f"{url}: gave up after {retries + 1} attempts ({last_error})")

    def _backoff(self, attempt: int, retry_after: str | None = None) -> None:
        if retry_after and retry_after.isdigit():
            delay = min(float(retry_after), 60.0)
        else:
            delay = self.settings.http_backoff * (2 ** (attempt - 1))
        time.sleep(delay)
