"""Users: register, authenticate (throttled), change or reset passwords, delete, roles."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, and_, delete, func, insert, select, update

from carbonscope import lookalike
from carbonscope.accounts import passwords
from carbonscope.accounts.secrets import digest, new_secret
from carbonscope.db.schema import (
    api_tokens,
    comments,
    email_verifications,
    login_attempts,
    outbox,
    password_resets,
    proposals,
    sessions,
    signups,
    supports,
    users,
    watches,
)
from carbonscope.errors import AuthError, InvalidField, NotFoundError, Throttled
from carbonscope.mail import enqueue, link_token
from carbonscope.settings import Settings

EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{2,}$")
ROLES = ("user", "admin")
MAX_RESETS_PER_HOUR = 3  # reset, confirmation and "you already have an account" mails per address


def now() -> datetime:
    return datetime.now(UTC)


def normalise_email(email: str) -> str:
    email = (email or "").strip().lower()
    if not EMAIL_RE.match(email) or len(email) > 254:
        raise InvalidField("email", "not a valid email address")
    if lookalike.mixed_script(email):
        raise InvalidField(
            "email",
            "mixes alphabets with letters that look alike (for example a Cyrillic \u2018\u0430\u2019 among Latin letters)",
        )
    return email


def clean_name(name: str) -> str:
    name = re.sub(r"\s+", " ", (name or "").strip())
    if not 1 <= len(name) <= 80:
        raise InvalidField("display_name", "between 1 and 80 characters")
    if any(ord(ch) < 32 or unicodedata.category(ch) == "Cf" for ch in name):
        raise InvalidField("display_name", "control and invisible characters are not allowed")
    if lookalike.mixed_script(name):
        raise InvalidField("display_name", "mixes alphabets with letters that look alike; write it in one alphabet")
    return name


def check_name_free(conn: Connection, name: str, user_id: int | None = None, staff: bool = False) -> str:
    """The look-alike key of ``name``; refuses a name that reads like another member's without being
    the same text, or (unless ``staff``) like the site's own roles."""
    key = lookalike.skeleton(name)
    if key in lookalike.RESERVED and not staff:
        raise InvalidField("display_name", "reads like a name of the site's staff; choose another")
    q = select(users.c.display_name).where(users.c.name_key == key)
    if user_id is not None:
        q = q.where(users.c.id != user_id)
    for (other,) in conn.execute(q.limit(20)):
        if other.casefold() != name.casefold():
            raise InvalidField("display_name", "looks like another member's name; choose one that reads differently")
    return key


def register(
    conn: Connection,
    email: str,
    display_name: str,
    password: str,
    role: str = "user",
    *,
    password_hash: str | None = None,
    verified: bool = True,
    policy_checked: bool = False,
) -> int:
    """Create an account (admins and the CLI: its address counts as confirmed unless ``verified`` is
    False, as for a sign-up). ``password_hash`` (of ``password``), computed before the write
    transaction, keeps Argon2's ~100 ms out of the database write lock; ``policy_checked`` says the
    caller already applied the password policy to these values (it is not run twice)."""
    email = normalise_email(email)
    name = clean_name(display_name)
    if not policy_checked:
        passwords.check_policy(password, email, name)
    if role not in ROLES:
        raise InvalidField("role", f"one of {', '.join(ROLES)}")
    if conn.execute(select(users.c.id).where(users.c.email == email)).first():
        raise InvalidField("email", "an account with this email already exists")
    key = check_name_free(conn, name, staff=role == "admin")
    return conn.execute(
        insert(users)
        .values(
            email=email,
            display_name=name,
            name_key=key,
            password_hash=password_hash or passwords.hash_password(password),
            role=role,
            feed_token=new_secret(nbytes=24),
            created_at=now(),
            disabled=False,
            email_verified_at=now() if verified else None,
        )
        .returning(users.c.id)
    ).scalar_one()


