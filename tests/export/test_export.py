"""One export path for the web, the CLI and jobs: the same rows and cells, types from the schema,
and a failed export that leaves nothing behind."""

from __future__ import annotations

import io

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from carbonscope import export
from carbonscope.cli import app as cli
from carbonscope.db.engine import make_engine
from carbonscope.errors import InvalidField
from carbonscope.jobs import export_list
from carbonscope.queries.filters import EventFilters, ProjectFilters
from carbonscope.queries.lists import events_query, project_query
from carbonscope.settings import get_settings


@pytest.fixture
def hub(loaded_url):
    engine = make_engine(loaded_url)
    yield engine
    engine.dispose()


def test_arrow_types_come_from_the_schema():
    types = {f.name: f.type for f in export.arrow_schema(project_query(ProjectFilters(), None))}
    assert (types["issued"], types["first_vintage"], types["estimated_annual"]) == (
        pa.int64(),
        pa.int32(),
        pa.float64(),
    )
    assert (types["listed_at"], types["corsia"], types["methodologies"], types["name"]) == (
        pa.date32(),
        pa.bool_(),
        pa.string(),
        pa.string(),
    )
    events = {f.name: f.type for f in export.arrow_schema(events_query(EventFilters(), None))}
    assert (events["quantity"], events["vintage"], events["event_date"], events["serial_start"]) == (
        pa.int64(),
        pa.int32(),
        pa.date32(),
        pa.int64(),
    )


def test_the_job_writes_exactly_the_filtered_view(hub, tmp_path):
    report = export_list(hub, "credits", tmp_path / "car.csv", filters=[("registry", "CAR"), ("type", "retirement")])
    df = pd.read_csv(report.path)
    assert (report.rows, len(df), report.sort, report.format) == (100, 100, "-event_date", "csv")
    assert set(df["type"]) == {"retirement"} and set(df["registry"]) == {"CAR"}
    assert report.bytes == report.path.stat().st_size
    art = export_list(hub, "projects", tmp_path / "art.parquet", filters=[("registry", "ART")])
    table = pq.read_table(art.path)
    assert table.num_rows == art.rows == 28 and table.schema.field("issued").type == pa.int64()


def test_the_cli_and_the_web_give_the_same_bytes(hub, loaded_url, tmp_path, monkeypatch):
    from fastapi.testclient import TestClient

    from carbonscope.web.app import create_app
    from tests.web.conftest import app_settings

    monkeypatch.setenv("CARBONSCOPE_DATABASE_URL", loaded_url)
    get_settings.cache_clear()
    out = tmp_path / "ghana.csv"
    got = CliRunner().invoke(cli, ["export", "projects", str(out), "-f", "country=GH", "--sort", "name"])
    assert got.exit_code == 0, got.output
    with TestClient(create_app(app_settings(loaded_url, tmp_path))) as client:
        web = client.get("/api/v1/projects", params={"country": "GH", "sort": "name", "format": "csv"}).content
        total = client.get("/api/v1/projects", params={"country": "GH", "limit": 1}).json()["total"]
    assert out.read_bytes() == web
    rows = len(pd.read_csv(io.BytesIO(web)))
    assert rows == total > 0 and f"wrote {rows:,} projects" in got.output


def test_bad_requests_name_what_is_wrong_and_write_nothing(hub, tmp_path):
    with pytest.raises(InvalidField) as e:
        export_list(hub, "projects", tmp_path / "p.csv", filters=[("vintage_min", "soon")])
    assert e.value.field == "vintage_min"
    with pytest.raises(InvalidField) as e:
        export_list(hub, "projects", tmp_path / "p.csv", filters=[("colour", "green")])
    assert e.value.field == "colour"
    with pytest.raises(InvalidField) as e:
        export_list(hub, "projects", tmp_path / "p.json")
    assert e.value.field == "format"
    with pytest.raises(InvalidField) as e:
        export_list(hub, "projects", tmp_path / "p.csv", sort="-colour")
    assert e.value.field == "sort"
    with pytest.raises(InvalidField):
        export_list(hub, "retirees", tmp_path / "p.csv")
    assert list(tmp_path.iterdir()) == []
    got = CliRunner().invoke(cli, ["export", "projects", str(tmp_path / "p.csv"), "-f", "registry"])
    assert got.exit_code == 2 and "NAME=VALUE" in got.output


def test_a_failed_export_leaves_no_partial_file(hub, tmp_path, monkeypatch):
    def broken():
        yield b"id\n"
        raise OSError("disk full")

    target = tmp_path / "p.csv"
    target.write_text("the old file\n")
    monkeypatch.setattr(export, "chunks", lambda *a, **k: broken())  # the disk fills mid-way
    with pytest.raises(OSError):
        export.write("csv", hub, project_query(ProjectFilters(), None), target)
    assert target.read_text() == "the old file\n" and [p.name for p in tmp_path.iterdir()] == ["p.csv"]
