"""Helpers for ingest tests: table dumps to compare database states."""

from __future__ import annotations

from sqlalchemy import select

from carbonscope.db import schema

ALL_TABLES = [
    schema.snapshots,
    schema.source_files,
    schema.ingest_warnings,
    schema.projects,
    schema.source_records,
    schema.credit_events,
    schema.vintage_totals,
    schema.project_series,
    schema.stated_totals,
    schema.reconciliation,
    schema.changes,
]
DATA_TABLES = [
    schema.projects,
    schema.credit_events,
    schema.vintage_totals,
    schema.project_series,
    schema.stated_totals,
    schema.reconciliation,
]
RUN_COLUMNS = {"updated_snapshot", "created_snapshot", "file_id", "snapshot_id", "provenance"}


def dump(engine, tables=ALL_TABLES, drop_run_columns: bool = False) -> dict:
    out = {}
    with engine.connect() as conn:
        for t in tables:
            cols = [c for c in t.columns if not (drop_run_columns and c.name in RUN_COLUMNS)]
            rows = conn.execute(select(*cols)).all()
            out[t.name] = sorted(tuple(repr(v) for v in r) for r in rows)
    return out
