"""A site with a real analysis worker (a ``carbonscope worker`` process) on each queue back end:
the embedded SQLite broker and Redis, on SQLite (and PostgreSQL when it is configured)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import POSTGRES_URL, ROOT, SHARED, make_backend_url, person
from tests.web.conftest import browser  # noqa: F401  (Chromium, for test_browser.py)

MTQ = SHARED / "redd" / "martinique"
JUU = SHARED / "biomass" / "juupajoki"
REDIS = "redis://127.0.0.1:6379/0"
RABBITMQ = "amqp://guest:guest@127.0.0.1:5672//"
BROKERS = {"embedded": None, "redis": REDIS, "rabbitmq": RABBITMQ}

# The shipped sources file (examples/sources.toml), on this checkout's shared data, and one broken entry
SOURCES = (ROOT / "examples" / "sources.toml").read_text().replace('"../../shared/data', f'"{SHARED}') + (
    '\n[sources.broken-forest]\nroles = ["forest"]\npath = "BROKEN"\ndates = "2000,2010"\n'
)


def rabbitmq_up() -> bool:
    import socket

    try:
        with socket.create_connection(("127.0.0.1", 5672), timeout=1):
            return True
    except OSError:
        return False


def redis_up() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS, socket_connect_timeout=1).ping())
    except Exception:
        return False


PARAMS = {"agb_t_ha": 220, "agb_rel_se": 0.10, "root_shoot": "ipcc2006:tropical_moist_deciduous", "price": 12}


def square(lon=-61.0, lat=14.6, d=0.02) -> dict:
    """A small square in the middle of Martinique (WGS84)."""
    return {
        "type": "Polygon",
        "coordinates": [[[lon, lat], [lon + d, lat], [lon + d, lat + d], [lon, lat + d], [lon, lat]]],
    }


@dataclass
class Lab:
    settings: object
    client: TestClient
    engine: object
    env: dict
    tmp: Path
    tokens: dict = field(default_factory=dict)
    users: dict = field(default_factory=dict)
    worker: subprocess.Popen | None = None
    base: str = ""

    def start_worker(self) -> None:
        self.worker = subprocess.Popen(
            [sys.executable, "-m", "carbonscope.cli", "worker", "--loglevel", "WARNING"],
            env=self.env,
            stdout=open(self.tmp / "worker.log", "ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def kill_worker(self) -> None:
        if self.worker is not None and self.worker.poll() is None:
            os.killpg(self.worker.pid, signal.SIGKILL)
            self.worker.wait()
        self.worker = None

    def auth(self, who: str) -> dict:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def baseline(self, layers: dict | None = None, who: str = "ana"):
        """POST a redd-baseline request on :func:`square` (the Martinique forest by default)."""
        body = {"recipe": "redd-baseline", "boundary": square(), "params": PARAMS}
        body["layers"] = layers or {"forest": "martinique-forest"}
        return self.client.post("/api/v1/analyses", headers=self.auth(who), json=body)

    def wait(
        self, aid: str, who: str = "ana", until=("succeeded", "failed", "cancelled"), timeout: float = 240
    ) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            doc = self.client.get(f"/api/v1/analyses/{aid}", headers=self.auth(who)).json()
            if doc["status"] in until:
                return doc
            if time.monotonic() > deadline:
                log = (self.tmp / "worker.log").read_text()[-3000:]
                raise AssertionError(f"analysis {aid} still {doc['status']} ({doc['progress']}); worker log:\n{log}")
            time.sleep(0.2)


COMBOS = [("sqlite", "embedded"), ("sqlite", "redis")] + ([("postgresql", "embedded")] if POSTGRES_URL else [])


@contextmanager
def make_lab(tmp: Path, db: str, queue: str, served: bool = False) -> Iterator[Lab]:
    """A site (TestClient, and with ``served`` a real socket in ``lab.base``) with a worker process."""
    from carbonscope.accounts import tokens
    from carbonscope.db.engine import make_engine
    from carbonscope.db.migrate import upgrade
    from carbonscope.web.app import create_app
    from tests.web.conftest import app_settings, serve

    (tmp / "BROKEN").write_text("not a raster\n")
    sources = tmp / "sources.toml"
    sources.write_text(SOURCES.replace('path = "BROKEN"', f'path = "{tmp / "BROKEN"}"'))
    url, cleanup = make_backend_url(db, tmp)
    engine = make_engine(url)
    upgrade(engine)
    knobs = {
        "data_sources_file": sources,
        "queue_url": BROKERS[queue],
        "queue_name": f"test-{uuid.uuid4().hex[:10]}",
        "analysis_heartbeat_seconds": 1.0,
        "analysis_stale_seconds": 4.0,
        "data_folders": [SHARED],
    }
    settings = app_settings(url, tmp, **knobs).with_secret()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARBONSCOPE_")}
    env.update(
        CARBONSCOPE_DATABASE_URL=url,
        CARBONSCOPE_DATA_DIR=str(settings.data_dir),
        CARBONSCOPE_DATA_SOURCES_FILE=str(sources),
        CARBONSCOPE_QUEUE_NAME=knobs["queue_name"],
        CARBONSCOPE_ANALYSIS_HEARTBEAT_SECONDS="1",
        CARBONSCOPE_ANALYSIS_STALE_SECONDS="4",
        CARBONSCOPE_DATA_FOLDERS=str(SHARED),
        CARBONSCOPE_SECRET_KEY=settings.secret_key,
    )
    if BROKERS[queue]:
        env["CARBONSCOPE_QUEUE_URL"] = BROKERS[queue]
    with engine.begin() as tx:
        users = {n.lower(): person(tx, n) for n in ("Ana", "Ben")}
        users["root"] = person(tx, "Root", role="admin")
        toks = {n: tokens.create(tx, u["id"], "tests") for n, u in users.items()}
    app = create_app(settings)
    try:
        with TestClient(app) as client, serve(app) if served else nullcontext("") as base:
            lab = Lab(settings, client, engine, env, tmp, toks, users, base=base)
            lab.start_worker()
            try:
                yield lab
            finally:
                lab.kill_worker()
    finally:
        engine.dispose()
        cleanup()


@pytest.fixture(scope="module", params=COMBOS, ids=lambda c: f"{c[0]}-{c[1]}")
def lab(request, tmp_path_factory):
    db, queue = request.param
    if queue == "redis" and not redis_up():
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    with make_lab(tmp_path_factory.mktemp(f"lab-{db}-{queue}"), db, queue) as lab:
        yield lab