def sign_up(
    conn: Connection,
    email: str,
    display_name: str,
    password: str,
    address: str,
    settings: Settings,
    *,
    password_hash: str | None = None,
    policy_checked: bool = False,
) -> None:
    """A sign-up from the web: the same answer whether or not the address has an account (the owner of
    an existing one gets a note instead), an address confirmation mailed through the outbox, and at
    most ``signups_per_address_per_hour`` sign-ups from one client address. Form errors (a bad
    address, a weak password, a look-alike name) are the only refusals, and none says who exists."""
    email = normalise_email(email)
    name = clean_name(display_name)
    if not policy_checked:
        passwords.check_policy(password, email, name)
    since = now() - timedelta(hours=1)
    if (
        conn.execute(select(func.count()).where(signups.c.address == address, signups.c.at >= since)).scalar_one()
        >= settings.signups_per_address_per_hour
    ):
        raise Throttled("too many new accounts from your network in the last hour; try again later", 3600)
    conn.execute(insert(signups).values(address=address, at=now()))
    existing = by_email(conn, email)
    if existing is not None:
        recent = conn.execute(
            select(func.count()).where(outbox.c.to_addr == email, outbox.c.created_at >= since)
        ).scalar_one()
        if recent < MAX_RESETS_PER_HOUR:
            enqueue(
                conn,
                email,
                "Someone tried to open a CarbonScope account with your address",
                f"Someone asked to open a CarbonScope account for {email}, which already has one.\n\n"
                f"If it was you, sign in at {settings.site_url}/account/login, or choose a new password at "
                f"{settings.site_url}/account/reset.\nIf it was not you, ignore this message; nothing has changed.",
            )
        return
    uid = register(conn, email, name, password, password_hash=password_hash, verified=False, policy_checked=True)
    send_confirmation(conn, uid, email, settings)


def send_confirmation(conn: Connection, user_id: int, email: str, settings: Settings) -> None:
    nonce = new_secret(nbytes=24)
    token = link_token(settings.secret_key, "verify", nonce)
    conn.execute(
        insert(email_verifications).values(
            token_hash=digest(token),
            user_id=user_id,
            created_at=now(),
            expires_at=now() + timedelta(hours=settings.verify_hours),
        )
    )
    enqueue(
        conn,
        email,
        "Confirm your CarbonScope account",
        f"Welcome to CarbonScope. Open this link within {settings.verify_hours} hours to confirm {email} and sign in:\n{{link}}\n\n"
        "If you did not ask for an account, ignore this message: nobody can sign in with this address until the link is opened.",
        link={"purpose": "verify", "nonce": nonce, "path": "/account/verify/"},
    )


def resend_confirmation(conn: Connection, email: str, settings: Settings) -> None:
    """Another confirmation link for an unconfirmed account (at most 3 an hour); silent otherwise."""
    user = by_email(conn, email or "")
    if user is None or user["disabled"] or user["email_verified_at"] is not None:
        return
    ev = email_verifications.c
    if (
        conn.execute(
            select(func.count()).where(ev.user_id == user["id"], ev.created_at >= now() - timedelta(hours=1))
        ).scalar_one()
        >= MAX_RESETS_PER_HOUR
    ):
        return
    send_confirmation(conn, user["id"], user["email"], settings)


def verify_email(conn: Connection, token: str) -> int:
    """Confirm the address of the link's account; every other confirmation link of it dies. Returns the user id."""
    ev = email_verifications.c
    row = conn.execute(select(email_verifications).where(ev.token_hash == digest(token or ""))).mappings().first()
    if row is None or row["used_at"] is not None or _aware(row["expires_at"]) < now():
        raise AuthError("this confirmation link is invalid or has expired; sign in to ask for a new one")
    user = get(conn, row["user_id"])
    if user["disabled"]:
        raise AuthError("this confirmation link is invalid or has expired; sign in to ask for a new one")
    conn.execute(
        update(email_verifications).where(ev.user_id == user["id"], ev.used_at.is_(None)).values(used_at=now())
    )
    if user["email_verified_at"] is None:
        conn.execute(update(users).where(users.c.id == user["id"]).values(email_verified_at=now()))
    return user["id"]


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
        raise Throttled(
            f"too many failed sign-ins; try again in {settings.login_window_minutes} minutes",
            settings.login_window_minutes * 60,
        )


@dataclass
class Credentials:
    email: str
    user: dict | None  # None: wrong email or password, or an account that may not sign in
    new_hash: str | None = None  # the password hashed again with current parameters
    unconfirmed: bool = False  # right password, address not confirmed yet


def verify_credentials(conn: Connection, email: str, password: str, address: str, settings: Settings) -> Credentials:
    """Read-only and slow (Argon2): run it on a read connection, outside any write transaction.
    Too many recent failures for this account or address raise Throttled."""
    email = (email or "").strip().lower()[:254]
    _throttle(conn, email, address, settings)
    user = by_email(conn, email)
    # One Argon2 verification for every account state (none, disabled, unconfirmed, active): the
    # answer's timing tells nothing.
    if user is None:
        passwords.dummy_verify(password or "")
        return Credentials(email, None)
    ok = passwords.verify(user["password_hash"], password or "")
    if not ok or user["disabled"]:
        return Credentials(email, None)
    if user["email_verified_at"] is None:
        return Credentials(email, None, unconfirmed=True)
    new_hash = (
        passwords.hash_password(password) if passwords.hasher().check_needs_rehash(user["password_hash"]) else None
    )
    return Credentials(email, user, new_hash)


