"""The Juupajoki example end to end (features, plots, three models x three validations, map, stock, report).

    python benchmarks/bench_biomass_run.py

Runs ``carbonscope biomass run examples/juupajoki.toml`` in a fresh process, writing to
benchmarks/out/biomass/juupajoki-run (the prediction benchmark uses its map as labels).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out" / "biomass" / "juupajoki-run"


def main() -> None:
    t0 = time.perf_counter()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "carbonscope.cli",
            "biomass",
            "run",
            str(ROOT / "examples" / "juupajoki.toml"),
            "--output",
            str(OUT),
            "--json",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(proc.stderr[-3000:])
    doc = json.loads(proc.stdout)
    m = doc["metrics"]
    summary = {
        "wall_seconds_including_interpreter": wall,
        "samples": m["n_samples"],
        "map_seconds": m["map"]["seconds"],
        "engine": m["model"]["engine"],
        "metrics": {
            model: {s: {k: round(v[k], 3) for k in ("n", "rmse", "rrmse", "bias", "r2", "r")} for s, v in by.items()}
            for model, by in m["validation"].items()
        },
        "agb_total_mg": doc["stock"]["__domain__"]["agb_mg"],
        "co2e_t": doc["stock"]["__domain__"]["co2e_t"],
    }
    (OUT.parent / "run.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
