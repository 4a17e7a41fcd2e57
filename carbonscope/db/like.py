"""LIKE patterns for free-text filters, shared by every read that searches text."""

from __future__ import annotations


def like_pattern(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere, with LIKE's own wildcards escaped (use ``escape="\\\\"``)."""
    esc = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{esc}%"
