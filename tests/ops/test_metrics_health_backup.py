"""/metrics after real requests and scheduled runs, /healthz and /readyz, and backups of the real
registry data that restore to the same database on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, func, select

from carbonscope.db.engine import make_engine
from carbonscope.db.schema import projects
from carbonscope.ops import backup
from tests.conftest import NATIVE
from tests.ingest.helpers import dump
from tests.web.conftest import app_settings


def _value(text: str, name: str, **labels) -> float:
    want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    m = re.search(
        rf"^{re.escape(name)}{{{re.escape(want)}}} (\S+)$" if labels else rf"^{re.escape(name)} (\S+)$", text, re.M
    )
    assert m, (name, labels)
    return float(m.group(1))


def test_metrics_count_requests_by_route_and_read_the_database(client, loaded_engine):
    def bad_requests() -> float:  # the counters are the process's: other tests in it count too
        m = re.search(
            r'^carbonscope_http_requests_total\{method="GET",route="/api/v1/projects",status="422"\} (\S+)$',
            client.get("/metrics").text,
            re.M,
        )
        return float(m.group(1)) if m else 0.0

    before = bad_requests()
    for _ in range(3):
        client.get("/projects/VCS612", headers={"accept": "text/html"})
    client.get("/api/v1/projects", params={"registry": "ART"})
    client.get("/api/v1/projects", params={"registry": "NOPE"})
    text = client.get("/metrics").text
    # sorted labels as prometheus-client writes them: method, route, status
    assert (
        _value(text, "carbonscope_http_requests_total", method="GET", route="/projects/{project_id}", status="200") >= 1
    )
    assert (
        _value(text, "carbonscope_http_requests_total", method="GET", route="/api/v1/projects", status="422")
        == before + 1
    )
    assert "carbonscope_http_request_duration_seconds_bucket" in text
    with loaded_engine.connect() as conn:
        by_registry = dict(conn.execute(select(projects.c.registry, func.count()).group_by(projects.c.registry)).all())
    for registry, n in by_registry.items():
        assert _value(text, "carbonscope_projects", registry=registry) == n
    assert _value(text, "carbonscope_database_bytes") > 0
    assert _value(text, "carbonscope_refresh_age_seconds", source="vrod") >= 0


def test_health_and_readiness_say_what_is_wrong(tmp_path):
    from carbonscope.db.migrate import upgrade
    from carbonscope.web.app import create_app

    url = f"sqlite:///{tmp_path / 'h.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with TestClient(create_app(app_settings(url, tmp_path))) as c:
        assert c.get("/healthz").json() == {"status": "ok"}
        ready = c.get("/readyz")
        assert ready.status_code == 200 and ready.json()["checks"] == {"database": "ok", "migrations": "ok"}
    from alembic import command

    from carbonscope.db.migrate import alembic_config

    command.downgrade(alembic_config(engine), "0009")  # now the code is newer than the database
    from carbonscope.ops.health import readiness

    checks = readiness(app_settings(url, tmp_path, redis_url="redis://127.0.0.1:1/0"), engine)
    assert checks["migrations"].startswith("the database is at 0009, the code needs 0010")
    assert checks["cache"].startswith("unreachable:")
    engine.dispose()


def test_a_scheduled_run_shows_in_the_metrics(tmp_path):
    from carbonscope.db.migrate import upgrade
    from carbonscope.ops.run import tick
    from carbonscope.web.app import create_app

    url = f"sqlite:///{tmp_path / 'm.db'}"
    engine = make_engine(url)
    upgrade(engine)
    settings = app_settings(url, tmp_path, schedules={"folders": "0 * * * *"}, ingest_folders=[NATIVE / "art-trees"])
    [(job, result)] = tick(settings, engine, datetime(2026, 12, 7, 10, 5, tzinfo=UTC))
    assert (job, result.outcome) == ("folders", "ok") and result.detail["new_projects"] == 28
    with TestClient(create_app(settings)) as c:
        text = c.get("/metrics").text
    assert _value(text, "carbonscope_schedule_last_success", job="folders") == 1.0
    assert _value(text, "carbonscope_projects", registry="ART") == 28
    engine.dispose()


def test_a_backup_of_the_real_data_restores_the_same_database(loaded_url, tmp_path):
    """Back up the database of every real registry file, damage it, restore: every table as before."""
    engine = make_engine(loaded_url)
    before = dump(engine)
    result = backup.backup(loaded_url, tmp_path / "backups")
    assert result.path.exists() and result.bytes > 1_000_000 and result.path.parent == tmp_path / "backups"
    with engine.begin() as tx:
        tx.execute(delete(projects).where(projects.c.registry == "ART"))
    assert dump(engine) != before
    engine.dispose()
    backup.restore(loaded_url, result.path)
    engine = make_engine(loaded_url)
    assert dump(engine) == before
    engine.dispose()


def test_retention_keeps_the_newest_backups_and_a_bad_file_is_refused(tmp_path):
    from carbonscope.errors import InputError

    for stamp in ("20261201T000000Z", "20261202T000000Z", "20261203T000000Z"):
        (tmp_path / f"carbonscope-{stamp}.sqlite3").write_bytes(b"x")
    gone = backup.prune(tmp_path, keep=2)
    assert [p.name for p in gone] == ["carbonscope-20261201T000000Z.sqlite3"]
    (tmp_path / "junk.sqlite3").write_text("not a database")
    with pytest.raises(InputError, match="not a SQLite backup|damaged"):
        backup.restore(f"sqlite:///{tmp_path / 'live.db'}", tmp_path / "junk.sqlite3")


def test_the_raw_archive_is_mirrored_once(tmp_path):
    from carbonscope.settings import Settings

    settings = Settings(data_dir=tmp_path / "data", raw_mirror_url=f"file://{tmp_path / 'mirror'}")
    (settings.raw_dir / "art-trees" / "2026-12-07").mkdir(parents=True)
    (settings.raw_dir / "art-trees" / "2026-12-07" / "projects.csv").write_bytes(b"a,b\n1,2\n")
    assert backup.mirror_raw(settings) == 1
    assert (tmp_path / "mirror" / "art-trees" / "2026-12-07" / "projects.csv").read_bytes() == b"a,b\n1,2\n"
    assert backup.mirror_raw(settings) == 0  # already there
