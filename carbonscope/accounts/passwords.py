"""Password hashing with Argon2id and a simple strength policy."""

from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from carbonscope.errors import InvalidField

MIN_LENGTH = 10
COMMON = {"password12", "1234567890", "qwertyuiop", "carbonscope", "password123", "letmein123"}


def hasher() -> PasswordHasher:
    from carbonscope.settings import get_settings

    s = get_settings()
    return _hasher(s.argon2_time_cost, s.argon2_memory_kib, s.argon2_parallelism)


@lru_cache(maxsize=4)
def _hasher(time_cost: int, memory_kib: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)  # argon2id


def check_policy(password: str, email: str = "") -> None:
    if len(password) < MIN_LENGTH:
        raise InvalidField("password", f"at least {MIN_LENGTH} characters")
    if len(password) > 256:
        raise InvalidField("password", "at most 256 characters")
    if password.lower() in COMMON or (email and password.lower() == email.lower()):
        raise InvalidField("password", "too easy to guess")


def hash_password(password: str) -> str:
    return hasher().hash(password)


def verify(password_hash: str, password: str) -> bool:
    try:
        return hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def dummy_verify(password: str) -> None:
    """Verify against a throw-away hash when the account does not exist, so timing does not tell."""
    verify(_dummy_hash(hasher()), password)


@lru_cache(maxsize=4)
def _dummy_hash(h: PasswordHasher) -> str:
    return h.hash("not-a-real-password-0")
