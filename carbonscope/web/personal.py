"""Pages for signed-in readers from one shared rendering, filled in per reader.

A project page costs tens of milliseconds to gather and render, and a signed-in reader's copy
differs from every other reader's in a few places only: the name in the menu, the form token, the
support and watch buttons, and which comments offer "edit / delete" (their author) or "report"
(everyone else). The page is rendered once per (page, data version, comment version) with slots
in those places and kept in the response cache; each request then fills the slots: the menu and
the buttons from two small templates, the token by replacement, and each comment's actions by
keeping the variant that fits the reader. Slot markers carry a nonce derived from the secret key,
so text written by users (escaped, or sanitised Markdown) cannot forge one.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache

from markupsafe import Markup

from carbonscope.web.cache import MemoryStore, RedisStore


@dataclass(frozen=True)
class Slots:
    nonce: str

    @property
    def csrf(self) -> str:
        return f"csrf-slot-{self.nonce}"

    @property
    def nav(self) -> Markup:
        return Markup(f"<!--nav-{self.nonce}-->")

    @property
    def support(self) -> Markup:
        return Markup(f"<!--support-{self.nonce}-->")

    def own(self, author_id: int | None) -> Markup:
        """Opens the comment actions only its author sees."""
        return Markup(f"<!--own-{self.nonce}-{int(author_id or 0)}-->")

    def other(self, author_id: int | None) -> Markup:
        """Opens the comment actions everyone but its author sees."""
        return Markup(f"<!--other-{self.nonce}-{int(author_id or 0)}-->")

    @property
    def end(self) -> Markup:
        return Markup(f"<!--end-{self.nonce}-->")


@lru_cache(maxsize=8)
def slots_for(secret: str) -> Slots:
    return Slots(hmac.new(secret.encode(), b"carbonscope-page-slots", hashlib.sha256).hexdigest()[:20])


EVERYONE, AUTHOR, NOT_AUTHOR = 0, 1, 2  # who sees a piece
CSRF, NAV, SUPPORT = 1, 2, 3  # pieces filled per reader


def parse(html: str, slots: Slots) -> list[tuple[int, int, str | int]]:
    """A shared rendering cut at its slots: (who sees it, comment author, text or slot code)."""
    marker = re.compile(rf"<!--(own|other|end|nav|support)-{slots.nonce}(?:-(\d+))?-->")
    parts = marker.split(html)
    sections = [(EVERYONE, 0, parts[0])]
    for i in range(1, len(parts), 3):
        kind, author, text = parts[i], parts[i + 1], parts[i + 2]
        if kind in ("nav", "support"):
            sections.append((EVERYONE, 0, NAV if kind == "nav" else SUPPORT))
        who = {"own": AUTHOR, "other": NOT_AUTHOR}.get(kind, EVERYONE)
        sections.append((who, int(author or 0), text))
    pieces: list[tuple[int, int, str | int]] = []
    for who, author, text in sections:
        if not isinstance(text, str):
            pieces.append((who, author, text))
            continue
        for j, chunk in enumerate(text.split(slots.csrf)):
            if j:
                pieces.append((who, author, CSRF))
            if chunk:
                pieces.append((who, author, chunk))
    return pieces


def fill(pieces: list[tuple[int, int, str | int]], *, user_id: int, csrf: str, nav: str, support: str) -> str:
    """The reader's copy of a parsed shared rendering."""
    slots = {CSRF: csrf, NAV: nav, SUPPORT: support}
    out = []
    for who, author, text in pieces:
        if who == AUTHOR and author != user_id or who == NOT_AUTHOR and author == user_id:
            continue
        out.append(text if isinstance(text, str) else slots[text])
    return "".join(out)


class Renderings:
    """Shared renderings: their HTML in the response cache (shared by workers when it is Redis), and
    the last few parsed in this process."""

    def __init__(self, store: MemoryStore | RedisStore, ttl: float, keep: int = 256) -> None:
        self.store, self.ttl, self.keep = store, ttl, keep
        self._parsed: OrderedDict[str, tuple[float, list]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str, slots: Slots) -> list | None:
        with self._lock:
            hit = self._parsed.get(key)
            if hit is not None and hit[0] > time.monotonic():
                self._parsed.move_to_end(key)
                return hit[1]
        raw = self.store.get(key) if self.ttl > 0 else None
        return None if raw is None else self._remember(key, parse(raw.decode(), slots))

    def put(self, key: str, html: str, slots: Slots) -> list:
        pieces = parse(html, slots)
        if self.ttl > 0:
            self.store.set(key, html.encode(), self.ttl)
            self._remember(key, pieces)
        return pieces

    def _remember(self, key: str, pieces: list) -> list:
        with self._lock:
            self._parsed[key] = (time.monotonic() + self.ttl, pieces)
            while len(self._parsed) > self.keep:
                self._parsed.popitem(last=False)
        return pieces


def cache_key(data_version: int, kind: str, target: str, target_version: int, query: str) -> str:
    raw = f"personal|{data_version}|{kind}|{target}|{target_version}|{query}"
    return hashlib.blake2b(raw.encode(), digest_size=16).hexdigest()