def record_login(conn: Connection, creds: Credentials, address: str) -> None:
    """The write half of a sign-in (short): the attempt, and a rehash if one is due."""
    conn.execute(
        insert(login_attempts).values(email=creds.email, address=address, at=now(), success=creds.user is not None)
    )
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
    passwords.check_policy(new, user["email"], user["display_name"])
    conn.execute(update(users).where(users.c.id == user_id).values(password_hash=passwords.hash_password(new)))
    conn.execute(delete(sessions).where(sessions.c.user_id == user_id))  # sign out everywhere
    _revoke_resets(conn, user_id)  # a reset link mailed before the change must not undo it


def request_reset(conn: Connection, email: str, settings: Settings) -> None:
    """Mail a one-time reset link (through the outbox). Says nothing about whether the account exists."""
    user = by_email(conn, email or "")
    if user is None or user["disabled"]:
        return
    recent = conn.execute(
        select(func.count()).where(
            password_resets.c.user_id == user["id"], password_resets.c.created_at >= now() - timedelta(hours=1)
        )
    ).scalar_one()
    if recent >= MAX_RESETS_PER_HOUR:  # no mail storm, no pile of live tokens; the answer stays the same
        return
    nonce = new_secret(nbytes=24)  # the outbox keeps this, not the link: the link is rendered when sent
    token = link_token(settings.secret_key, "reset", nonce)
    conn.execute(
        insert(password_resets).values(
            token_hash=digest(token), user_id=user["id"], created_at=now(), expires_at=now() + timedelta(hours=1)
        )
    )
    enqueue(
        conn,
        user["email"],
        "Reset your CarbonScope password",
        f"Someone asked to reset the password of {user['email']} on CarbonScope.\n\n"
        "Open this link within an hour to choose a new password:\n{link}\n\n"
        "If it was not you, ignore this message; your password stays as it is.",
        link={"purpose": "reset", "nonce": nonce, "path": "/account/reset/"},
    )


def reset_password(conn: Connection, token: str, new: str) -> int:
    row = (
        conn.execute(select(password_resets).where(password_resets.c.token_hash == digest(token or "")))
        .mappings()
        .first()
    )
    if row is None or row["used_at"] is not None or _aware(row["expires_at"]) < now():
        raise AuthError("this reset link is invalid or has expired; ask for a new one")
    user = get(conn, row["user_id"])
    passwords.check_policy(new, user["email"], user["display_name"])
    conn.execute(update(users).where(users.c.id == user["id"]).values(password_hash=passwords.hash_password(new)))
    if user["email_verified_at"] is None:  # the reset link came to this address: it is confirmed
        conn.execute(update(users).where(users.c.id == user["id"]).values(email_verified_at=now()))
    conn.execute(update(password_resets).where(password_resets.c.token_hash == row["token_hash"]).values(used_at=now()))
    conn.execute(delete(sessions).where(sessions.c.user_id == user["id"]))
    _revoke_resets(conn, user["id"])  # every other link of this account dies with this one
    return user["id"]


def _revoke_resets(conn: Connection, user_id: int) -> None:
    """Mark every unused reset token of the account used: one reset per link, and none after a change."""
    pr = password_resets.c
    conn.execute(update(password_resets).where(pr.user_id == user_id, pr.used_at.is_(None)).values(used_at=now()))


def delete_account(conn: Connection, user_id: int, password: str) -> None:
    """Remove the account and the personal data kept with it (its e-mail address in sign-in attempts
    and in the outbox included); comments stay as "deleted user", proposals are withdrawn."""
    user = get(conn, user_id)
    if not passwords.verify(user["password_hash"], password or ""):
        raise InvalidField("password", "does not match")
    conn.execute(update(comments).where(comments.c.author_id == user_id).values(author_id=None))
    conn.execute(
        update(proposals)
        .where(proposals.c.owner_id == user_id)
        .values(owner_id=None, status="withdrawn", updated_at=now())
    )
    for table in (supports, watches, api_tokens, sessions, password_resets, email_verifications):
        conn.execute(delete(table).where(table.c.user_id == user_id))
    conn.execute(delete(login_attempts).where(login_attempts.c.email == user["email"]))
    conn.execute(delete(outbox).where(outbox.c.to_addr == user["email"]))
    conn.execute(delete(users).where(users.c.id == user_id))


def rotate_feed_token(conn: Connection, user_id: int) -> str:
    """A new private feed address; the old one stops working."""
    token = new_secret(nbytes=24)
    conn.execute(update(users).where(users.c.id == user_id).values(feed_token=token))
    return token


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
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)
