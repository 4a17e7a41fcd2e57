"""Refresh the registries: download each one's current exports (``registry.refresh``), then ingest
the ones that came in whole, in one atomic run, with the app's snapshot hooks."""

from __future__ import annotations

import httpx
from sqlalchemy import Engine

from carbonscope.ingest.checks import check_download
from carbonscope.jobs.ingest import ingest_files
from carbonscope.jobs.locks import job_lock
from carbonscope.progress import NullProgress, Progress
from carbonscope.registry.refresh import RefreshReport, download_current
from carbonscope.settings import Settings


def refresh_registries(
    settings: Settings,
    engine: Engine,
    registries: list[str] | None = None,
    *,
    progress: Progress | None = None,
    transport: httpx.BaseTransport | None = None,  # tests: a local server's transport
) -> RefreshReport:
    progress = progress or NullProgress()
    with job_lock(settings, "refresh-registries"):
        report = download_current(settings, registries, progress=progress, transport=transport)
        _check(settings, engine, report, progress)
        paths = [p for files in report.downloaded.values() for p in files]
        if paths:
            report.ingest = ingest_files(
                paths, engine, retrieved_at=report.started_at, progress=progress, command="refresh"
            )
    return report


def _check(settings: Settings, engine: Engine, report: RefreshReport, progress: Progress) -> None:
    """A registry whose download fails a check (schema change, shrunk file) is not ingested at all:
    it moves from downloaded to failed, and the database keeps what it had."""
    with engine.connect() as conn:
        for source, files in list(report.downloaded.items()):
            problems = [p for path in files for p in check_download(conn, settings, source, path)]
            if problems:
                report.failed[source] = "; ".join(problems)
                del report.downloaded[source]
                for p in problems:
                    progress.log(f"[red]refused[/red] {p}")
