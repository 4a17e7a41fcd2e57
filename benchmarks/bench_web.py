"""Load benchmark of the web hub (issue: registry hub on the web).

Serves the 11,000-project / 1,000,000-event scale database with ``carbonscope serve`` (SQLite,
2 workers) and loads it from a second process on loopback with wrk: 32 connections, 60 s per
scenario, each connection cycling through many different URLs. Every scenario runs with the
response cache on (the default) and off (CARBONSCOPE_CACHE_TTL_SECONDS=0). The rate limit is
switched off because all the load comes from one address. Then a CSV export of every event is
streamed while the server's memory is sampled.

    python -m benchmarks.bench_web [--duration 60] [--connections 32]

Needs wrk (Debian: apt-get install wrk) and the scale database of benchmarks.bench_ingest.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out"
DB = OUT / "bench.db"

# wrk prints its latency percentiles and error counts on one line the benchmarks parse
WRK_DONE = r"""
done = function(summary, latency, requests)
  io.write(string.format("RESULT p50=%%d p95=%%d p99=%%d max=%%d requests=%%d non2xx=%%d errors=%%d duration_us=%%d\n",
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max, summary.requests,
    summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout, summary.duration))
end
"""

LUA = (
    r"""
local paths = {}
for line in io.lines("%(paths)s") do paths[#paths + 1] = line end
local counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter %% #paths) + 1], { ["Accept"] = "%(accept)s" })
end
"""
    + WRK_DONE
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def scenario_paths(n_projects: int = 300, seed: int = 7) -> dict[str, list[str]]:
    rng = random.Random(seed)
    con = sqlite3.connect(DB)
    with_events = [r[0] for r in con.execute("SELECT id FROM projects WHERE totals_source = 'events' ORDER BY id")]
    countries = [
        r[0]
        for r in con.execute(
            "SELECT country FROM projects WHERE country IS NOT NULL GROUP BY country ORDER BY count(*) DESC LIMIT 12"
        )
    ]
    con.close()
    sample = rng.sample(with_events, min(n_projects, len(with_events)))
    lists = []
    for reg in ("", "VCS", "GS", "ACR", "CAR", "ART"):
        for sort in ("-issued", "-retired", "name", "-remaining", "id"):
            for extra in (
                "",
                f"&country={rng.choice(countries)}",
                "&status=registered",
                "&q=forest",
                "&issued_min=1000",
            ):
                q = f"/api/v1/projects?limit=50&sort={sort}{extra}" + (f"&registry={reg}" if reg else "")
                lists.append(q)
    rng.shuffle(lists)
    pages = [f"/projects/{p}" for p in sample]
    events = []
    for p in sample:
        events.append(f"/api/v1/projects/{p}/events?type=retirement&sort=-quantity&limit=50")
        events.append(f"/api/v1/projects/{p}/events?vintage_min=2024&type=issuance&type=buffer_deposit&limit=50")
    rng.shuffle(events)
    return {"project_list": lists, "project_page": pages, "project_events": events}


class Server:
    def __init__(self, cache: bool, workers: int, extra_env: dict[str, str] | None = None):
        self.port = free_port()
        env = {
            **os.environ,
            "CARBONSCOPE_DATABASE_URL": f"sqlite:///{DB}",
            "CARBONSCOPE_RATE_LIMIT_PER_MINUTE": "0",
            "CARBONSCOPE_DATA_DIR": str(OUT / "data"),
        }
        if not cache:
            env["CARBONSCOPE_CACHE_TTL_SECONDS"] = "0"
        env.update(extra_env or {})
        exe = ROOT / ".venv" / "bin" / "carbonscope"
        self.proc = subprocess.Popen(
            [str(exe), "serve", "--host", "127.0.0.1", "--port", str(self.port), "--workers", str(workers)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        self.base = f"http://127.0.0.1:{self.port}"
        for _ in range(200):
            try:
                if httpx.get(self.base + "/api/v1/stats/summary", timeout=5).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError(
            "server did not start: " + (self.proc.stderr.read().decode() if self.proc.poll() is not None else "")
        )

    def rss_mb(self) -> float:
        pids = [self.proc.pid] + [
            int(p)
            for p in subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True).stdout.split()
        ]
        total = 0
        for pid in pids:
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            except FileNotFoundError:
                pass
        return total / 1024

    def stop(self):
        os.killpg(self.proc.pid, signal.SIGTERM)
        self.proc.wait(timeout=20)


def run_wrk(base: str, paths: list[str], accept: str, duration: int, connections: int, tmp: Path) -> dict:
    paths_file = tmp / "paths.txt"
    paths_file.write_text("\n".join(paths) + "\n")
    script = tmp / "scenario.lua"
    script.write_text(LUA % {"paths": paths_file, "accept": accept})
    # warm-up: every URL once with wrk's headers (fills caches, page cache and connection pools)
    with httpx.Client(base_url=base, timeout=60) as c:
        for p in paths:
            c.get(p, headers={"Accept": accept, "Accept-Encoding": "identity"})
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--timeout", "10s", "-s", str(script), base],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    m = re.search(
        r"RESULT p50=(\d+) p95=(\d+) p99=(\d+) max=(\d+) requests=(\d+) non2xx=(\d+) errors=(\d+) duration_us=(\d+)",
        out,
    )
    p50, p95, p99, mx, n, non2xx, errors, dur = map(int, m.groups())
    return {
        "requests": n,
        "rps": n / (dur / 1e6),
        "p50_ms": p50 / 1000,
        "p95_ms": p95 / 1000,
        "p99_ms": p99 / 1000,
        "max_ms": mx / 1000,
        "non_2xx": non2xx,
        "socket_errors": errors,
        "distinct_urls": len(paths),
    }


def rss_anon_mb(server: Server) -> float:
    """Private memory (RssAnon) of the server and its workers: what a leak or a buffered export would grow."""
    pids = [server.proc.pid] + [
        int(p)
        for p in subprocess.run(["pgrep", "-P", str(server.proc.pid)], capture_output=True, text=True).stdout.split()
    ]
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("RssAnon:"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return total / 1024


def export_csv(server: Server, encoding: str = "identity") -> dict:
    samples = []
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            samples.append(rss_anon_mb(server))
            time.sleep(0.25)

    before = rss_anon_mb(server)
    t = threading.Thread(target=sample, daemon=True)
    t.start()
    rows = 0
    t0 = time.perf_counter()
    with httpx.stream(
        "GET", server.base + "/api/v1/credits?format=csv&sort=id", headers={"Accept-Encoding": encoding}, timeout=600
    ) as r:
        r.raise_for_status()
        for chunk in r.iter_bytes():  # decoded: rows are counted after decompression
            rows += chunk.count(b"\n")
    elapsed = time.perf_counter() - t0
    stop.set()
    t.join()
    rows -= 1  # header
    return {
        "encoding": encoding,
        "rows": rows,
        "seconds": elapsed,
        "rows_per_s": rows / elapsed,
        "server_private_mb_before": before,
        "server_private_mb_peak": max(samples),
        "server_private_mb_samples": len(samples),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=int, default=60)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument(
        "--workers", type=int, default=1, help="server worker processes (the machine has 2 cores, shared with wrk)"
    )
    ap.add_argument("--export-only", action="store_true", help="only the CSV export of every event (identity and gzip)")
    args = ap.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")
    if not DB.exists():
        sys.exit(f"{DB} is missing: run python -m benchmarks.bench_ingest first")
    paths = scenario_paths()
    results = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "duration_s": args.duration,
        "connections": args.connections,
        "workers": args.workers,
    }
    con = sqlite3.connect(DB)
    results["database"] = {
        "projects": con.execute("SELECT count(*) FROM projects").fetchone()[0],
        "events": con.execute("SELECT count(*) FROM credit_events").fetchone()[0],
    }
    con.close()
    tmp = OUT / "wrk"
    tmp.mkdir(parents=True, exist_ok=True)
    accepts = {"project_list": "application/json", "project_page": "text/html", "project_events": "application/json"}
    for cache in (True,) if args.export_only else (True, False):
        server = Server(cache, args.workers)
        try:
            for name, urls in ({} if args.export_only else paths).items():
                key = f"{name}{'' if cache else '_nocache'}"
                results[key] = run_wrk(server.base, urls, accepts[name], args.duration, args.connections, tmp)
                print(key, json.dumps(results[key]), flush=True)
            if cache:
                for enc in ("identity", "gzip"):
                    results[f"csv_export_{enc}"] = export_csv(server, enc)
                    print(f"csv_export_{enc}", json.dumps(results[f"csv_export_{enc}"]), flush=True)
        finally:
            server.stop()
    (OUT / f"web-{args.workers}w{'-export' if args.export_only else ''}.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
