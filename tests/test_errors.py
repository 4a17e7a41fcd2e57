"""One error path: each CarbonScopeError carries its HTTP status; the web answers every one with
problem details (or an HTML page for a browser) through one handler; every CLI command turns one
into a line on stderr and exit code 2."""

from __future__ import annotations

import json

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from carbonscope import errors
from carbonscope.cli import app as cli
from carbonscope.web import problems
from carbonscope.web.templating import html_errors

CASES = [
    (errors.InputError("bad row", file="x.csv", row=3), 400, {}),
    (errors.NotFoundError("no project 'VCS0'"), 404, {}),
    (errors.AuthError("wrong email or password"), 401, {"www-authenticate": "Bearer"}),
    (errors.PermissionDenied("only its author can change a comment"), 403, {}),
    (errors.Throttled("too many failed sign-ins", 900), 429, {"retry-after": "900"}),
    (errors.Busy("2 exports are being prepared", retry_after=5), 503, {"retry-after": "5"}),
    (errors.DatabaseBusy("the database stayed locked"), 503, {"retry-after": "10"}),
    (errors.InvalidField("sort", "unknown sort column 'x'"), 422, {}),
    (errors.DownloadError("verra: HTTP 500 after 4 tries"), 502, {}),
]


@pytest.fixture(scope="module")
def client():
    app = FastAPI()
    problems.install(app, html_errors)

    @app.get("/fail/{i}")
    def fail(i: int):
        raise CASES[i][0]

    return TestClient(app)


@pytest.mark.parametrize("i", range(len(CASES)))
def test_every_error_answers_with_its_own_status_in_json_and_html(client, i):
    exc, status, headers = CASES[i]
    r = client.get(f"/fail/{i}")
    assert r.status_code == status and r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["status"] == status and body["detail"] == str(exc) and body["title"] == problems.TITLES[status]
    for k, v in headers.items():
        assert r.headers[k] == v
    if isinstance(exc, errors.InvalidField):
        assert body["errors"] == [{"field": "sort", "message": "unknown sort column 'x'"}]
    page = client.get(f"/fail/{i}", headers={"Accept": "text/html"})
    assert page.status_code == status and "<html" in page.text and "problem+json" not in page.headers["content-type"]
    if "retry-after" in headers:
        assert page.headers["retry-after"] == headers["retry-after"]


def test_every_cli_command_turns_an_error_into_one_line_and_exit_code_2(tmp_path, monkeypatch):
    monkeypatch.setenv("CARBONSCOPE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CARBONSCOPE_NEWS_FEEDS", "[]")  # no feeds (the default list emptied)
    monkeypatch.chdir(tmp_path)  # short paths: the console wraps long lines
    runner = CliRunner()
    r = runner.invoke(cli, ["refresh", "--registry", "nowhere"])
    assert r.exit_code == 2 and "unknown registry 'nowhere'" in r.output and "Traceback" not in r.output
    r = runner.invoke(cli, ["news", "refresh"])  # no feeds configured (the default list emptied)
    assert r.exit_code == 2 and "no feeds" in r.output
    r = runner.invoke(cli, ["ingest", "missing.csv"])
    assert r.exit_code == 2 and "missing.csv" in r.output


def test_ingest_without_paths_reads_the_configured_folder_or_says_what_to_set(tmp_path, monkeypatch):
    from carbonscope.settings import get_settings
    from tests.conftest import NATIVE

    runner = CliRunner()
    got = runner.invoke(cli, ["ingest"])
    assert got.exit_code == 2 and "CARBONSCOPE_REGISTRIES_DIR" in got.output
    monkeypatch.setenv("CARBONSCOPE_REGISTRIES_DIR", str(NATIVE / "art-trees"))
    get_settings.cache_clear()
    got = runner.invoke(cli, ["ingest", "--json"])
    assert got.exit_code == 0, got.output
    doc = json.loads(got.stdout)
    assert doc["new_events"] == 30 and {f["source"] for f in doc["files"]} == {"art-trees"}


def test_a_setting_that_cannot_be_read_is_one_line_naming_the_variable(tmp_path):
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("CARBONSCOPE_")}
    env.update(CARBONSCOPE_DATA_DIR=str(tmp_path), CARBONSCOPE_SCHEDULES='{"news": "soon"}')
    r = subprocess.run([sys.executable, "-m", "carbonscope.cli", "stats"], env=env, capture_output=True, text=True)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "CARBONSCOPE_SCHEDULES: schedule 'news': 'soon' is not a cron expression" in " ".join(r.stderr.split())
