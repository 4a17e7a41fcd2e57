"""``carbonscope refresh``: download each registry's current exports, archive them by date, ingest.

Registries are refreshed independently: one whose downloads all succeed and parse is ingested
(in one atomic run with the others that succeeded); one that fails is reported and leaves the
database untouched. Gold Standard, whose terms forbid automation, is skipped with instructions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import Engine

from carbonscope.errors import CarbonScopeError, DownloadError
from carbonscope.ingest import IngestReport, ingest
from carbonscope.progress import NullProgress, Progress
from carbonscope.registry.detect import detect
from carbonscope.registry.download import PoliteClient
from carbonscope.registry.exports import REGISTRIES, RegistryExports, resolve
from carbonscope.settings import Settings


@dataclass
class RefreshReport:
    downloaded: dict[str, list[Path]] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    ingest: IngestReport | None = None


def refresh(
    settings: Settings,
    engine: Engine,
    registries: list[str] | None = None,
    *,
    progress: Progress | None = None,
    transport=None,
) -> RefreshReport:
    progress = progress or NullProgress()
    chosen: list[RegistryExports] = [resolve(r) for r in registries] if registries else list(REGISTRIES.values())
    report = RefreshReport()
    now = datetime.now(timezone.utc)
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
                    client.fetch(reg.base_url(settings) + export.path, dest, method=export.method, json_body=export.body, on_bytes=lambda n, t=task: progress.advance(t, n))
                    parser = detect(dest, reg.source)
                    if parser.kind != export.kind:
                        raise DownloadError(f"{dest}: expected a {reg.name} {export.kind} export, got {parser.label}")
                    files.append(dest)
            except (DownloadError, CarbonScopeError) as exc:
                report.failed[reg.source] = str(exc)
                progress.log(f"[red]failed[/red] {reg.name}: {exc}")
                continue
            report.downloaded[reg.source] = files
    paths = [p for files in report.downloaded.values() for p in files]
    if paths:
        report.ingest = ingest(paths, engine, retrieved_at=now, progress=progress, command="refresh")
    return report
