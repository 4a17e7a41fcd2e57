"""Random secrets and their stored digests (sessions, API tokens, reset and feed tokens, mailed links)."""

from __future__ import annotations

import hashlib
import hmac
import secrets


def new_secret(prefix: str = "", nbytes: int = 32) -> str:
    return prefix + secrets.token_urlsafe(nbytes)


def digest(value: str) -> str:
    """What the database keeps: a leaked table does not give working secrets."""
    return hashlib.sha256(value.encode()).hexdigest()


def link_token(secret_key: str, purpose: str, nonce: str) -> str:
    """The token of a mailed link, derived from the site's signing key and a random nonce. The outbox
    keeps only the nonce (until the mail is sent), so reading the database, or the admin page, never
    gives a working reset or confirmation link; the database keeps only the token's digest."""
    return hmac.new(secret_key.encode(), f"{purpose}:{nonce}".encode(), hashlib.sha256).hexdigest()
