"""Run a Python callable in a fresh process and report its wall time and peak memory (RSS)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, resource, sys, time, importlib
mod, fn, args = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
f = getattr(importlib.import_module(mod), fn)
t0 = time.perf_counter()
result = f(*args)
elapsed = time.perf_counter() - t0
print("@@RESULT@@" + json.dumps({"seconds": elapsed, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "result": result}, default=str))
"""


def in_child(module: str, function: str, *args, env: dict | None = None) -> dict:
    """``module.function(*args)`` in a new interpreter; its own time excludes interpreter start-up."""
    import os

    proc = subprocess.run(
        [sys.executable, "-c", CHILD, module, function, json.dumps(list(args))],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{module}.{function} failed:\n{proc.stderr[-4000:]}")
    line = next(line for line in proc.stdout.splitlines() if line.startswith("@@RESULT@@"))
    return json.loads(line[len("@@RESULT@@"):])
