"""Analyses as background jobs (issue: analyse any area from the web).

Served as bench_web serves the hub: ``carbonscope serve --workers 2`` (two processes for two cores).

1. ``redd-baseline`` on the Martinique project (the proposal's polygon, the jurisdiction as the
   reference region): wall time from ``POST /api/v1/analyses`` to ``succeeded`` through
   ``carbonscope serve`` and its embedded worker, against the same recipe run in the foreground by
   ``carbonscope analyse`` (a fresh process each time, as a person runs it). Target: at most 1.5x.
2. Map tiles of a public ``forest-carbon`` result over Juupajoki at 32 clients (wrk, 30 s,
   zoom 11 to 15, every tile over the map): target p95 <= 50 ms.
3. The project list (``/api/v1/projects`` with filters and sorts) at 32 clients, idle, then while two
   workers each run forest-carbon jobs back to back on the two cores: target p95 <= 2x idle.

    python -m benchmarks.bench_analyses [--repeats 5] [--duration 30]

Needs wrk (apt-get install wrk) and ../shared/data; the hub database is the real registry exports.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from benchmarks.bench_web import free_port, run_wrk

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
MTQ = SHARED / "redd" / "martinique"
JUU = SHARED / "biomass" / "juupajoki"
OUT = ROOT / "benchmarks" / "out"
EXE = ROOT / ".venv" / "bin" / "carbonscope"
PARAMS = {"agb_t_ha": 220, "root_shoot": "ipcc2006:tropical_moist_deciduous", "price": 12}

SOURCES = ROOT / "examples" / "sources.toml"  # the shipped data sources: ../shared/data beside the checkout


def _env(tmp: Path) -> dict:
    return {
        **os.environ,
        "CARBONSCOPE_DATA_DIR": str(tmp / "data"),
        "CARBONSCOPE_DATA_SOURCES_FILE": str(SOURCES),
        "CARBONSCOPE_RATE_LIMIT_PER_MINUTE": "0",
        "CARBONSCOPE_ANALYSIS_MAX_ACTIVE_PER_USER": "10",
    }


def _mtq_boundary(tmp: Path) -> dict:
    import geopandas as gpd

    g = gpd.read_file(MTQ / "project_borders_MTQ_jurisdiction.gpkg").to_crs(4326)
    (tmp / "mtq.geojson").write_text(g.to_json())
    return json.loads(g.to_json())


def _juu_boundary() -> dict:
    import rasterio
    from rasterio.warp import transform_bounds
    from shapely.geometry import box, mapping

    with rasterio.open(JUU / "PALSAR-2_HH_Juupajoki.tif") as src:
        return mapping(box(*transform_bounds(src.crs, 4326, *src.bounds)))


def cli_runs(tmp: Path, repeats: int) -> list[float]:
    out = []
    for i in range(repeats):
        t = time.perf_counter()
        cmd = [str(EXE), "analyse", "redd-baseline", "--boundary", str(tmp / "mtq.geojson")]
        cmd += ["--layer", "forest=martinique-forest", "--layer", "jurisdiction=martinique-jurisdiction"]
        cmd += [a for k, v in PARAMS.items() for a in ("--param", f"{k}={v}")]
        cmd += ["--output", str(tmp / f"cli-{i}"), "--json"]
        subprocess.run(cmd, env=_env(tmp), check=True, capture_output=True)
        out.append(time.perf_counter() - t)
    return out


def wait(c: httpx.Client, aid: str) -> dict:
    while True:
        d = c.get(f"/api/v1/analyses/{aid}").json()
        if d["status"] not in ("queued", "running"):
            return d
        time.sleep(0.05)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--duration", type=int, default=30)
    ap.add_argument("--connections", type=int, default=32)
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="bench-analyses-", dir=OUT))
    env = _env(tmp)
    mtq = _mtq_boundary(tmp)
    report: dict = {
        "machine": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "at": datetime.now(UTC).isoformat(),
    }

    print("ingesting the registry exports for the project list ...", flush=True)
    subprocess.run([str(EXE), "ingest", str(SHARED / "registries")], env=env, check=True, capture_output=True)
    subprocess.run(
        [str(EXE), "users", "create", "bench@example.org", "--password", "a-long-bench-password-1"],
        env=env,
        check=True,
        capture_output=True,
    )
    token = subprocess.run(
        [str(EXE), "users", "token", "bench@example.org"], env=env, check=True, capture_output=True, text=True
    ).stdout.strip()

    cli = cli_runs(tmp, args.repeats)
    port = free_port()
    server = subprocess.Popen(
        [str(EXE), "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    extra: subprocess.Popen | None = None
    try:
        c = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=120)
        for _ in range(300):
            try:
                if c.get("/api/v1/stats/summary").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        body = {
            "recipe": "redd-baseline",
            "boundary": mtq,
            "layers": {"forest": "martinique-forest", "jurisdiction": "martinique-jurisdiction"},
            "params": PARAMS,
        }
        wait(c, c.post("/api/v1/analyses", json=body).json()["id"])  # the worker's first job warms its imports
        jobs = []
        for _ in range(args.repeats):
            t = time.perf_counter()
            d = wait(c, c.post("/api/v1/analyses", json=body).json()["id"])
            assert d["status"] == "succeeded", d["error"]
            jobs.append(time.perf_counter() - t)
        creditable = {
            "job": d["results"]["crediting"]["totals"]["creditable_tco2e"],
            "cli": json.loads((tmp / "cli-0" / "results.json").read_text())["crediting"]["totals"]["creditable_tco2e"],
        }
        report["redd_baseline"] = {
            "cli_s": cli,
            "job_s": jobs,
            "cli_median_s": statistics.median(cli),
            "job_median_s": statistics.median(jobs),
            "ratio": statistics.median(jobs) / statistics.median(cli),
            "creditable_tco2e": creditable,
        }
        print(json.dumps(report["redd_baseline"], indent=1), flush=True)

        # tiles of a public forest-carbon map
        fc = {
            "recipe": "forest-carbon",
            "boundary": _juu_boundary(),
            "layers": {"hh": "juupajoki-hh", "hv": "juupajoki-hv", "plots": "juupajoki-plots"},
            "params": {"root_shoot": "ipcc2006:boreal"},
        }
        d = wait(c, c.post("/api/v1/analyses", json=fc).json()["id"])
        assert d["status"] == "succeeded", d["error"]
        c.patch(f"/api/v1/analyses/{d['id']}", json={"public": True})
        import morecantile

        w, s, e, n = _bounds(fc["boundary"])
        tms = morecantile.tms.get("WebMercatorQuad")
        paths = [
            f"/analyses/{d['id']}/tiles/{kind}/{t.z}/{t.x}/{t.y}.png"
            for z in range(11, 16)
            for t in tms.tiles(w, s, e, n, [z])
            for kind in ("agb", "aoa")
        ]
        random.Random(7).shuffle(paths)
        cold = []  # each tile's first request (rendered from the COG), one client
        for p in paths[:300]:
            t = time.perf_counter()
            assert c.get(p).status_code == 200
            cold.append((time.perf_counter() - t) * 1000)
        cold.sort()
        report["tiles_cold_one_client"] = {
            "n": len(cold),
            "p50_ms": cold[len(cold) // 2],
            "p95_ms": cold[int(len(cold) * 0.95)],
        }
        print("tiles, first request each", json.dumps(report["tiles_cold_one_client"]), flush=True)
        report["tiles"] = run_wrk(base, paths, "image/png", args.duration, args.connections, tmp)
        print("tiles", json.dumps(report["tiles"]), flush=True)

        # the project list, idle and while two workers run jobs on the two cores
        lists = [
            f"/api/v1/projects?sort={s}&limit=50&page={p}"
            for s in ("-issued", "name", "-retired_or_cancelled")
            for p in range(1, 21)
        ]
        lists += [f"/api/v1/projects?registry={r}&limit=50" for r in ("VCS", "GS", "ACR", "CAR", "ART")]
        random.Random(3).shuffle(lists)
        idle = run_wrk(base, lists, "application/json", args.duration, args.connections, tmp)
        print("list idle", json.dumps(idle), flush=True)
        extra = subprocess.Popen(
            [str(EXE), "worker", "--loglevel", "WARNING"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        stop = threading.Event()
        counts = {"jobs": 0, "running_seen": 0}

        def keep_busy() -> None:
            pending: list[str] = []
            while not stop.is_set():
                pending = [
                    a for a in pending if c.get(f"/api/v1/analyses/{a}").json()["status"] in ("queued", "running")
                ]
                running = sum(1 for a in pending if c.get(f"/api/v1/analyses/{a}").json()["status"] == "running")
                counts["running_seen"] = max(counts["running_seen"], running)
                while len(pending) < 4:
                    pending.append(c.post("/api/v1/analyses", json=fc).json()["id"])
                    counts["jobs"] += 1
                time.sleep(0.5)

        busy = threading.Thread(target=keep_busy, daemon=True)
        busy.start()
        time.sleep(8)  # both workers past their first imports and mapping
        loaded = run_wrk(base, lists, "application/json", args.duration, args.connections, tmp)
        stop.set()
        busy.join()
        print("list while two jobs run", json.dumps(loaded), counts, flush=True)
        report["project_list"] = {
            "idle": idle,
            "two_jobs": loaded,
            "ratio_p95": loaded["p95_ms"] / idle["p95_ms"],
            **counts,
        }
    finally:
        if extra is not None:
            os.killpg(extra.pid, signal.SIGTERM)
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    (OUT / "bench_analyses.json").write_text(json.dumps(report, indent=1))
    print(json.dumps({k: v for k, v in report.items() if k != "tiles"}, indent=1))


def _bounds(geom: dict) -> tuple[float, float, float, float]:
    from shapely.geometry import shape

    return shape(geom).bounds


if __name__ == "__main__":
    sys.exit(main())
