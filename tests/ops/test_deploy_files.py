"""The container and cloud files can only be built where a container daemon and the providers are:
here every command, setting, route and metric they name is checked to exist."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from carbonscope.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def _commands() -> set[str]:
    import typer.main

    from carbonscope.cli import app

    group = typer.main.get_command(app)
    return set(group.commands)  # type: ignore[attr-defined]


def _setting(var: str) -> bool:
    return var.removeprefix("CARBONSCOPE_").lower() in Settings.model_fields


def test_compose_services_use_commands_settings_and_routes_that_exist():
    doc = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = doc["services"]
    assert {"web", "worker", "scheduler", "db", "redis", "prometheus", "grafana"} <= set(services)
    commands = _commands()
    for name in ("web", "worker", "scheduler"):
        s = services[name]
        assert s["command"][0] in commands, (name, s["command"])
        for var in s["environment"]:
            assert var.startswith("CARBONSCOPE_") and _setting(var), (name, var)
    assert services["db"]["image"].startswith("postgis/postgis:")
    assert "/readyz" in " ".join(services["web"]["healthcheck"]["test"])
    for name in ("prometheus", "grafana"):
        assert services[name]["profiles"] == ["monitoring"]
        for volume in services[name]["volumes"]:
            assert (ROOT / volume.split(":")[0]).exists(), volume


def test_the_dockerfile_runs_a_command_that_exists_as_a_non_root_user():
    text = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^USER carbonscope$", text, re.M) and "useradd" in text
    cmd = re.search(r'^CMD \["(\w+)"', text, re.M).group(1)
    assert cmd in _commands()
    assert "HEALTHCHECK" in text and "/healthz" in text
    assert text.count("FROM ") == 3  # npm assets, the build, the runtime


def test_the_alert_rules_and_the_dashboard_use_metrics_the_site_exports(client, loaded_engine):
    import json

    from carbonscope.ops import metrics

    # every family the site declares, with or without samples yet (a gauge of no jobs has none)
    exported = {metrics.REQUESTS._name, metrics.LATENCY._name}
    exported |= {family.name for family in metrics.DatabaseCollector(loaded_engine).collect()}
    client.get("/projects")
    scraped = client.get("/metrics").text
    assert (
        "# TYPE carbonscope_http_requests_total counter" in scraped
        and "# TYPE carbonscope_database_bytes gauge" in scraped
    )
    rules = yaml.safe_load((ROOT / "deploy/prometheus/alerts.yml").read_text())
    used = set()
    for rule in rules["groups"][0]["rules"]:
        used |= set(re.findall(r"carbonscope_\w+", rule["expr"]))
    dashboard = json.loads((ROOT / "deploy/grafana/carbonscope.json").read_text())
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            used |= set(re.findall(r"carbonscope_\w+", target["expr"]))
    names = {re.sub(r"_(bucket|total|count|sum)$", "", u) for u in used}
    assert used and not names - exported, names - exported


@pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is not installed here")
def test_terraform_is_formatted():
    out = subprocess.run(
        ["terraform", "fmt", "-check", "-recursive", str(ROOT / "deploy/terraform/aws")], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stdout + out.stderr
