"""Random secrets and their stored digests (sessions, API tokens, reset and feed tokens)."""

from __future__ import annotations

import hashlib
import secrets


def new_secret(prefix: str = "", nbytes: int = 32) -> str:
    return prefix + secrets.token_urlsafe(nbytes)


def digest(value: str) -> str:
    """What the database keeps: a leaked table does not give working secrets."""
    return hashlib.sha256(value.encode()).hexdigest()
