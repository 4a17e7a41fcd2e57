"""Training: the published 192-combination random-forest grid (and the k = 1..50 kNN grid) on
5,700 samples x 6 features.

    python benchmarks/bench_biomass_train.py

Samples: 5,700 random forest pixels of the real Juupajoki PALSAR-2 rasters with 6 features
(HH, HV in dB, their difference and ratio, HV GLCM contrast and homogeneity), labelled by the
Juupajoki run's AGB map, as the published recipe labels Landsat pixels with a biomass map (ESA CCI).
Timed: the grid scored on a 70/30 random split (the recipe's), and on 3-fold cross-validation.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.biomass_stack import OUT  # noqa: E402
from carbonscope.biomass import config, models, validation  # noqa: E402
from carbonscope.biomass.run import build_samples, prepare  # noqa: E402


def samples(labels_map: Path):
    cfg = config.load(ROOT / "examples" / "juupajoki.toml")
    cfg = cfg.model_copy(
        update={
            "output": OUT / "train-samples",
            "labels": config.LabelConfig(type="raster", path=labels_map),
            "sampling": config.SamplingConfig(n=5700, method="random"),
            "features": config.FeatureConfig(
                sets=["sar"],
                texture=True,
                include=[],
                exclude=["hh_db_contrast", "hh_db_dissimilarity", "hh_db_homogeneity", "hv_db_dissimilarity"],
            ),
        }
    )
    ctx = prepare(cfg)
    table, _, _ = build_samples(cfg, ctx)
    return table[list(ctx.spec.names)].to_numpy(float), table.agb.to_numpy(float), list(ctx.spec.names)


def main() -> None:
    labels = OUT / "juupajoki-run" / "agb.tif"
    if not labels.exists():
        sys.exit(f"{labels} is missing: run benchmarks/bench_biomass_run.py first")
    X, y, names = samples(labels)
    assert X.shape == (5700, 6), X.shape
    out = {"samples": X.shape[0], "features": names}
    rf = models.resolve(None, "published-rf-grid")
    assert rf.n_combinations == 192
    for label, folds in (
        ("split_70_30", validation.random_split(len(y), 0.7, 0)),
        ("kfold_3", validation.kfold(len(y), 3, 0)),
    ):
        t0 = time.perf_counter()
        scores = models.grid_scores(rf, X, y, folds, seed=0)
        secs = time.perf_counter() - t0
        best, rmse = min(scores, key=lambda s: s[1])
        out[f"rf_grid_{label}"] = {"seconds": secs, "combinations": len(scores), "best": best, "rmse": rmse}
        print(label, out[f"rf_grid_{label}"], flush=True)
    knn = models.resolve(None, "published-knn")
    t0 = time.perf_counter()
    scores = models.grid_scores(knn, X, y, validation.random_split(len(y), 0.7, 0))
    best, rmse = min(scores, key=lambda s: s[1])
    out["knn_grid_split_70_30"] = {
        "seconds": time.perf_counter() - t0,
        "combinations": len(scores),
        "best": best,
        "rmse": rmse,
    }
    (OUT / "train.json").write_text(json.dumps(out, indent=2, default=str))
    print(json.dumps(out, indent=2, default=str))


if __name__ == "__main__":
    main()
