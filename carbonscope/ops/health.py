"""Health: ``/healthz`` says the process answers; ``/readyz`` that it can do its work: the database
answers and its schema is the code's (migrations current), and the queue and cache it is set to
use are reachable. Each check is named with what failed, so an orchestrator's log says why."""

from __future__ import annotations

from sqlalchemy import Engine, text

from carbonscope.settings import Settings


def readiness(settings: Settings, engine: Engine) -> dict[str, str]:
    """Check name -> "ok" or what is wrong."""
    from carbonscope.db.migrate import current_revision, head_revision

    out: dict[str, str] = {}
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        current, head = current_revision(engine), head_revision()
        out["database"] = "ok"
        out["migrations"] = (
            "ok"
            if current == head
            else f"the database is at {current}, the code needs {head}: run `carbonscope db upgrade`"
        )
    except Exception as exc:  # any driver error means not ready; its words go to the answer
        out["database"] = f"unreachable: {type(exc).__name__}: {exc}"[:300]
    if settings.queue_url:
        try:
            from kombu import Connection

            with Connection(settings.queue_url, connect_timeout=2) as c:
                c.ensure_connection(max_retries=1, timeout=2)
            out["queue"] = "ok"
        except Exception as exc:  # kombu raises the broker library's own errors
            out["queue"] = f"unreachable: {type(exc).__name__}: {exc}"[:300]
    if settings.redis_url:
        try:
            import redis

            redis.Redis.from_url(settings.redis_url, socket_connect_timeout=2).ping()
            out["cache"] = "ok"
        except Exception as exc:  # redis-py's connection errors
            out["cache"] = f"unreachable: {type(exc).__name__}: {exc}"[:300]
    return out
