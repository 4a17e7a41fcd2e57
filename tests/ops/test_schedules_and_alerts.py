"""Schedules on an injected clock against a local registry server serving the real exports: each
fire time runs once, a failing, shrinking or reshaped download changes no data and raises exactly
one alert, a recovery sends one message, and a run cut short is redone once."""

from __future__ import annotations

import json
import os
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import func, insert, select

from carbonscope.db.schema import alert_states, outbox, projects, schedule_runs
from carbonscope.ops import schedule
from carbonscope.ops.run import tick
from tests.conftest import NATIVE
from tests.ingest.helpers import dump
from tests.registry.test_refresh import RegistryServer

DAY1 = datetime(2026, 12, 7, 3, 5, tzinfo=UTC)  # just after the 03:00 fire time


class Webhook:
    """A chat webhook: records the JSON of each POST."""

    def __init__(self):
        self.posts: list[dict] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                hook.posts.append(json.loads(body))
                self.send_response(200)
                self.end_headers()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = RegistryServer()
    yield s
    s.close()


@pytest.fixture
def webhook():
    w = Webhook()
    yield w
    w.close()


def _settings(server, tmp_path, webhook, **extra):
    return server.settings(
        tmp_path,
        schedules={"refresh:art-trees": "0 3 * * *"},
        alert_emails=["ops@example.org"],
        alert_webhook_url=webhook.url,
        alert_reminder_hours=240,
        **extra,
    )


def _mails(engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(select(outbox.c.subject).order_by(outbox.c.id)).scalars())


def _runs(engine) -> list[tuple]:
    r = schedule_runs.c
    with engine.connect() as conn:
        return [tuple(x) for x in conn.execute(select(r.job, r.due_at, r.outcome).order_by(r.id))]


def test_a_schedule_runs_each_fire_time_once_and_records_what_it_did(server, engine, tmp_path, webhook):
    settings = _settings(server, tmp_path, webhook)
    done = tick(settings, engine, DAY1)
    assert [(job, r.outcome) for job, r in done] == [("refresh:art-trees", "ok")]
    detail = done[0][1].detail
    assert [f["file"] for f in detail["downloaded"]] == [
        "projects.csv",
        "issuances.csv",
        "retirements.csv",
        "cancellations.csv",
    ]
    assert detail["downloaded"][0]["bytes"] == (NATIVE / "art-trees/projects.csv").stat().st_size
    assert {f["kind"]: f["rows"] for f in detail["files"]}["projects"] == 28 and detail["new_projects"] == 28
    assert tick(settings, engine, DAY1 + timedelta(minutes=25)) == []  # the same fire time: nothing to do
    assert tick(settings, engine, DAY1 + timedelta(days=3)) != []  # three missed fire times run once
    fires = [due for _, due, _ in _runs(engine)]
    assert len(fires) == 2 and fires[1].replace(tzinfo=UTC) == datetime(2026, 12, 10, 3, 0, tzinfo=UTC)
    assert _mails(engine) == [] and webhook.posts == []  # nothing failed: nobody is told


def test_a_failing_registry_alerts_once_then_recovers_with_one_message(server, engine, tmp_path, webhook):
    settings = _settings(server, tmp_path, webhook)
    tick(settings, engine, DAY1)
    before = dump(engine)
    server.faults = {"art:issuances": ["500"] * 100}
    for day in (1, 2):  # two failing runs: one alert
        [(_, result)] = tick(settings, engine, DAY1 + timedelta(days=day))
        assert result.outcome == "failed" and "HTTP 500" in result.error
    assert dump(engine) == before
    assert _mails(engine) == ["[CarbonScope] failing: refresh:art-trees"]
    assert len(webhook.posts) == 1 and webhook.posts[0]["text"].startswith("[CarbonScope] failing: refresh:art-trees")
    server.faults = {}
    [(_, result)] = tick(settings, engine, DAY1 + timedelta(days=3))
    assert result.outcome == "ok"
    assert _mails(engine)[1:] == ["[CarbonScope] recovered: refresh:art-trees"] and len(webhook.posts) == 2
    assert "had been failing since 2026-12-08 03:05 UTC" in webhook.posts[1]["text"]


def test_a_failure_still_failing_is_reminded_after_the_set_time(server, engine, tmp_path, webhook):
    settings = _settings(server, tmp_path, webhook).model_copy(update={"alert_reminder_hours": 24})
    server.faults = {"art:projects": ["500"] * 100}
    for day in range(3):
        tick(settings, engine, DAY1 + timedelta(days=day))
    assert _mails(engine) == [
        "[CarbonScope] failing: refresh:art-trees",
        "[CarbonScope] still failing: refresh:art-trees",
        "[CarbonScope] still failing: refresh:art-trees",
    ]


