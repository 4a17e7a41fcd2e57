"""The task queue: Celery, on the broker the settings name.

Unset, the broker is a SQLite file beside the data (kombu's SQLAlchemy transport), so the default
setup needs no server; ``redis://`` and ``amqp://`` (RabbitMQ) URLs use those servers, and workers on
other machines (``carbonscope worker``) take jobs from them. The job's row, not the broker, holds its
state: a message only says "run job X", and a worker that gets a job already cancelled skips it."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from carbonscope.settings import Settings, get_settings

TASK = "carbonscope.analyse"
SCHEDULED = "carbonscope.scheduled"  # a scheduled run (ops.schedule) handed to a worker


@lru_cache(maxsize=4)
def app_for(url: str) -> Any:
    from celery import Celery

    if url.startswith("sqla+sqlite:///"):
        Path(url.removeprefix("sqla+sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    app = Celery("carbonscope", broker=url)
    app.conf.update(
        task_ignore_result=True,
        task_acks_late=True,  # a message is done only when the job is: a lost worker's job is not lost silently
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,  # one job at a time per worker: a long job does not hold others back
        broker_connection_retry_on_startup=True,
        # kombu's SQLAlchemy transport hands its options to create_engine; it polls once a second
        broker_transport_options={} if url.startswith("sqla+") else {"polling_interval": 0.5},
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        accept_content=["json"],
        task_serializer="json",
    )

    @app.task(name=TASK)
    def analyse(aid: str) -> str:
        from carbonscope.analyses.runner import run_job
        from carbonscope.db.engine import get_engine
        from carbonscope.db.migrate import ensure_schema

        settings = get_settings()
        engine = get_engine()
        ensure_schema(engine)
        return run_job(settings, engine, aid)

    @app.task(name=SCHEDULED)
    def scheduled(run_id: int) -> str:
        from carbonscope.db.engine import get_engine
        from carbonscope.db.migrate import ensure_schema
        from carbonscope.ops.run import execute_claimed

        engine = get_engine()
        ensure_schema(engine)
        return execute_claimed(get_settings(), engine, run_id)

    return app


def submit(settings: Settings, aid: str) -> None:
    """Put job ``aid`` on the queue."""
    app_for(settings.effective_queue_url).send_task(TASK, args=[aid], queue=settings.queue_name)


def submit_scheduled(settings: Settings, run_id: int) -> None:
    """Hand a claimed scheduled run to the workers."""
    app_for(settings.effective_queue_url).send_task(SCHEDULED, args=[run_id], queue=settings.queue_name)


def work(settings: Settings, loglevel: str = "INFO") -> None:
    """Run a worker in this process until it is stopped (``carbonscope worker``).

    The ``solo`` pool runs each job in the worker process itself: one job at a time, raster work
    parallel inside it (dask), and a SIGKILL of the worker takes the job with it, which the
    heartbeat then reports. For more jobs at once, start more workers."""
    import os

    os.nice(settings.analysis_worker_nice)  # the site's requests come first; the job's raster work after
    app = app_for(settings.effective_queue_url)
    argv = [
        "worker",
        "--pool=solo",
        f"--loglevel={loglevel}",
        "-Q",
        settings.queue_name,
        "--without-heartbeat",
        "--without-gossip",
    ]
    argv += ["--without-mingle"]
    app.worker_main(argv)
