"""Links that users, feeds and registries give us: only http and https ever become an ``href``.

A stored link with another scheme (``javascript:``, ``data:``, ``vbscript:``, ``file:``) would run
or open something in the reader's browser; the Content-Security-Policy stops most of it, this
stops all of it before it is stored or rendered.
"""

from __future__ import annotations

from urllib.parse import urlsplit

ALLOWED_SCHEMES = ("http", "https")
MAX_LENGTH = 2048


def safe_url(url: object) -> str | None:
    """``url`` when it is an absolute http(s) URL with a host, else None."""
    if not isinstance(url, str):
        return None
    text = url.strip()
    if len(text) > MAX_LENGTH or any(
        ord(ch) < 33 for ch in text
    ):  # whitespace and control characters hide schemes ("java\\tscript:")
        return None
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    if parts.scheme.lower() not in ALLOWED_SCHEMES or not parts.netloc:
        return None
    return text