def test_a_shrunk_export_is_refused_changes_nothing_and_alerts_once(server, engine, tmp_path, webhook):
    settings = _settings(server, tmp_path, webhook)
    tick(settings, engine, DAY1)
    before = dump(engine)
    lines = (NATIVE / "art-trees/issuances.csv").read_bytes().splitlines(keepends=True)
    server.bodies = {"art:issuances": b"".join(lines[: 1 + (len(lines) - 1) // 4])}  # a quarter of the rows
    [(_, result)] = tick(settings, engine, DAY1 + timedelta(days=1))
    assert result.outcome == "failed"
    assert "issuances.csv (ART TREES issuances report):" in result.error and "fewer than the" in result.error
    assert "of the last good file of 20" in result.error  # the day it was downloaded
    assert dump(engine) == before and _mails(engine) == ["[CarbonScope] failing: refresh:art-trees"]
    with engine.connect() as conn:
        state = conn.execute(select(alert_states).where(alert_states.c.key == "refresh:art-trees")).mappings().one()
    assert state["state"] == "failing" and "refused as an incomplete export" in state["message"]


def test_a_changed_schema_names_the_columns_added_and_removed(server, engine, tmp_path, webhook):
    settings = _settings(server, tmp_path, webhook)
    tick(settings, engine, DAY1)
    text = (NATIVE / "art-trees/projects.csv").read_text()
    header, rest = text.split("\n", 1)
    server.bodies = {
        "art:projects": (header.replace("Verification Body", "Validation and Verification Body") + "\n" + rest).encode()
    }
    before = dump(engine)
    [(_, result)] = tick(settings, engine, DAY1 + timedelta(days=1))
    assert result.outcome == "failed"
    assert "the export's columns changed since the last good file of 20" in result.error
    assert "added validation and verification body; removed verification body" in result.error
    assert dump(engine) == before


def test_a_registry_not_refreshed_for_days_raises_a_stale_alert(server, engine, tmp_path, webhook):
    settings = _settings(server, tmp_path, webhook)
    tick(settings, engine, DAY1)
    server.faults = {"art:projects": ["500"] * 100}
    tick(settings, engine, DAY1 + timedelta(days=4))
    assert sorted(_mails(engine)) == [
        "[CarbonScope] failing: refresh:art-trees",
        "[CarbonScope] failing: stale:art-trees",
    ]
    assert any("no good download since 2026-12-07" in p["text"] for p in webhook.posts)


def test_a_run_cut_short_by_a_killed_process_is_redone_once(server, engine, tmp_path, webhook):
    """The scheduler died mid-run (its row says 'running' under a process that no longer exists):
    the next start takes the same fire time over and runs it once."""
    import socket

    settings = _settings(server, tmp_path, webhook)
    fire = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)
    dead = 2**22 + 12345
    while True:  # a pid no process has
        try:
            os.kill(dead, 0)
            dead += 1
        except ProcessLookupError:
            break
    with engine.begin() as tx:
        tx.execute(
            insert(schedule_runs).values(
                job="refresh:art-trees",
                due_at=fire,
                started_at=fire,
                outcome="running",
                worker=f"{socket.gethostname()}:{dead}",
            )
        )
    done = tick(settings, engine, DAY1)
    assert [(j, r.outcome) for j, r in done] == [("refresh:art-trees", "ok")]
    assert [(j, o) for j, _, o in _runs(engine)] == [("refresh:art-trees", "ok")]  # the same row, taken over
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(projects)).scalar_one() == 28


def test_two_schedulers_claim_a_fire_time_once(engine):
    d = schedule.Due("backup", datetime(2026, 12, 7, 3, 30, tzinfo=UTC))
    assert schedule.claim(engine, d, d.due_at) is not None
    assert schedule.claim(engine, d, d.due_at) is None


def test_an_unknown_job_or_cron_is_refused_naming_it(tmp_path):
    from pydantic import ValidationError

    from carbonscope.errors import InvalidField
    from carbonscope.settings import Settings

    with pytest.raises(InvalidField, match="schedules.refresh:gold-standard"):
        schedule.triggers(Settings(data_dir=tmp_path, schedules={"refresh:gold-standard": "0 3 * * *"}))
    with pytest.raises(ValidationError, match="'news': 'every hour' is not a cron expression"):
        Settings(data_dir=tmp_path, schedules={"news": "every hour"})


def test_a_queued_run_runs_once_even_when_its_message_comes_twice(server, engine, tmp_path, webhook):
    """The scheduler claims and queues; a worker takes the run over and finishes it; the same message
    delivered again (a worker lost before its acknowledgement) finds it finished and does nothing."""
    from carbonscope.ops.run import execute_claimed

    settings = _settings(server, tmp_path, webhook)
    d = schedule.Due("refresh:art-trees", datetime(2026, 12, 7, 3, 0, tzinfo=UTC))
    run_id = schedule.claim(engine, d, d.due_at, worker="queued")
    assert execute_claimed(settings, engine, run_id) == "ok"
    assert execute_claimed(settings, engine, run_id) == "skipped"
    with engine.connect() as conn:
        row = conn.execute(select(schedule_runs).where(schedule_runs.c.id == run_id)).mappings().one()
    assert row["outcome"] == "ok" and str(os.getpid()) in row["worker"] and row["detail"]["new_projects"] == 28
    # a run still going in a live process is not run beside it
    d2 = schedule.Due("refresh:art-trees", datetime(2026, 12, 8, 3, 0, tzinfo=UTC))
    live = schedule.claim(engine, d2, d2.due_at, worker=f"{__import__('socket').gethostname()}:{os.getppid()}")
    assert schedule.take_over(engine, live) is None
