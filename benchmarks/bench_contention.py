"""Cached reads while the site writes (issue: hardening, finding 2: one write must never freeze the server).

Builds a hub database from the real registry files (every native sample, VROD, OffsetsDB), serves it
with ``carbonscope serve`` (SQLite, 2 workers, the production Argon2 profile), and measures from
this process, over loopback, the latency of cached anonymous reads (the home page and a list page,
each a response-cache hit) paced at 40 requests a second by 2 readers:

* idle;
* (a) while ``carbonscope ingest --force`` re-ingests VROD and the native files in a loop (one long
  write transaction after another) and one comment a second is posted through the write API;
* (b) while 3 clients sign in, in a loop, through the login form (Argon2 each time).

The figure of the issue: the cached-read p95 of (a) and (b) at most twice the idle p95. The
posting latency during the ingest is reported too.

    python -m benchmarks.bench_contention [--seconds 30]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import re
import shutil
import statistics
import subprocess
import threading
import time
from pathlib import Path

import httpx

from benchmarks.bench_web import OUT, free_port

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "registries"
DB = OUT / "bench-contention.db"
EXE = ROOT / ".venv" / "bin" / "carbonscope"
READS = ["/", "/projects?registry=VCS&sort=-issued"]


DATABASE_URL = f"sqlite:///{DB}"


def env() -> dict:
    e = {k: v for k, v in os.environ.items() if not k.startswith("CARBONSCOPE_")}
    return {
        **e,
        "CARBONSCOPE_DATABASE_URL": DATABASE_URL,
        "CARBONSCOPE_RATE_LIMIT_PER_MINUTE": "0",
        "CARBONSCOPE_DATA_DIR": str(OUT / "data-contention"),
        "CARBONSCOPE_HOUSEKEEPING_MINUTES": "0",
        **{k: v for k, v in os.environ.items() if k.startswith("CARBONSCOPE_ARGON2_")},
    }  # a cheaper profile, to see what hashing costs


def fresh_postgres(server_url: str) -> str:
    """A new database ``bench_contention`` on the server of ``server_url``; returns its URL."""
    from sqlalchemy import create_engine, text

    url = server_url.replace("postgresql://", "postgresql+psycopg://", 1)
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS bench_contention WITH (FORCE)"))
        conn.execute(text("CREATE DATABASE bench_contention"))
    admin.dispose()
    return url.rsplit("/", 1)[0] + "/bench_contention"


def build() -> None:
    if DB.exists():
        DB.unlink()
    subprocess.run(
        [str(EXE), "ingest", str(SHARED / "native"), str(SHARED / "vrod"), str(SHARED / "offsetsdb")],
        env=env(),
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    subprocess.run(
        [
            str(EXE),
            "users",
            "create",
            "bench@example.org",
            "--name",
            "Bench",
            "--password",
            "tapir moss ledger quietly",
        ],
        env=env(),
        check=True,
        stdout=subprocess.DEVNULL,
    )


def api_token() -> str:
    code = (
        "from carbonscope.db.engine import write; from carbonscope.db.engine import get_engine; from carbonscope.accounts import tokens, users;"
        f"e = get_engine('{DATABASE_URL}');\nwith write(e) as tx: print(tokens.create(tx, users.by_email(tx, 'bench@example.org')['id'], 'bench'))"
    )
    return subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), "-c", code], env=env(), check=True, capture_output=True, text=True
    ).stdout.strip()


def p95(xs: list[float]) -> float:
    return statistics.quantiles(xs, n=20)[18] if len(xs) >= 20 else max(xs)


class Readers:
    """Paced cached reads: each reader sends one request every ``1 / rate`` seconds and records its latency."""

    def __init__(self, base: str, n: int = 2, rate: float = 20.0):
        self.base, self.n, self.rate = base, n, rate
        self.lat: list[float] = []
        self.errors = 0
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def _run(self, k: int) -> None:
        with httpx.Client(base_url=self.base, timeout=60, headers={"Accept": "text/html"}) as c:
            nxt = time.perf_counter()
            i = k
            while not self._stop.is_set():
                t = time.perf_counter()
                r = c.get(READS[i % len(READS)])
                self.lat.append((time.perf_counter() - t) * 1000)
                if r.status_code != 200:
                    self.errors += 1
                i += 1
                nxt += 1 / self.rate
                time.sleep(max(0.0, nxt - time.perf_counter()))

    def start(self) -> None:
        self._threads = [threading.Thread(target=self._run, args=(k,), daemon=True) for k in range(self.n)]
        for t in self._threads:
            t.start()

    def stop(self) -> dict:
        self._stop.set()
        for t in self._threads:
            t.join()
        return {
            "reads": len(self.lat),
            "p50_ms": round(statistics.median(self.lat), 1),
            "p95_ms": round(p95(self.lat), 1),
            "max_ms": round(max(self.lat), 1),
            "non_200": self.errors,
        }


def warm(base: str) -> None:
    with httpx.Client(base_url=base, timeout=60, headers={"Accept": "text/html"}) as c:
        for _ in range(20):  # both workers fill their cache
            for path in READS:
                c.get(path)


def phase_idle(base: str, seconds: int) -> dict:
    warm(base)
    time.sleep(5)  # the build's last writes and the workers' start settle
    r = Readers(base)
    r.start()
    time.sleep(seconds)
    return r.stop()


def phase_ingest(base: str, seconds: int, token: str) -> dict:
    warm(base)
    stop = threading.Event()
    ingests = []

    def ingest_loop():
        while not stop.is_set():
            t = time.perf_counter()
            subprocess.run(
                [str(EXE), "ingest", "--force", str(SHARED / "vrod"), str(SHARED / "native")],
                env=env(),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            ingests.append(time.perf_counter() - t)

    posts, post_codes = [], []

    def comment_loop():
        with httpx.Client(base_url=base, timeout=120, headers={"Authorization": f"Bearer {token}"}) as c:
            i = 0
            while not stop.is_set():
                t = time.perf_counter()
                r = c.post("/api/v1/projects/ART102/comments", json={"body": f"Benchmark comment {i}"})
                posts.append((time.perf_counter() - t) * 1000)
                post_codes.append(r.status_code)
                i += 1
                stop.wait(max(0.0, 1.0 - (time.perf_counter() - t)))

    writer = threading.Thread(target=ingest_loop, daemon=True)
    poster = threading.Thread(target=comment_loop, daemon=True)
    writer.start()
    time.sleep(2)  # the ingest is under way
    r = Readers(base)
    r.start()
    poster.start()
    time.sleep(seconds)
    out = r.stop()
    stop.set()
    poster.join()
    writer.join()
    out.update(
        {
            "ingests_finished": len(ingests),
            "ingest_s": [round(x, 1) for x in ingests],
            "posts": len(posts),
            "post_p50_ms": round(statistics.median(posts), 1),
            "post_p95_ms": round(p95(posts), 1),
            "post_max_ms": round(max(posts), 1),
            "post_status": {str(k): post_codes.count(k) for k in sorted(set(post_codes))},
        }
    )
    return out


def _login_loop(base: str, stop, out) -> None:
    """One client signing in again and again (its own process: the readers' latency is the server's, not
    this script's interpreter lock)."""
    lat, codes = [], []
    with httpx.Client(base_url=base, timeout=60, headers={"Accept": "text/html"}) as c:
        while not stop.is_set():
            html = c.get("/account/login").text
            token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
            t = time.perf_counter()
            r = c.post(
                "/account/login",
                data={"email": "bench@example.org", "password": "tapir moss ledger quietly", "csrf_token": token},
            )
            lat.append((time.perf_counter() - t) * 1000)
            codes.append(r.status_code)
            c.cookies.clear()
    out.put((lat, codes))


def phase_logins(base: str, seconds: int) -> dict:
    warm(base)
    ctx = multiprocessing.get_context("spawn")
    stop, out = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_login_loop, args=(base, stop, out), daemon=True) for _ in range(3)]
    for p in procs:
        p.start()
    time.sleep(3)  # the clients are signing in
    r = Readers(base)
    r.start()
    time.sleep(seconds)
    res = r.stop()
    stop.set()
    logins, codes = [], []
    for _ in procs:
        lat, c = out.get(timeout=120)
        logins += lat
        codes += c
    for p in procs:
        p.join(timeout=30)
    res.update(
        {
            "logins": len(logins),
            "login_p50_ms": round(statistics.median(logins), 1),
            "login_status": {str(k): codes.count(k) for k in sorted(set(codes))},
        }
    )
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=int, default=30)
    ap.add_argument(
        "--phases", default="idle,ingest_and_comments,logins", help="which phases to run (idle always runs)"
    )
    ap.add_argument(
        "--postgres",
        help="a PostgreSQL server URL (e.g. postgresql://postgres@127.0.0.1:5432/test): run on a fresh database there",
    )
    args = ap.parse_args()
    global DATABASE_URL
    if args.postgres:
        DATABASE_URL = fresh_postgres(args.postgres)
    OUT.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(OUT / "data-contention", ignore_errors=True)
    t = time.perf_counter()
    build()
    print(f"database built in {time.perf_counter() - t:.0f} s")
    token = api_token()
    port = free_port()
    proc = subprocess.Popen(
        [str(EXE), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
        env=env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(base + "/api/v1/stats/summary", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        phases = {
            "ingest_and_comments": lambda: phase_ingest(base, args.seconds, token),
            "logins": lambda: phase_logins(base, args.seconds),
        }
        results = {"idle": phase_idle(base, args.seconds)}
        for name in args.phases.split(","):
            if name in phases:
                results[name] = phases[name]()
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=30)
    idle = results["idle"]["p95_ms"]
    for name in [n for n in ("ingest_and_comments", "logins") if n in results]:
        results[name]["p95_vs_idle"] = round(results[name]["p95_ms"] / idle, 2)
    results["cpu"] = os.cpu_count()
    results["database"] = DATABASE_URL.split(":", 1)[0]
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
