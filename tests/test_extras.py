"""The optional parts are optional: with a part's modules missing, what does not need them works
and what does names the extra to install. Each case runs in a fresh interpreter that refuses to
import the blocked modules."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from carbonscope.extras import EXTRA_OF
from tests.conftest import ROOT

BLOCKER = """
import importlib.abc, sys
BLOCKED = set({blocked!r})
class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
sys.meta_path.insert(0, Refuse())
"""


def _run(blocked: set[str], code: str, tmp_path) -> subprocess.CompletedProcess:
    script = BLOCKER.format(blocked=sorted(blocked)) + textwrap.dedent(code)
    env = {"PATH": "/usr/bin:/bin", "CARBONSCOPE_DATA_DIR": str(tmp_path), "HOME": str(tmp_path)}
    return subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


def _extra(name: str) -> set[str]:
    return {m for m, e in EXTRA_OF.items() if e == name}


CLI = """
from typer.testing import CliRunner
from carbonscope.cli import app
r = CliRunner().invoke(app, {args!r})
print(r.output)
sys.exit(r.exit_code)
"""


def test_the_baseline_engine_needs_no_web_server_database_driver_or_learning_stack(tmp_path):
    blocked = _extra("web") | _extra("postgres") | _extra("analyst")
    got = _run(blocked, "import carbonscope.baseline.run, carbonscope.baseline.fit, carbonscope.cli\n", tmp_path)
    assert got.returncode == 0, got.stderr


def test_the_hub_runs_from_the_core_alone(tmp_path):
    blocked = set(EXTRA_OF)
    data = ROOT.parent / "shared" / "data" / "registries" / "native"
    folder = next(p for p in sorted(data.iterdir()) if p.is_dir())
    got = _run(blocked, CLI.format(args=["ingest", str(folder)]), tmp_path)
    assert got.returncode == 0, got.stdout + got.stderr
    got = _run(blocked, CLI.format(args=["stats", "--json"]), tmp_path)
    assert got.returncode == 0 and '"projects"' in got.stdout, got.stdout + got.stderr


@pytest.mark.parametrize(
    "extra,args",
    [("web", ["serve"]), ("baseline", ["baseline", "run", "missing.toml"]), ("analyst", ["biomass", "run", "x.toml"])],
)
def test_a_command_that_needs_a_missing_part_names_the_extra(extra, args, tmp_path):
    blocked = _extra(extra) | (_extra("analyst") if extra == "baseline" else set())
    got = _run(blocked, CLI.format(args=args), tmp_path)
    assert got.returncode == 2, got.stdout + got.stderr
    assert f"pip install 'carbonscope[{extra}]'" in got.stdout.replace("\n", "")
