"""Ingest with the features built on the data engine: after a snapshot with changes, watchers get
their alerts (``watch.notify``), in the same transaction."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from carbonscope.ingest import IngestReport, ingest
from carbonscope.ingest.pipeline import SnapshotHook
from carbonscope.watch import notify


def snapshot_hooks() -> dict[str, SnapshotHook]:
    """What runs after every snapshot that recorded changes."""
    return {"notifications": notify.on_snapshot}


def ingest_files(paths: list[Path] | list[str], engine: Engine | None = None, **options: Any) -> IngestReport:
    """``ingest.ingest`` with the snapshot hooks of the app (options as ``ingest.ingest``)."""
    hooks = {**snapshot_hooks(), **(options.pop("hooks", None) or {})}
    return ingest(paths, engine, hooks=hooks, **options)
