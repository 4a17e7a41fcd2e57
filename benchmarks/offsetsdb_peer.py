"""Run CarbonPlan's offsets-db-data (the pip package) over a folder of native registry exports, to its
output (credits and projects tables written as Parquet), the way its own pipeline reads them.

    python -m benchmarks.offsetsdb_peer NATIVE_DIR OUT_DIR
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import pandas as pd


def run(native: Path | str, out: Path | str) -> dict:
    native, out = Path(native), Path(out)
    warnings.filterwarnings("ignore")
    import offsets_db_data.apx  # noqa: F401  (registers the DataFrame methods)
    import offsets_db_data.gld  # noqa: F401
    import offsets_db_data.vcs  # noqa: F401

    t0 = time.perf_counter()
    credits, projects = [], []
    vcs_tx = pd.read_csv(native / "verra/transactions.csv")
    vcs_credits = vcs_tx.process_vcs_credits()
    credits.append(vcs_credits)
    projects.append(pd.read_csv(native / "verra/projects.csv").process_vcs_projects(credits=vcs_credits))

    gld = [
        pd.read_csv(native / f"gold-standard/{k}.csv").process_gld_credits(download_type=k)
        for k in ("issuances", "retirements")
    ]
    gld_credits = pd.concat(gld, ignore_index=True)
    credits.append(gld_credits)
    projects.append(pd.read_csv(native / "gold-standard/projects.csv").process_gld_projects(credits=gld_credits))

    for folder, name in (
        ("american-carbon-registry", "american-carbon-registry"),
        ("climate-action-reserve", "climate-action-reserve"),
        ("art-trees", "art-trees"),
    ):
        parts = [
            pd.read_csv(native / f"{folder}/{k}.csv").process_apx_credits(download_type=k, registry_name=name)
            for k in ("issuances", "retirements", "cancellations")
        ]
        reg_credits = pd.concat(parts, ignore_index=True)
        credits.append(reg_credits)
        projects.append(
            pd.read_csv(native / f"{folder}/projects.csv").process_apx_projects(credits=reg_credits, registry_name=name)
        )

    all_credits = pd.concat(credits, ignore_index=True)
    all_projects = pd.concat(projects, ignore_index=True)
    out.mkdir(parents=True, exist_ok=True)
    all_credits.to_parquet(out / "credits.parquet")
    all_projects.to_parquet(out / "projects.parquet")
    return {
        "seconds": time.perf_counter() - t0,
        "credits": len(all_credits),
        "projects": len(all_projects),
        "credit_fields": len(all_credits.columns),
        "project_fields": len(all_projects.columns),
        "credit_columns": list(map(str, all_credits.columns)),
        "project_columns": list(map(str, all_projects.columns)),
    }


if __name__ == "__main__":
    print(run(Path(sys.argv[1]), Path(sys.argv[2])))
