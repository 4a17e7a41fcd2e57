"""Refresh the news: fetch the configured RSS/Atom feeds and store their new items (linked to projects)."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import Engine

from carbonscope.db.engine import write as db_write
from carbonscope.errors import CarbonScopeError, InvalidField
from carbonscope.jobs.locks import job_lock
from carbonscope.news import sources, store
from carbonscope.progress import NullProgress, Progress
from carbonscope.registry.download import PoliteClient
from carbonscope.settings import Settings


@dataclass
class NewsReport:
    feeds: int = 0
    saved: dict = field(default_factory=dict)  # store.save's counts: new, duplicates, links
    failed: dict[str, str] = field(default_factory=dict)  # feed URL -> why


def refresh_news(
    settings: Settings,
    engine: Engine,
    feeds: list[str] | None = None,
    *,
    progress: Progress | None = None,
    transport: httpx.BaseTransport | None = None,  # tests: a local server's transport
) -> NewsReport:
    """Read every feed (one failing feed does not stop the others) and save what is new."""
    progress = progress or NullProgress()
    urls = feeds or settings.news_feeds
    if not urls:
        raise InvalidField("feed", "no feeds: pass --feed URL or set CARBONSCOPE_NEWS_FEEDS='[\"https://...\"]'")
    report = NewsReport(feeds=len(urls))
    items = []
    with (
        job_lock(settings, "refresh-news"),
        PoliteClient(settings, transport=transport) as client,
        tempfile.TemporaryDirectory() as tmp,
    ):
        for i, url in enumerate(urls):
            try:
                got = client.fetch(url, Path(tmp) / f"feed{i}.xml")
                items += sources.from_feed(got.path.read_bytes(), url)
            except CarbonScopeError as exc:
                report.failed[url] = str(exc)
                progress.log(f"[red]failed[/red] {url}: {exc}")
        with db_write(engine) as tx:
            report.saved = store.save(tx, items)
    return report
