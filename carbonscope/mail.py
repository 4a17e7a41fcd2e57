"""The outbox: mail is queued in the database with the change that caused it, then delivered by
SMTP when configured, or written to the log (and listed for admins) when not.

A mail that carries a secret link (password reset, address confirmation) is stored with ``{link}``
in its body and the link's nonce in ``params``; the link is rendered from the site's key only when
the mail goes out, and the nonce is wiped then. Admins see that such a mail was sent, never its link.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import smtplib
from datetime import UTC, datetime
from email.message import EmailMessage

from sqlalchemy import Connection, Engine, insert, select, update

from carbonscope.db.engine import write as db_write
from carbonscope.db.schema import outbox
from carbonscope.settings import Settings

log = logging.getLogger("carbonscope.mail")
LINK = "{link}"


def link_token(secret_key: str | None, purpose: str, nonce: str) -> str:
    """The token of a mailed link, derived from the site's signing key and a random nonce. The outbox
    keeps only the nonce (until the mail is sent), so reading the database, or the admin page, never
    gives a working reset or confirmation link; the database keeps only the token's digest."""
    if not secret_key:
        raise RuntimeError("no signing key: use Settings.with_secret() before making a mailed link")
    return hmac.new(secret_key.encode(), f"{purpose}:{nonce}".encode(), hashlib.sha256).hexdigest()


def enqueue(conn: Connection, to: str, subject: str, body: str, link: dict | None = None) -> int:
    """Queue a mail. ``link``: ``{"purpose", "nonce", "path"}`` of a secret link that ``body`` holds as
    ``{link}``."""
    if link is not None and LINK not in body:
        raise ValueError("a mail with a secret link needs {link} in its body")
    return conn.execute(
        insert(outbox)
        .values(
            to_addr=to,
            subject=subject,
            body=body,
            params={"link": link} if link else None,
            created_at=datetime.now(UTC),
        )
        .returning(outbox.c.id)
    ).scalar_one()


def render(row: dict, settings: Settings) -> str:
    """The body as it is sent: a secret link rendered from the site's key."""
    link = (row.get("params") or {}).get("link")
    if not link:
        return row["body"]
    token = link_token(settings.secret_key, link["purpose"], link["nonce"])
    return row["body"].replace(LINK, f"{settings.site_url}{link['path']}{token}")


def shown(row: dict) -> str:
    """The body as an admin may read it: without a secret link."""
    return row["body"].replace(LINK, "[a one-time link, added when the mail is sent]")


def deliver(engine: Engine, settings: Settings, limit: int = 500) -> dict:
    """Send queued mail. Without SMTP settings each message is logged and marked as sent to the log;
    in production a mail with a secret link is not logged (it stays queued until SMTP is set)."""
    settings = settings.with_secret()
    sent = failed = held = 0
    with db_write(engine) as conn:
        rows = (
            conn.execute(
                select(outbox)
                .where(outbox.c.sent_at.is_(None))
                .order_by(outbox.c.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
            .mappings()
            .all()
        )
        for r in rows:
            secret = bool((r["params"] or {}).get("link"))
            try:
                if settings.smtp_host:
                    msg = EmailMessage()
                    msg["From"], msg["To"], msg["Subject"] = settings.smtp_from, r["to_addr"], r["subject"]
                    msg.set_content(render(dict(r), settings))
                    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30) as smtp:
                        smtp.starttls()
                        if settings.smtp_user:
                            smtp.login(settings.smtp_user, settings.smtp_password or "")
                        smtp.send_message(msg)
                    error = None
                elif secret and settings.env == "production":
                    conn.execute(
                        update(outbox)
                        .where(outbox.c.id == r["id"])
                        .values(error="not sent: no SMTP configured (a mail with a link is never logged in production)")
                    )
                    held += 1
                    continue
                else:
                    # a warning, so a development server's console shows it (its confirmation links included)
                    log.warning(
                        "mail (no SMTP configured) to %s: %s\n%s", r["to_addr"], r["subject"], render(dict(r), settings)
                    )
                    error = "no SMTP configured: written to the log"
                conn.execute(
                    update(outbox)
                    .where(outbox.c.id == r["id"])
                    .values(sent_at=datetime.now(UTC), error=error, params=None)
                )
                sent += 1
            except (OSError, smtplib.SMTPException) as exc:
                conn.execute(update(outbox).where(outbox.c.id == r["id"]).values(error=str(exc)))
                failed += 1
    return {"sent": sent, "failed": failed, "held": held}
