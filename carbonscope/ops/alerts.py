"""Alerts: one message when something starts failing, one when it recovers, and a reminder when
it is still failing after ``alert_reminder_hours``; never one per failed run (no storm).

Each thing watched has a key (``refresh:verra``, ``stale:verra``, ``news``, ``backup``) and a state
in ``alert_states``. Channels from settings: e-mail through the outbox (delivered with the site's
other mail) and a webhook (a JSON POST with a ``text`` field, which Slack's incoming webhooks and
most chat tools accept).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import Engine, insert, select, update

from carbonscope.db.schema import alert_states
from carbonscope.mail import enqueue
from carbonscope.settings import Settings

log = logging.getLogger("carbonscope.alerts")


def observe(
    settings: Settings,
    engine: Engine,
    key: str,
    ok: bool,
    message: str,
    now: datetime | None = None,
    transport: httpx.BaseTransport | None = None,  # tests: a local server's transport
) -> str | None:
    """Record what ``key`` did now; returns what was sent: "alert", "recovery", "reminder" or None."""
    now = now or datetime.now(UTC)
    a = alert_states.c
    with engine.begin() as tx:
        row = tx.execute(select(alert_states).where(a.key == key).with_for_update()).mappings().first()
        state = "ok" if ok else "failing"
        sent = None
        if row is None:
            sent = None if ok else "alert"
            tx.execute(
                insert(alert_states).values(
                    key=key, state=state, since=now, last_sent_at=now if sent else None, message=message
                )
            )
        elif row["state"] != state:
            sent = "recovery" if ok else "alert"
            tx.execute(
                update(alert_states)
                .where(a.key == key)
                .values(state=state, since=now, last_sent_at=now, message=message)
            )
        elif not ok and _older(row["last_sent_at"], now, timedelta(hours=settings.alert_reminder_hours)):
            sent = "reminder"
            tx.execute(update(alert_states).where(a.key == key).values(last_sent_at=now, message=message))
        elif not ok:
            tx.execute(update(alert_states).where(a.key == key).values(message=message))
        if sent:
            subject, body = _words(settings, key, sent, message, row, now)
            for to in settings.alert_emails:
                enqueue(tx, to, subject, body)
    if sent and settings.alert_webhook_url:
        _post(settings.alert_webhook_url, f"{subject}\n{body}", transport)
    return sent


def _older(when: datetime | None, now: datetime, limit: timedelta) -> bool:
    if when is None:
        return True
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    return now - when >= limit


def _words(settings: Settings, key: str, sent: str, message: str, row, now: datetime) -> tuple[str, str]:
    site = settings.site_url.rstrip("/")
    if sent == "recovery":
        since = row["since"] if row else now
        since = since if since.tzinfo else since.replace(tzinfo=UTC)
        return (
            f"[CarbonScope] recovered: {key}",
            f"{key} works again ({message}); it had been failing since {since:%Y-%m-%d %H:%M} UTC.\n{site}/data",
        )
    label = "still failing" if sent == "reminder" else "failing"
    return (
        f"[CarbonScope] {label}: {key}",
        f"{key} is {label}: {message}\nThe database keeps what it had; the data page shows the last runs: {site}/data",
    )


def _post(url: str, text: str, transport: httpx.BaseTransport | None) -> None:
    try:
        with httpx.Client(timeout=10, transport=transport) as client:
            client.post(url, json={"text": text}).raise_for_status()
    except httpx.HTTPError as exc:  # the alert is also in the log and, when set, in the mail
        log.error("alert webhook %s failed: %s", url, exc)


def states(engine: Engine) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(alert_states).order_by(alert_states.c.key)).mappings()]
