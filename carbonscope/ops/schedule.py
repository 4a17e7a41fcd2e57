"""Schedules: which job is due when (cron, UTC, APScheduler's trigger), each fire time run once
(a row per run in ``schedule_runs``, unique per job and fire time, so a second scheduler or a
restarted one never runs it twice), and the record of what each run did.

The clock is a parameter: ``due(now)`` and ``run_due(now)`` are what the tests drive; the
``carbonscope scheduler`` loop and the site's embedded thread only call them with the real time.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from carbonscope.db.schema import schedule_runs
from carbonscope.errors import InvalidField
from carbonscope.registry.exports import EXPORTS
from carbonscope.settings import Settings

FIXED_JOBS = ("news", "folders", "backup")
# A run with no end whose process is gone (same host, pid not alive), or older than this on another
# host, was cut short: it is marked abandoned and runs again (the same fire time, once).
ABANDONED_AFTER = timedelta(hours=6)


def job_names() -> list[str]:
    return [f"refresh:{r.source}" for r in EXPORTS.values() if r.automated] + list(FIXED_JOBS)


@dataclass(frozen=True)
class Due:
    job: str
    due_at: datetime  # the fire time this run answers


def triggers(settings: Settings) -> dict[str, CronTrigger]:
    known = set(job_names())
    out = {}
    for job, expr in settings.schedules.items():
        if job not in known:
            raise InvalidField(f"schedules.{job}", f"a job name: {', '.join(sorted(known))}")
        out[job] = CronTrigger.from_crontab(expr, timezone=UTC)
    return out


def last_fire(trigger: CronTrigger, now: datetime) -> datetime | None:
    """The latest fire time at or before ``now`` (within the last 31 days)."""
    t = trigger.get_next_fire_time(None, now - timedelta(days=31))
    last = None
    while t is not None and t <= now:
        last = t
        t = trigger.get_next_fire_time(t, t + timedelta(seconds=1))
    return last


def due(settings: Settings, engine: Engine, now: datetime) -> list[Due]:
    """Jobs whose latest fire time has no run yet (a missed fire time runs once, not once per miss)."""
    out = []
    with engine.connect() as conn:
        for job, trigger in triggers(settings).items():
            fire = last_fire(trigger, now)
            if fire is None:
                continue
            ran = conn.execute(
                select(func.count()).where(
                    schedule_runs.c.job == job, schedule_runs.c.due_at >= fire, schedule_runs.c.outcome != "abandoned"
                )
            ).scalar_one()
            if not ran:
                out.append(Due(job, fire))
    return out


def next_fire(settings: Settings, now: datetime) -> datetime | None:
    times = [t.get_next_fire_time(None, now) for t in triggers(settings).values()]
    return min((t for t in times if t is not None), default=None)


def _me() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def claim(engine: Engine, d: Due, now: datetime, worker: str | None = None) -> int | None:
    """The run's row, or None when another scheduler claimed this fire time first (the unique
    (job, fire time) row decides; an abandoned row is taken over by one UPDATE, just as atomically)."""
    r = schedule_runs.c
    try:
        with engine.begin() as tx:
            taken = tx.execute(
                update(schedule_runs)
                .where(r.job == d.job, r.due_at == d.due_at, r.outcome == "abandoned")
                .values(outcome="running", started_at=now, worker=worker or _me(), finished_at=None, error=None)
                .returning(r.id)
            ).scalar_one_or_none()
            if taken is not None:
                return taken
            return tx.execute(
                insert(schedule_runs)
                .values(job=d.job, due_at=d.due_at, started_at=now, outcome="running", worker=worker or _me())
                .returning(r.id)
            ).scalar_one()
    except IntegrityError:
        return None


def finish(engine: Engine, run_id: int, outcome: str, detail: dict | None, error: str | None, now: datetime) -> None:
    with engine.begin() as tx:
        tx.execute(
            update(schedule_runs)
            .where(schedule_runs.c.id == run_id)
            .values(outcome=outcome, detail=detail, error=error, finished_at=now)
        )


def take_over(engine: Engine, run_id: int) -> str | None:
    """A worker takes a queued run: the job's name, or None when the run is finished, or running in a
    process that is still alive (a message delivered twice runs once)."""
    r = schedule_runs.c
    with engine.begin() as tx:
        row = tx.execute(select(r.job, r.outcome, r.worker, r.started_at).where(r.id == run_id)).first()
        if row is None or row.outcome not in ("running", "abandoned"):
            return None
        if row.outcome == "running" and row.worker and row.worker != "queued" and row.worker != _me():
            if not _gone(row.worker, row.started_at, datetime.now(UTC)):
                return None
        tx.execute(update(schedule_runs).where(r.id == run_id).values(outcome="running", worker=_me()))
        return row.job


def _gone(worker: str | None, started_at: datetime, now: datetime) -> bool:
    host, _, pid = (worker or "").rpartition(":")
    if host == socket.gethostname() and pid.isdigit():
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False
    started = started_at if started_at.tzinfo else started_at.replace(tzinfo=UTC)
    return started < now - ABANDONED_AFTER


def reclaim_abandoned(engine: Engine, now: datetime) -> int:
    """Runs left 'running' by a process that died are marked abandoned: ``due`` offers their fire
    time again and ``claim`` takes it over, so the work is redone once, not lost and not doubled."""
    r = schedule_runs.c
    with engine.begin() as tx:
        running = tx.execute(select(r.id, r.worker, r.started_at).where(r.outcome == "running")).all()
        gone = [rid for rid, worker, started in running if _gone(worker, started, now)]
        for rid in gone:
            tx.execute(
                update(schedule_runs)
                .where(r.id == rid, r.outcome == "running")
                .values(outcome="abandoned", error="the process running it stopped before it finished")
            )
    return len(gone)


@dataclass
class Outcome:
    outcome: str  # ok | failed | skipped (| queued: handed to a worker)
    detail: dict
    error: str | None = None


Runner = Callable[[str], Outcome]


def run_due(
    settings: Settings,
    engine: Engine,
    runner: Runner,
    now: datetime,
    on_done: Callable[[str, Outcome], None] | None = None,
    dispatch: Callable[[int], None] | None = None,
) -> list[tuple[str, Outcome]]:
    """Run every due job once (claimed first, so two schedulers share the work without repeats);
    with ``dispatch`` the claimed run is handed to the queue instead (a worker runs and finishes it)."""
    reclaim_abandoned(engine, now)
    done = []
    for d in due(settings, engine, now):
        run_id = claim(engine, d, now, worker="queued" if dispatch is not None else None)
        if run_id is None:
            continue
        if dispatch is not None:
            dispatch(run_id)
            done.append((d.job, Outcome("queued", {})))
            continue
        try:
            result = runner(d.job)
        except Exception as exc:  # a job's failure is recorded and alerted, never stops the others
            result = Outcome("failed", {}, f"{type(exc).__name__}: {exc}")
        finish(engine, run_id, result.outcome, result.detail, result.error, datetime.now(UTC))
        if on_done is not None:
            on_done(d.job, result)
        done.append((d.job, result))
    return done


def last_runs(engine: Engine, limit: int = 30) -> list[dict]:
    r = schedule_runs.c
    with engine.connect() as conn:
        return [
            dict(row)
            for row in conn.execute(
                select(r.job, r.due_at, r.started_at, r.finished_at, r.outcome, r.detail, r.error)
                .order_by(r.started_at.desc(), r.id.desc())
                .limit(limit)
            ).mappings()
        ]
