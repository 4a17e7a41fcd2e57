"""Housekeeping: send queued mail and prune what has expired (run by the web app every
``housekeeping_minutes``, and by ``carbonscope outbox send`` / ``carbonscope prune``)."""

from __future__ import annotations

from sqlalchemy import Engine

from carbonscope import mail
from carbonscope.accounts.prune import prune
from carbonscope.analyses import store as analysis_store
from carbonscope.community.documents import sweep_orphans
from carbonscope.db.engine import write as db_write
from carbonscope.settings import Settings


def deliver_mail(settings: Settings, engine: Engine) -> dict:
    return mail.deliver(engine, settings)


def housekeeping(settings: Settings, engine: Engine, prune_too: bool = True) -> dict:
    """Send queued mail; with ``prune_too``, delete expired rows and upload files no document refers to."""
    out: dict = {"mail": deliver_mail(settings, engine)}
    if prune_too:
        with db_write(engine) as tx:
            out["pruned"] = prune(tx, settings)
            out["orphan files"] = sweep_orphans(tx, settings.uploads_dir)
            out["lost analyses"] = len(analysis_store.reap(tx, settings.analysis_stale_seconds))
    return out
