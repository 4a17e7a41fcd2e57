"""Users: register, authenticate (throttled), change or reset passwords, delete, roles."""

from __future__ import annotations

from dataclasses import dataclass

import re
from datetime import datetime, timedelta, timezone

from sqlalchemy import Connection, and_, delete, func, insert, select, update

from carbonscope.accounts import passwords
from carbonscope.accounts.secrets import digest, new_secret
from carbonscope.db.schema import api_tokens, comments, login_attempts, password_resets, proposals, sessions, supports, users, watches
from carbonscope.errors import AuthError, InvalidField, NotFoundError, Throttled
from carbonscope.mail import enqueue
from carbonscope.settings import Settings

EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{2,}$")
ROLES = ("user", "admin")


def now() -> datetime:
    return datetime.now(timezone.utc)


def normalise_email(email: str) -> str:
    email = (email or "").strip().lower()
    if not EMAIL_RE.match(email) or len(email) > 254:
        raise InvalidField("email", "not a valid email address")
    return email


def clean_name(name: str) -> str:
    name = re.sub(r"\s+", " ", (name or "").strip())
    if not 1 <= len(name) <= 80:
        raise InvalidField("display_name", "between 1 and 80 characters")
    if any(ord(ch) < 32 for ch in name):
        raise InvalidField("display_name", "control characters are not allowed")
    return name


def register(conn: Connection, email: str, display_name: str, password: str, role: str = "user", *, password_hash: str | None = None) -> int:
    """Create an account. ``password_hash`` (of ``password``), computed before the write transaction,
    keeps Argon2's ~100 ms out of the database write lock."""
    email = normalise_email(email)
    name = clean_name(display_name)
    passwords.check_policy(password, email)
    if role not in ROLES:
        raise InvalidField("role", f"one of {', '.join(ROLES)}")
    if conn.execute(select(users.c.id).where(users.c.email == email)).first():
        raise InvalidField("email", "an account with this email already exists")
    return conn.execute(
        insert(users).values(
            email=email, display_name=name, password_hash=password_hash or passwords.hash_password(password), role=role,
            feed_token=new_secret(nbytes=24), created_at=now(), disabled=False,
        ).returning(users.c.id)
    ).scalar_one()


def get(conn: Connection, user_id: int) -> dict:
    row = conn.execute(select(users).where(users.c.id == user_id)).mappings().first()
    if row is None:
        raise NotFoundError(f"no user {user_id}")
    return dict(row)


def by_email(conn: Connection, email: str) -> dict | None:
    row = conn.execute(select(users).where(users.c.email == email.strip().lower())).mappings().first()
    return dict(row) if row else None


def _throttle(conn: Connection, email: str, address: str, settings: Settings) -> None:
    since = now() - timedelta(minutes=settings.login_window_minutes)
    failed = and_(login_attempts.c.success.is_(False), login_attempts.c.at >= since)
    # Failures of this account *from this address* lock it for this address only, so a stranger
    # cannot lock anyone out; an address that guesses many accounts is stopped; and a guess spread
    # over many addresses meets a ten-times higher ceiling per account.
    la = login_attempts.c
    per_pair = conn.execute(select(func.count()).where(failed, la.email == email, la.address == address)).scalar_one()
    per_address = conn.execute(select(func.count()).where(failed, la.address == address)).scalar_one()
    per_account = conn.execute(select(func.count()).where(failed, la.email == email)).scalar_one()
    limit = settings.login_max_failures_per_account
    if per_pair >= limit or per_address >= settings.login_max_failures_per_address or per_account >= 10 * limit:
        raise Throttled(f"too many failed sign-ins; try again in {settings.login_window_minutes} minutes", settings.login_window_minutes * 60)


@dataclass
class Credentials:
    email: str
    user: dict | None  # None: wrong email or password
    new_hash: str | None = None  # the password hashed again with current parameters


def verify_credentials(conn: Connection, email: str, password: str, address: str, settings: Settings) -> Credentials:
    """Read-only and slow (Argon2): run it on a read connection, outside any write transaction.
    Too many recent failures for this account or address raise Throttled."""
    email = (email or "").strip().lower()[:254]
    _throttle(conn, email, address, settings)
    user = by_email(conn, email)
    ok = user is not None and not user["disabled"] and passwords.verify(user["password_hash"], password or "")
    if user is None:
        passwords.dummy_verify(password or "")
    if not ok:
        return Credentials(email, None)
    new_hash = passwords.hash_password(password) if passwords.hasher().check_needs_rehash(user["password_hash"]) else None
    return Credentials(email, user, new_hash)


