"""Download each registry's current exports and archive them by date (``jobs.refresh_registries``
then ingests them).

Registries are downloaded independently: one whose downloads all succeed and parse is passed on
to the ingest (in one atomic run with the others that succeeded); one that fails is reported and
leaves the database untouched. Gold Standard, whose terms forbid automation, is skipped with
instructions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from carbonscope.errors import CarbonScopeError, DownloadError
from carbonscope.progress import NullProgress, Progress
from carbonscope.registry.detect import detect
from carbonscope.registry.download import PoliteClient
from carbonscope.registry.exports import EXPORTS, RegistryExports, resolve
from carbonscope.settings import Settings


@dataclass
class RefreshReport:
    downloaded: dict[str, list[Path]] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    ingest: Any = None  # the IngestReport of what came in (set by jobs.refresh_registries)


def download_current(
    settings: Settings,
    registries: list[str] | None = None,
    *,
    progress: Progress | None = None,
    transport: httpx.BaseTransport | None = None,  # tests: a local server's transport
) -> RefreshReport:
    progress = progress or NullProgress()
    chosen: list[RegistryExports] = [resolve(r) for r in registries] if registries else list(EXPORTS.values())
    report = RefreshReport()
    now = report.started_at
    day = now.strftime("%Y-%m-%d")
    with PoliteClient(settings, transport=transport) as client:
        for reg in chosen:
            if not reg.automated:
                report.skipped[reg.source] = reg.note
                progress.log(f"skipped {reg.name}: {reg.note}")
                continue
            folder = settings.raw_dir / reg.source / day
            files: list[Path] = []
            try:
                for export in reg.exports:
                    dest = folder / f"{export.kind}.csv"
                    task = progress.task(f"{reg.name} {export.kind}", total=None)
                    client.fetch(
                        reg.base_url(settings) + export.path,
                        dest,
                        method=export.method,
                        json_body=export.body,
                        on_bytes=lambda n, t=task: progress.advance(t, n),
                    )
                    parser = detect(dest, reg.source)
                    if parser.kind != export.kind:
                        raise DownloadError(f"{dest}: expected a {reg.name} {export.kind} export, got {parser.label}")
                    files.append(dest)
            except (DownloadError, CarbonScopeError) as exc:
                report.failed[reg.source] = str(exc)
                progress.log(f"[red]failed[/red] {reg.name}: {exc}")
                continue
            report.downloaded[reg.source] = files
    return report
