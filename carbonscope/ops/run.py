"""What each scheduled job does, what its run record says (files, sizes, rows, changes), and the
alerts a run raises or clears: one ``tick`` of the scheduler."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
from sqlalchemy import Engine

from carbonscope.ingest.checks import stale
from carbonscope.ops import alerts, backup
from carbonscope.ops.schedule import Outcome, run_due
from carbonscope.settings import Settings


def _ingest_detail(report) -> dict:
    if report is None:
        return {}
    return {
        "files": [
            {"file": f.path.rsplit("/", 1)[-1], "kind": f.kind, "status": f.status, "rows": f.rows}
            for f in report.files
        ],
        "new_projects": report.new_projects,
        "new_events": report.new_events,
        "changes": report.changes,
    }


def run_job(settings: Settings, engine: Engine, job: str, transport: httpx.BaseTransport | None = None) -> Outcome:
    from carbonscope import jobs

    if job.startswith("refresh:"):
        source = job.split(":", 1)[1]
        report = jobs.refresh_registries(settings, engine, [source], transport=transport)
        detail = {
            "downloaded": [{"file": p.name, "bytes": p.stat().st_size} for p in report.downloaded.get(source, [])],
            **_ingest_detail(report.ingest),
        }
        if source in report.failed:
            return Outcome("failed", detail, report.failed[source])
        if source in report.skipped:
            return Outcome("skipped", detail, report.skipped[source])
        return Outcome("ok", detail)
    if job == "news":
        news = jobs.refresh_news(settings, engine, transport=transport)
        detail = {"feeds": news.feeds, **news.saved, "failed_feeds": len(news.failed)}
        if news.failed:
            why = "; ".join(f"{url}: {reason}" for url, reason in news.failed.items())
            return Outcome("failed", detail, f"{len(news.failed)} of {news.feeds} feeds failed: {why}")
        return Outcome("ok", detail)
    if job == "folders":
        if not settings.ingest_folders and not settings.news_folders:
            return Outcome("skipped", {}, "no ingest_folders or news_folders set")
        detail = {}
        if settings.ingest_folders:
            detail = _ingest_detail(jobs.ingest_files(list(settings.ingest_folders), engine, command="scheduled"))
        if settings.news_folders:
            from carbonscope.db.engine import write as db_write
            from carbonscope.news import sources, store

            items = [it for f in sources.news_files(list(settings.news_folders)) for it in sources.from_path(f)]
            with db_write(engine) as tx:
                detail["news"] = store.save(tx, items)
        return Outcome("ok", detail)
    if job == "backup":
        return Outcome("ok", backup.scheduled(settings))
    return Outcome("failed", {}, f"unknown job {job!r}")


def _observe(settings: Settings, engine: Engine, job: str, result: Outcome, now: datetime, transport) -> None:
    if result.outcome in ("skipped", "queued"):
        return
    message = result.error or _summary(result.detail)
    alerts.observe(settings, engine, job, result.outcome == "ok", message, now, transport)


def tick(
    settings: Settings, engine: Engine, now: datetime | None = None, transport: httpx.BaseTransport | None = None
) -> list[tuple[str, Outcome]]:
    """Run what is due at ``now`` (here, or on the queue's workers with ``schedules_via_queue``),
    alert on each run's change of state, and check freshness."""
    now = now or datetime.now(UTC)
    dispatch = None
    if settings.schedules_via_queue:
        from carbonscope.analyses.queue import submit_scheduled

        def dispatch(run_id: int) -> None:
            submit_scheduled(settings, run_id)

    done = run_due(
        settings,
        engine,
        lambda job: run_job(settings, engine, job, transport),
        now,
        lambda job, result: _observe(settings, engine, job, result, now, transport),
        dispatch,
    )
    scheduled = [job.split(":", 1)[1] for job in settings.schedules if job.startswith("refresh:")]
    with engine.connect() as conn:
        late = stale(conn, settings, scheduled, now)
    for source in scheduled:
        alerts.observe(
            settings, engine, f"stale:{source}", source not in late, late.get(source, "fresh"), now, transport
        )
    return done


def _summary(detail: dict) -> str:
    if "new_events" in detail:
        return f"{detail.get('new_events', 0):,} new events, {detail.get('changes', 0):,} changes"
    if "new" in detail:
        return f"{detail['new']:,} new items"
    return "done"


def execute_claimed(settings: Settings, engine: Engine, run_id: int) -> str:
    """A queue worker runs a scheduled run the scheduler claimed: runs it, records it, alerts."""
    from carbonscope.ops.schedule import finish, take_over

    job = take_over(engine, run_id)
    if job is None:
        return "skipped"
    try:
        result = run_job(settings, engine, job)
    except Exception as exc:  # recorded and alerted like a failure in the scheduler itself
        result = Outcome("failed", {}, f"{type(exc).__name__}: {exc}")
    now = datetime.now(UTC)
    finish(engine, run_id, result.outcome, result.detail, result.error, now)
    _observe(settings, engine, job, result, now, None)
    return result.outcome
