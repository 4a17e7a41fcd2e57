"""Benchmark of the registry data engine (issue: registry data engine).

Builds the scale set (11,000 projects, 1,000,000 events, replicated from the real native
exports), then measures in fresh processes:

* full ingest into SQLite and into PostgreSQL (wall time, peak memory);
* re-ingest of the same files (nothing changed);
* CarbonPlan's offsets-db-data processing the same raw files to its output, for the ratio.

    python -m benchmarks.bench_ingest [--postgres URL] [--skip-peer]

Targets: SQLite <= 60 s, PostgreSQL <= 120 s, peak memory <= 2 GB, re-ingest <= 10 s.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import uuid
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.measure import ROOT, in_child

OUT = ROOT / "benchmarks" / "out"


def ingest_into(url: str, folder: str) -> dict:
    from carbonscope.db.engine import make_engine
    from carbonscope.db.migrate import upgrade
    from carbonscope.ingest import ingest

    engine = make_engine(url)
    upgrade(engine)
    r = ingest([folder], engine)
    from sqlalchemy import func, select

    from carbonscope.db.schema import credit_events, projects

    with engine.connect() as conn:
        n_events = conn.execute(select(func.count()).select_from(credit_events)).scalar_one()
        n_projects = conn.execute(select(func.count()).select_from(projects)).scalar_one()
    return {
        "new_events": r.new_events,
        "unchanged": r.unchanged,
        "events_in_db": n_events,
        "projects_in_db": n_projects,
    }


def build_scale(dest: str) -> dict:
    from benchmarks.scale_data import build

    return build(Path(dest))


def ensure_scale(results: dict) -> Path:
    """The scale set's folder, built (in a child process, its time in ``results``) when missing."""
    scale = OUT / "scale"
    if not (scale / "verra" / "transactions.csv").exists():
        results["build"] = in_child("benchmarks.bench_ingest", "build_scale", str(scale))
    return scale


def machine() -> str:
    return f"{platform.machine()}, {__import__('os').cpu_count()} cores, Python {platform.python_version()}"


def pg_schema_url(base: str) -> str:
    from sqlalchemy import create_engine, text

    schema = "bench_" + uuid.uuid4().hex[:8]
    eng = create_engine(base.replace("postgresql://", "postgresql+psycopg://", 1))
    with eng.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    eng.dispose()
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}", schema


def drop_schema(base: str, schema: str) -> None:
    from sqlalchemy import create_engine, text

    eng = create_engine(base.replace("postgresql://", "postgresql+psycopg://", 1))
    with eng.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    eng.dispose()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    ap.add_argument("--skip-peer", action="store_true")
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    results: dict = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine()}
    scale = ensure_scale(results)
    db = OUT / "bench.db"
    for p in (db, Path(str(db) + "-wal"), Path(str(db) + "-shm")):
        p.unlink(missing_ok=True)
    url = f"sqlite:///{db}"
    results["sqlite_full"] = in_child("benchmarks.bench_ingest", "ingest_into", url, str(scale))
    print("sqlite full:", results["sqlite_full"], flush=True)
    results["sqlite_reingest"] = in_child("benchmarks.bench_ingest", "ingest_into", url, str(scale))
    print("sqlite re-ingest:", results["sqlite_reingest"], flush=True)
    if args.postgres:
        pg_url, schema = pg_schema_url(args.postgres)
        try:
            results["postgres_full"] = in_child("benchmarks.bench_ingest", "ingest_into", pg_url, str(scale))
            print("postgres full:", results["postgres_full"], flush=True)
            results["postgres_reingest"] = in_child("benchmarks.bench_ingest", "ingest_into", pg_url, str(scale))
            print("postgres re-ingest:", results["postgres_reingest"], flush=True)
        finally:
            drop_schema(args.postgres, schema)
    if not args.skip_peer:
        peer_out = OUT / "offsetsdb-peer"
        shutil.rmtree(peer_out, ignore_errors=True)
        results["offsets_db_data"] = in_child("benchmarks.offsetsdb_peer", "run", str(scale), str(peer_out))
        print("offsets-db-data:", results["offsets_db_data"], flush=True)
        results["ratio_offsetsdb_over_carbonscope_sqlite"] = (
            results["offsets_db_data"]["seconds"] / results["sqlite_full"]["seconds"]
        )
    (OUT / "ingest.json").write_text(json.dumps(results, indent=2, default=str))
    print(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
