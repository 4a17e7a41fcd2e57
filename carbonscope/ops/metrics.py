"""Metrics in Prometheus' format (prometheus-client): requests by route and status with latency
histograms, and, read from the database at each scrape, analysis jobs by recipe and outcome with
their durations, queue depth, refresh age and rows per registry, the last outcome of each
schedule, failing alerts and the database's size.

With several web workers each process counts its own requests: ``serve`` then points
``PROMETHEUS_MULTIPROC_DIR`` at a fresh folder and the scrape adds every worker's counts
(prometheus-client's multiprocess mode).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric, SummaryMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func, select, text
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUESTS = Counter("carbonscope_http_requests", "HTTP requests", ["route", "method", "status"])
LATENCY = Histogram(
    "carbonscope_http_request_duration_seconds",
    "time to answer an HTTP request",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


class RequestMetrics:
    """Pure ASGI middleware (outermost): every request counted under its route template
    (``/projects/{project_id}``, never the raw path), a cached answer under ``cached``."""

    def __init__(self, app: ASGIApp, skip: tuple[str, ...] = ("/metrics",)):
        self.app = app
        self.skip = skip

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.skip:
            return await self.app(scope, receive, send)
        start = time.perf_counter()
        code, cached = [500], [False]

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                code[0] = message["status"]
                cached[0] = any(k == b"x-cache" and v == b"hit" for k, v in message.get("headers", []))
            await send(message)

        try:
            await self.app(scope, receive, wrapped)
        finally:
            name = route_name(scope, cached[0])
            REQUESTS.labels(name, scope["method"], str(code[0])).inc()
            LATENCY.labels(name, scope["method"]).observe(time.perf_counter() - start)


def route_name(scope: Scope, cached: bool) -> str:
    """The route template with its router's prefix (``/api/v1/projects/{project_id}``: FastAPI keeps it
    in its scope), else the route's own path; ``cached``, ``static`` or ``unmatched`` otherwise."""
    if cached:
        return "cached"
    context = (scope.get("fastapi") or {}).get("effective_route_context")
    route = getattr(context, "path_format", None) or getattr(scope.get("route"), "path", None)
    if route:
        return route
    return "static" if scope["path"].startswith("/static/") else "unmatched"


class DatabaseCollector(Collector):
    """Gauges read from the database at each scrape (the same answer from every worker)."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        from carbonscope.db.schema import alert_states, analyses, projects, schedule_runs, source_files

        now = datetime.now(UTC)
        with self.engine.connect() as conn:
            queue = GaugeMetricFamily("carbonscope_queue_depth", "analysis jobs waiting or running", labels=["status"])
            for status, n in conn.execute(
                select(analyses.c.status, func.count())
                .where(analyses.c.status.in_(["queued", "running"]))
                .group_by(analyses.c.status)
            ):
                queue.add_metric([status], n)
            yield queue
            # jobs by recipe and outcome, and how long they ran: from the jobs' rows, so the answer
            # is the same whichever process runs the jobs or answers the scrape
            done = CounterMetricFamily(
                "carbonscope_analysis_jobs", "analysis jobs finished", labels=["recipe", "outcome"]
            )
            took = SummaryMetricFamily(
                "carbonscope_analysis_job_duration_seconds", "time analysis jobs ran", labels=["recipe"]
            )
            counts: dict[tuple[str, str], int] = {}
            seconds: dict[str, list[float]] = {}
            a = analyses.c
            for recipe, status, started, finished in conn.execute(
                select(a.recipe, a.status, a.started_at, a.finished_at).where(
                    a.status.in_(["succeeded", "failed", "cancelled"])
                )
            ):
                counts[(recipe, status)] = counts.get((recipe, status), 0) + 1
                if started is not None and finished is not None:
                    seconds.setdefault(recipe, []).append((finished - started).total_seconds())
            for (recipe, status), n in sorted(counts.items()):
                done.add_metric([recipe, status], n)
            for recipe, values in sorted(seconds.items()):
                took.add_metric([recipe], count_value=len(values), sum_value=sum(values))
            yield done
            yield took
            age = GaugeMetricFamily(
                "carbonscope_refresh_age_seconds", "time since the last good file of each source", labels=["source"]
            )
            f = source_files.c
            for source, last in conn.execute(
                select(f.source, func.max(f.retrieved_at))
                .where(f.status.in_(["ingested", "unchanged"]))
                .group_by(f.source)
            ):
                last = last if last.tzinfo else last.replace(tzinfo=UTC)
                age.add_metric([source], (now - last).total_seconds())
            yield age
            rows = GaugeMetricFamily("carbonscope_projects", "projects loaded, by registry", labels=["registry"])
            for registry, n in conn.execute(select(projects.c.registry, func.count()).group_by(projects.c.registry)):
                rows.add_metric([registry], n)
            yield rows
            last_run = GaugeMetricFamily(
                "carbonscope_schedule_last_success", "1 when a schedule's last finished run succeeded", labels=["job"]
            )
            r = schedule_runs.c
            newest = (
                select(r.job, func.max(r.id).label("id"))
                .where(r.outcome.in_(["ok", "failed"]))
                .group_by(r.job)
                .subquery()
            )
            for job, outcome in conn.execute(select(r.job, r.outcome).join(newest, newest.c.id == r.id)):
                last_run.add_metric([job], 1.0 if outcome == "ok" else 0.0)
            yield last_run
            failing = GaugeMetricFamily("carbonscope_alerts_failing", "alerts in the failing state", labels=["key"])
            for (key,) in conn.execute(select(alert_states.c.key).where(alert_states.c.state == "failing")):
                failing.add_metric([key], 1.0)
            yield failing
            size = GaugeMetricFamily("carbonscope_database_bytes", "size of the database")
            size.add_metric([], float(database_bytes(self.engine, conn)))
            yield size


def database_bytes(engine: Engine, conn) -> int:
    if engine.dialect.name == "postgresql":
        return int(conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one())
    db = engine.url.database
    if db and db != ":memory:" and Path(db).exists():
        return sum(p.stat().st_size for p in Path(db).parent.glob(Path(db).name + "*"))  # with -wal/-shm
    return 0


def scrape(engine: Engine) -> tuple[bytes, str]:
    """The text a Prometheus server reads from ``/metrics``."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        from prometheus_client import REGISTRY

        for collector in (REQUESTS, LATENCY):
            registry.register(_Forward(REGISTRY, collector))
    registry.register(DatabaseCollector(engine))
    return generate_latest(registry), CONTENT_TYPE_LATEST


class _Forward(Collector):
    """This process's own counters (single-process mode), added to the scrape's registry."""

    def __init__(self, _registry, collector):
        self.collector = collector

    def collect(self):
        return self.collector.collect()


def prepare_multiprocess(folder: Path) -> None:
    """Before the web workers start: a fresh folder for their counters (old files would add old counts)."""
    import shutil

    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)