def record_login(conn: Connection, creds: Credentials, address: str) -> None:
    """The write half of a sign-in (short): the attempt, and a rehash if one is due."""
    conn.execute(insert(login_attempts).values(email=creds.email, address=address, at=now(), success=creds.user is not None))
    if creds.user is not None and creds.new_hash:
        conn.execute(update(users).where(users.c.id == creds.user["id"]).values(password_hash=creds.new_hash))


def authenticate(conn: Connection, email: str, password: str, address: str, settings: Settings) -> dict | None:
    """The user for these credentials, or None; the attempt is recorded on ``conn`` (commit it either way)."""
    creds = verify_credentials(conn, email, password, address, settings)
    record_login(conn, creds, address)
    return creds.user


def change_password(conn: Connection, user_id: int, current: str, new: str) -> None:
    user = get(conn, user_id)
    if not passwords.verify(user["password_hash"], current or ""):
        raise InvalidField("current_password", "does not match")
    passwords.check_policy(new, user["email"])
    conn.execute(update(users).where(users.c.id == user_id).values(password_hash=passwords.hash_password(new)))
    conn.execute(delete(sessions).where(sessions.c.user_id == user_id))  # sign out everywhere
    _revoke_resets(conn, user_id)  # a reset link mailed before the change must not undo it


MAX_RESETS_PER_HOUR = 3


def request_reset(conn: Connection, email: str, settings: Settings) -> None:
    """Mail a one-time reset link (through the outbox). Says nothing about whether the account exists."""
    user = by_email(conn, email or "")
    if user is None or user["disabled"]:
        return
    recent = conn.execute(
        select(func.count()).where(password_resets.c.user_id == user["id"], password_resets.c.created_at >= now() - timedelta(hours=1))
    ).scalar_one()
    if recent >= MAX_RESETS_PER_HOUR:  # no mail storm, no pile of live tokens; the answer stays the same
        return
    token = new_secret(nbytes=32)
    conn.execute(insert(password_resets).values(token_hash=digest(token), user_id=user["id"], created_at=now(), expires_at=now() + timedelta(hours=1)))
    enqueue(
        conn,
        user["email"],
        "Reset your CarbonScope password",
        f"Someone asked to reset the password of {user['email']} on CarbonScope.\n\n"
        f"Open this link within an hour to choose a new password:\n{settings.site_url}/account/reset/{token}\n\n"
        "If it was not you, ignore this message; your password stays as it is.",
    )


def reset_password(conn: Connection, token: str, new: str) -> int:
    row = conn.execute(select(password_resets).where(password_resets.c.token_hash == digest(token or ""))).mappings().first()
    if row is None or row["used_at"] is not None or _aware(row["expires_at"]) < now():
        raise AuthError("this reset link is invalid or has expired; ask for a new one")
    user = get(conn, row["user_id"])
    passwords.check_policy(new, user["email"])
    conn.execute(update(users).where(users.c.id == user["id"]).values(password_hash=passwords.hash_password(new)))
    conn.execute(update(password_resets).where(password_resets.c.token_hash == row["token_hash"]).values(used_at=now()))
    conn.execute(delete(sessions).where(sessions.c.user_id == user["id"]))
    _revoke_resets(conn, user["id"])  # every other link of this account dies with this one
    return user["id"]


def _revoke_resets(conn: Connection, user_id: int) -> None:
    """Mark every unused reset token of the account used: one reset per link, and none after a change."""
    pr = password_resets.c
    conn.execute(update(password_resets).where(pr.user_id == user_id, pr.used_at.is_(None)).values(used_at=now()))


def delete_account(conn: Connection, user_id: int, password: str) -> None:
    """Remove the account; comments stay as "deleted user", proposals are withdrawn."""
    user = get(conn, user_id)
    if not passwords.verify(user["password_hash"], password or ""):
        raise InvalidField("password", "does not match")
    conn.execute(update(comments).where(comments.c.author_id == user_id).values(author_id=None))
    conn.execute(update(proposals).where(proposals.c.owner_id == user_id).values(owner_id=None, status="withdrawn", updated_at=now()))
    for table in (supports, watches, api_tokens, sessions, password_resets):
        conn.execute(delete(table).where(table.c.user_id == user_id))
    conn.execute(delete(users).where(users.c.id == user_id))


def set_role(conn: Connection, email: str, role: str) -> None:
    if role not in ROLES:
        raise InvalidField("role", f"one of {', '.join(ROLES)}")
    n = conn.execute(update(users).where(users.c.email == normalise_email(email)).values(role=role)).rowcount
    if not n:
        raise NotFoundError(f"no account {email!r}")


def set_disabled(conn: Connection, user_id: int, disabled: bool) -> None:
    conn.execute(update(users).where(users.c.id == user_id).values(disabled=disabled))
    if disabled:
        conn.execute(delete(sessions).where(sessions.c.user_id == user_id))


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)
