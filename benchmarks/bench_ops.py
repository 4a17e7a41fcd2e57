"""Operations figures (issue: run it for real): backup and restore times of the scale database on
SQLite and PostgreSQL, and the overhead of the request metrics on the project list's p95.

Builds the scale set and its databases as ``benchmarks.bench_ingest`` does when they are missing,
backs each database up and restores it (checking the restored row counts), then serves the SQLite
scale database with ``carbonscope serve --workers 2`` with metrics on and off (cache off, every
request a distinct list URL) and loads it with wrk.

    python -m benchmarks.bench_ops [--duration 30] [--connections 32] [--postgres URL]

Needs wrk (Debian: apt-get install wrk).
"""

from __future__ import annotations

import argparse
import json
import random
import time
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.bench_ingest import OUT, drop_schema, ensure_scale, machine, pg_schema_url
from benchmarks.measure import in_child


def counts(url: str) -> dict:
    from sqlalchemy import func, select

    from carbonscope.db.engine import make_engine
    from carbonscope.db.schema import credit_events, projects

    engine = make_engine(url)
    with engine.connect() as conn:
        out = {
            "projects": conn.execute(select(func.count()).select_from(projects)).scalar_one(),
            "events": conn.execute(select(func.count()).select_from(credit_events)).scalar_one(),
        }
    engine.dispose()
    return out


def round_trip(url: str, folder: str) -> dict:
    """Back up, restore over the live database, and count: the same rows come back."""
    from carbonscope.ops import backup

    before = counts(url)
    t0 = time.perf_counter()
    result = backup.backup(url, Path(folder))
    backup_s = time.perf_counter() - t0
    restore_s = backup.restore(url, result.path)
    after = counts(url)
    return {
        "backup_seconds": round(backup_s, 2),
        "restore_seconds": round(restore_s, 2),
        "backup_bytes": result.bytes,
        "rows": before,
        "same_rows_after_restore": before == after,
    }


def list_paths(n: int = 2000, seed: int = 20) -> list[str]:
    rng = random.Random(seed)
    regs, sorts = ["VCS", "GS", "ACR", "CAR", "ART"], ["-issued", "-retired", "name", "-remaining", "country"]
    countries = ["BR", "IN", "CN", "US", "KE", "ID", "PE", "CO", "MX", "TR", "VN", "ZA"]
    paths = set()
    while len(paths) < n:
        q = [f"registry={rng.choice(regs)}", f"sort={rng.choice(sorts)}", f"page={rng.randint(1, 5)}"]
        if rng.random() < 0.5:
            q.append(f"country={rng.choice(countries)}")
        paths.add("/api/v1/projects?" + "&".join(q) + f"&limit={rng.choice([20, 50])}")
    return sorted(paths)


def metrics_overhead(db: Path, duration: int, connections: int) -> dict:
    from benchmarks.bench_web import Server, run_wrk

    out = {}
    paths = list_paths()
    for label, enabled in (("metrics on", True), ("metrics off", False)):
        server = Server(cache=False, workers=2, extra_env={"CARBONSCOPE_METRICS_ENABLED": str(enabled).lower()})
        try:
            out[label] = run_wrk(server.base, paths, "application/json", duration, connections, OUT)
        finally:
            server.stop()
    on, off = out["metrics on"]["p95_ms"], out["metrics off"]["p95_ms"]
    out["p95_overhead_percent"] = round(100 * (on - off) / off, 1)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    ap.add_argument("--duration", type=int, default=30)
    ap.add_argument("--connections", type=int, default=32)
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    results: dict = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine()}
    scale = ensure_scale(results)
    db = OUT / "bench.db"
    url = f"sqlite:///{db}"
    if not db.exists():
        in_child("benchmarks.bench_ingest", "ingest_into", url, str(scale))
    results["sqlite"] = in_child("benchmarks.bench_ops", "round_trip", url, str(OUT / "backups"))
    print("sqlite:", results["sqlite"], flush=True)
    if args.postgres:
        pg_url, schema = pg_schema_url(args.postgres)
        try:
            in_child("benchmarks.bench_ingest", "ingest_into", pg_url, str(scale))
            results["postgresql"] = in_child("benchmarks.bench_ops", "round_trip", pg_url, str(OUT / "backups"))
            print("postgresql:", results["postgresql"], flush=True)
        finally:
            drop_schema(args.postgres, schema)
    results["metrics"] = metrics_overhead(db, args.duration, args.connections)
    print("metrics:", json.dumps(results["metrics"]), flush=True)
    (OUT / "ops.json").write_text(json.dumps(results, indent=2, default=str))
    print(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
