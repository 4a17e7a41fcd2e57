"""The outbox: mail is queued in the database with the change that caused it, then delivered by
SMTP when configured, or written to the log (and shown to admins) when not."""

from __future__ import annotations

import logging
import smtplib
from datetime import datetime, timezone
from email.message import EmailMessage

from sqlalchemy import Connection, Engine, insert, select, update

from carbonscope.db.schema import outbox
from carbonscope.settings import Settings
from carbonscope.db.engine import write as db_write

log = logging.getLogger("carbonscope.mail")


def enqueue(conn: Connection, to: str, subject: str, body: str) -> int:
    return conn.execute(insert(outbox).values(to_addr=to, subject=subject, body=body, created_at=datetime.now(timezone.utc)).returning(outbox.c.id)).scalar_one()


def deliver(engine: Engine, settings: Settings, limit: int = 500) -> dict:
    """Send queued mail. Without SMTP settings each message is logged and marked as sent to the log."""
    sent = failed = 0
    with db_write(engine) as conn:
        rows = conn.execute(select(outbox).where(outbox.c.sent_at.is_(None)).order_by(outbox.c.id).limit(limit)).mappings().all()
        for r in rows:
            try:
                if settings.smtp_host:
                    msg = EmailMessage()
                    msg["From"], msg["To"], msg["Subject"] = settings.smtp_from, r["to_addr"], r["subject"]
                    msg.set_content(r["body"])
                    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30) as smtp:
                        smtp.starttls()
                        if settings.smtp_user:
                            smtp.login(settings.smtp_user, settings.smtp_password or "")
                        smtp.send_message(msg)
                    error = None
                else:
                    log.info("mail to %s: %s\n%s", r["to_addr"], r["subject"], r["body"])
                    error = "no SMTP configured: written to the log"
                conn.execute(update(outbox).where(outbox.c.id == r["id"]).values(sent_at=datetime.now(timezone.utc), error=error))
                sent += 1
            except (OSError, smtplib.SMTPException) as exc:
                conn.execute(update(outbox).where(outbox.c.id == r["id"]).values(error=str(exc)))
                failed += 1
    return {"sent": sent, "failed": failed}
