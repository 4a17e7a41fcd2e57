"""Rows of the ``analyses`` table: one per job, with its status, progress, log and result folder.

Status moves queued -> running -> succeeded | failed | cancelled; a retry puts a failed or
cancelled job back in the queue. Every write that a person makes checks that they own the job
(or are an admin); reads of a private job by anyone else answer "not found"."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from carbonscope.db.schema import analyses
from carbonscope.errors import InvalidField, NotFoundError, PermissionDenied

ACTIVE = ("queued", "running")
DONE = ("succeeded", "failed", "cancelled")
MAX_LOG_CHARS = 200_000


def _now() -> datetime:
    return datetime.now(UTC)


def create(
    conn: Connection,
    owner_id: int,
    recipe: str,
    version: str,
    inputs: dict,
    area_ha: float,
    proposal_id: int | None = None,
) -> str:
    aid = secrets.token_urlsafe(12)
    conn.execute(
        analyses.insert().values(
            id=aid,
            owner_id=owner_id,
            proposal_id=proposal_id,
            recipe=recipe,
            recipe_version=version,
            inputs=inputs,
            area_ha=area_ha,
            status="queued",
            cancel_requested=False,
            progress=0.0,
            step="waiting for a worker",
            log="",
            attempts=0,
            public=False,
            created_at=_now(),
        )
    )
    return aid


def get(conn: Connection, aid: str) -> dict:
    row = conn.execute(sa.select(analyses).where(analyses.c.id == aid)).mappings().first()
    if row is None:
        raise NotFoundError(f"no analysis {aid!r}")
    return dict(row)


MAP_COLUMNS = (analyses.c.id, analyses.c.owner_id, analyses.c.public, analyses.c.status, analyses.c.summary)


def map_view(conn: Connection, aid: str, viewer: dict | None) -> dict:
    """What a map tile needs of a job the viewer may read (not its inputs: a boundary is large to parse)."""
    row = conn.execute(sa.select(*MAP_COLUMNS, analyses.c.result_folder).where(analyses.c.id == aid)).mappings().first()
    if row is None or not can_read(dict(row), viewer):
        raise NotFoundError(f"no analysis {aid!r}")
    return dict(row)


def can_read(job: dict, viewer: dict | None) -> bool:
    if job["public"]:
        return True
    return viewer is not None and (viewer["id"] == job["owner_id"] or viewer.get("role") == "admin")


def visible(conn: Connection, aid: str, viewer: dict | None) -> dict:
    """The job if ``viewer`` may read it; a private job of someone else is "not found" (no leak)."""
    job = get(conn, aid)
    if not can_read(job, viewer):
        raise NotFoundError(f"no analysis {aid!r}")
    return job


def owned(conn: Connection, aid: str, user: dict) -> dict:
    job = visible(conn, aid, user)
    if user["id"] != job["owner_id"] and user.get("role") != "admin":
        raise PermissionDenied("only the analysis' owner (or an admin) may change it")
    return job


def active_count(conn: Connection, owner_id: int) -> int:
    q = sa.select(sa.func.count()).where(analyses.c.owner_id == owner_id, analyses.c.status.in_(ACTIVE))
    return int(conn.execute(q).scalar_one())


def list_for(conn: Connection, viewer: dict, everyone: bool = False, limit: int = 100) -> list[dict]:
    """A person's own analyses, newest first (an admin's ``everyone``: all of them)."""
    q = sa.select(analyses).order_by(analyses.c.created_at.desc()).limit(limit)
    if not (everyone and viewer.get("role") == "admin"):
        q = q.where(analyses.c.owner_id == viewer["id"])
    return [dict(r) for r in conn.execute(q).mappings()]


def claim(conn: Connection, aid: str, worker: str) -> bool:
    """Mark a queued job running for ``worker``; False when it was cancelled or taken meanwhile."""
    now = _now()
    done = conn.execute(
        analyses.update()
        .where(analyses.c.id == aid, analyses.c.status == "queued", analyses.c.cancel_requested.is_(False))
        .values(
            status="running",
            worker=worker,
            started_at=now,
            heartbeat_at=now,
            attempts=analyses.c.attempts + 1,
            step="starting",
            error=None,
        )
    )
    return done.rowcount == 1


def beat(conn: Connection, aid: str, fraction: float | None = None, step: str | None = None) -> bool:
    """Record that the job is alive (and its progress); returns whether a cancel was requested."""
    values: dict = {"heartbeat_at": _now()}
    if fraction is not None:
        values["progress"] = max(0.0, min(1.0, fraction))
    if step is not None:
        values["step"] = step[:200]
    conn.execute(analyses.update().where(analyses.c.id == aid, analyses.c.status == "running").values(**values))
    flag = conn.execute(sa.select(analyses.c.cancel_requested).where(analyses.c.id == aid)).scalar()
    return bool(flag)


def append_log(conn: Connection, aid: str, lines: list[str]) -> None:
    if not lines:
        return
    old = conn.execute(sa.select(analyses.c.log).where(analyses.c.id == aid)).scalar() or ""
    text = (old + "".join(f"{line}\n" for line in lines))[-MAX_LOG_CHARS:]
    conn.execute(analyses.update().where(analyses.c.id == aid).values(log=text))


def finish(
    conn: Connection,
    aid: str,
    status: str,
    *,
    error: str | None = None,
    folder: str | None = None,
    summary: dict | None = None,
) -> None:
    values: dict = {"status": status, "finished_at": _now(), "error": error}
    if status == "succeeded":
        values.update(progress=1.0, step="done", result_folder=folder, summary=summary)
    else:
        values["step"] = status
    conn.execute(analyses.update().where(analyses.c.id == aid, analyses.c.status.in_(ACTIVE)).values(**values))


def cancel(conn: Connection, aid: str, user: dict) -> dict:
    """A queued job is cancelled at once; a running one is asked to stop (its worker checks)."""
    job = owned(conn, aid, user)
    if job["status"] == "queued":
        finish(conn, aid, "cancelled", error="cancelled before it started")
    elif job["status"] == "running":
        conn.execute(analyses.update().where(analyses.c.id == aid).values(cancel_requested=True, step="cancelling"))
    else:
        raise InvalidField("status", f"the analysis has already {job['status']}; nothing to cancel")
    return get(conn, aid)


def retry(conn: Connection, aid: str, user: dict) -> dict:
    job = owned(conn, aid, user)
    if job["status"] not in ("failed", "cancelled"):
        raise InvalidField(
            "status", f"only a failed or cancelled analysis can be retried (this one is {job['status']})"
        )
    conn.execute(
        analyses.update()
        .where(analyses.c.id == aid)
        .values(
            status="queued",
            cancel_requested=False,
            progress=0.0,
            step="waiting for a worker",
            error=None,
            finished_at=None,
            log=(job["log"] or "") + "-- retried --\n",
        )
    )
    return get(conn, aid)


def publish(conn: Connection, aid: str, user: dict, public: bool) -> None:
    job = owned(conn, aid, user)
    if public and job["status"] != "succeeded":
        raise InvalidField("public", "only a finished analysis can be published")
    conn.execute(analyses.update().where(analyses.c.id == aid).values(public=public))


def is_stale(job: dict, stale_seconds: float) -> bool:
    """A running job whose last sign of life is older than ``stale_seconds``."""
    at = job.get("heartbeat_at")
    if at is None:
        return True
    if at.tzinfo is None:  # SQLite gives back naive UTC
        at = at.replace(tzinfo=UTC)
    return at < _now() - timedelta(seconds=stale_seconds)


def reap(conn: Connection, stale_seconds: float) -> list[str]:
    """Running jobs whose worker has been silent for ``stale_seconds``: failed, with the reason."""
    cutoff = _now() - timedelta(seconds=stale_seconds)
    rows = conn.execute(
        sa.select(analyses.c.id, analyses.c.worker, analyses.c.heartbeat_at).where(
            analyses.c.status == "running", analyses.c.heartbeat_at < cutoff
        )
    ).all()
    for aid, worker, at in rows:
        conn.execute(
            analyses.update()
            .where(analyses.c.id == aid, analyses.c.status == "running")
            .values(
                status="failed",
                finished_at=_now(),
                step="failed",
                error=f"the worker ({worker}) stopped: no sign of life since {at:%Y-%m-%d %H:%M:%S} UTC; "
                "it was killed or lost its machine. Retry the analysis.",
            )
        )
    return [r[0] for r in rows]
