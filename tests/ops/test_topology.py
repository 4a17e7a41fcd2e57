"""The compose topology as processes: the site (two web workers), an analysis worker and the
scheduler, on PostgreSQL and Redis, refreshing a registry from a local HTTP server through the
queue every minute; /metrics scraped, and an alert raised when that server starts failing."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid

import httpx
import pytest
from sqlalchemy import func, select

from carbonscope.db.engine import make_engine
from carbonscope.db.schema import alert_states, outbox, projects, schedule_runs
from tests.analyses.conftest import REDIS, redis_up
from tests.conftest import POSTGRES_URL, make_backend_url
from tests.ops.test_schedules_and_alerts import Webhook
from tests.registry.test_refresh import RegistryServer

pytestmark = pytest.mark.skipif(
    not POSTGRES_URL or not redis_up(), reason="needs PostgreSQL (CARBONSCOPE_TEST_POSTGRES_URL) and Redis"
)


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(what, check, timeout: float):
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout:g} s for {what}")
        time.sleep(0.5)


def test_web_worker_and_scheduler_refresh_through_the_queue_and_alert(tmp_path):
    url, cleanup = make_backend_url("postgresql", tmp_path)
    registry, hook = RegistryServer(), Webhook()
    port = _port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARBONSCOPE_")}
    env.update(
        CARBONSCOPE_DATABASE_URL=url,
        CARBONSCOPE_DATA_DIR=str(tmp_path / "data"),
        CARBONSCOPE_REDIS_URL=REDIS,
        CARBONSCOPE_QUEUE_URL=REDIS,
        CARBONSCOPE_QUEUE_NAME=f"topology-{uuid.uuid4().hex[:8]}",
        CARBONSCOPE_SCHEDULES=json.dumps({"refresh:art-trees": "* * * * *"}),
        CARBONSCOPE_SCHEDULES_VIA_QUEUE="true",
        CARBONSCOPE_EMBEDDED_WORKER="false",
        CARBONSCOPE_ART_BASE_URL=f"{registry.base}/art",
        CARBONSCOPE_HTTP_MIN_INTERVAL="0",
        CARBONSCOPE_HTTP_BACKOFF="0.01",
        CARBONSCOPE_HTTP_RETRIES="1",
        CARBONSCOPE_HTTP_TIMEOUT="2",
        CARBONSCOPE_ALERT_WEBHOOK_URL=hook.url,
        CARBONSCOPE_ALERT_EMAILS="ops@example.org",
        CARBONSCOPE_SECRET_KEY="topology-test-" + uuid.uuid4().hex,
    )
    cli = [sys.executable, "-m", "carbonscope.cli"]
    subprocess.run([*cli, "db", "upgrade"], env=env, check=True, capture_output=True)
    logs = tmp_path / "logs"
    logs.mkdir()
    procs = {
        name: subprocess.Popen(
            [*cli, *args],
            env=env,
            stdout=open(logs / f"{name}.log", "wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        for name, args in {
            "web": ["serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
            "worker": ["worker", "--loglevel", "WARNING"],
            "scheduler": ["scheduler"],
        }.items()
    }
    engine = make_engine(url)
    base = f"http://127.0.0.1:{port}"
    try:

        def ready():
            try:
                r = httpx.get(f"{base}/readyz", timeout=2)
            except httpx.HTTPError:
                return None
            return r.json() if r.status_code == 200 else None

        checks = _wait("the site to be ready", ready, 60)["checks"]
        assert checks == {"database": "ok", "migrations": "ok", "queue": "ok", "cache": "ok"}

        def runs(outcome):
            with engine.connect() as conn:
                return conn.execute(
                    select(func.count()).where(
                        schedule_runs.c.job == "refresh:art-trees", schedule_runs.c.outcome == outcome
                    )
                ).scalar_one()

        _wait("a scheduled refresh run by the worker", lambda: runs("ok"), 120)
        with engine.connect() as conn:
            worker_of_record = conn.execute(select(schedule_runs.c.worker)).scalar_one()
            assert conn.execute(select(func.count()).select_from(projects)).scalar_one() == 28
        assert str(procs["worker"].pid) in worker_of_record  # the queue's worker ran it, not the scheduler
        for page in (1, 2, 3):  # three URLs: none answered from the cache
            httpx.get(f"{base}/projects/ART102", params={"events_page": page}, timeout=10)
        text = httpx.get(f"{base}/metrics", timeout=10).text
        assert 'carbonscope_schedule_last_success{job="refresh:art-trees"} 1.0' in text
        assert 'carbonscope_projects{registry="ART"} 28.0' in text
        assert 'route="/projects/{project_id}",status="200"} 3.0' in text  # both web workers' counts, added
        # the registry starts failing: the next minute's run fails, one alert, the data stays
        registry.faults = {"art:projects": ["500"] * 10_000}
        _wait("a failed refresh", lambda: runs("failed"), 130)
        _wait("the alert", lambda: hook.posts, 30)
        assert hook.posts[0]["text"].startswith("[CarbonScope] failing: refresh:art-trees")
        with engine.connect() as conn:
            assert (
                conn.execute(select(alert_states.c.state).where(alert_states.c.key == "refresh:art-trees")).scalar_one()
                == "failing"
            )
            assert conn.execute(select(outbox.c.subject)).scalars().all() == [
                "[CarbonScope] failing: refresh:art-trees"
            ]
            assert conn.execute(select(func.count()).select_from(projects)).scalar_one() == 28
        text = httpx.get(f"{base}/metrics", timeout=10).text
        assert 'carbonscope_schedule_last_success{job="refresh:art-trees"} 0.0' in text
        assert 'carbonscope_alerts_failing{key="refresh:art-trees"} 1.0' in text
    finally:
        for p in procs.values():
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in procs.values():
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
        engine.dispose()
        registry.close()
        hook.close()
        cleanup()
