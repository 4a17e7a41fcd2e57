"""Metrics worked by hand; folds that never let a held-out sample into its own training."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from carbonscope.biomass import models, validation
from carbonscope.errors import InputError


def test_metrics_by_hand():
    m = validation.metrics([1, 2, 3, 4], [2, 2, 3, 5], bins=[0, 2.5, 5])
    # errors 1, 0, 0, 1: RMSE sqrt(2/4); observed mean 2.5; SST = 2.25 + 0.25 + 0.25 + 2.25 = 5
    assert m["rmse"] == pytest.approx(np.sqrt(0.5))
    assert m["rrmse"] == pytest.approx(100 * np.sqrt(0.5) / 2.5)
    assert m["bias"] == pytest.approx(0.5) and m["mae"] == pytest.approx(0.5)
    assert m["r2"] == pytest.approx(1 - 2 / 5)
    assert m["r"] == pytest.approx(np.corrcoef([1, 2, 3, 4], [2, 2, 3, 5])[0, 1])
    assert m["n"] == 4
    assert m["by_bin"] == [
        {"from": 0.0, "to": 2.5, "n": 2, "rmse": pytest.approx(np.sqrt(0.5)), "bias": 0.5},
        {"from": 2.5, "to": 5.0, "n": 2, "rmse": pytest.approx(np.sqrt(0.5)), "bias": 0.5},
    ]
    # slope of observed on predicted: deviations of pred (-1, -1, 0, 2), of obs (-1.5, -0.5, 0.5, 1.5): b = 5 / 6
    assert m["slope"] == pytest.approx(5 / 6)


def test_spatial_folds_keep_blocks_whole():
    rng = np.random.default_rng(0)
    x, y = rng.uniform(0, 10_000, 500), rng.uniform(0, 10_000, 500)
    blocks = validation.spatial_blocks(x, y, 2000)
    assert len(np.unique(blocks)) == 25
    folds = validation.group_kfold(blocks, 5, 0)
    seen = np.concatenate([te for _, te in folds])
    assert sorted(seen.tolist()) == list(range(500))  # each sample held out exactly once
    for tr, te in folds:
        assert not set(blocks[tr]) & set(blocks[te])  # no block on both sides
    with pytest.raises(InputError, match="use smaller blocks"):
        validation.group_kfold(validation.spatial_blocks(x, y, 20_000), 5, 0)


def test_held_out_only():
    """1-nearest-neighbour reproduces its training set exactly; held-out metrics must not."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 3))
    y = X[:, 0] * 10 + rng.normal(size=200) * 5
    spec = models.ModelSpec("knn", {"n_neighbors": 1}, {})
    model, _, _ = models.fit(spec, X, y)
    assert validation.metrics(y, model.predict(X))["r2"] == pytest.approx(1.0)
    for scheme, kw in (("split", {}), ("kfold", {"k": 5})):
        r = validation.cross_validate(spec, X, y, scheme=scheme, **kw)
        assert r.metrics["r2"] < 0.9
    split = validation.cross_validate(spec, X, y, scheme="split", train_fraction=0.7)
    assert split.metrics["n"] == 60


def test_parse_cv():
    assert validation.parse_cv("split:0.7") == {"scheme": "split", "train_fraction": 0.7}
    assert validation.parse_cv("kfold:10") == {"scheme": "kfold", "k": 10}
    assert validation.parse_cv("spatial:1500") == {"scheme": "spatial", "block": 1500.0, "k": 5}
    with pytest.raises(InputError):
        validation.parse_cv("loo")


def test_validate_a_map_against_plots_matches_numpy(juupajoki_run, tmp_path):
    """The run's own map against its plots (training plots: optimistic, but the arithmetic is what is
    checked), first pixel by pixel against rasterio's sample, then over each plot's 20 m footprint."""
    import json

    import rasterio
    from typer.testing import CliRunner

    from carbonscope.cli import app

    folder = juupajoki_run.folder
    samples = pd.read_csv(folder / "samples.csv")
    with rasterio.open(folder / "agb.tif") as src:
        crs = src.crs.to_string()
        pixel = np.array([v[0] for v in src.sample(zip(samples.x, samples.y))], float)
    plots = samples[["id", "x", "y", "agb"]].assign(year=2019)
    plots.loc[0, "agb"] = np.nan  # a plot without a value is counted, not used
    path = tmp_path / "plots.csv"
    plots.to_csv(path, index=False)
    args = ["biomass", "validate", str(folder / "agb.tif"), "--plots", str(path), "--crs", crs, "--json"]
    got = CliRunner().invoke(app, args)
    assert got.exit_code == 0, got.output
    doc = json.loads(got.stdout)
    ok = np.isfinite(pixel) & plots.agb.notna().to_numpy()
    err = pixel[ok] - plots.agb.to_numpy()[ok]
    assert doc["used"] == int(ok.sum()) and doc["skipped"]["no_agb"] == 1
    assert doc["accuracy"]["rmse"] == pytest.approx(np.sqrt(np.mean(err**2)))
    assert doc["accuracy"]["bias"] == pytest.approx(err.mean())
    assert doc["aggregation"] == "the pixel under each plot"
    footprint = CliRunner().invoke(
        app, [*args, "--plot-size", str(np.pi * 20**2), "--date", "year", "--map-year", "2019"]
    )
    assert footprint.exit_code == 0, footprint.output
    f = json.loads(footprint.stdout)
    assert f["aggregation"].startswith("area-weighted mean") and f["used"] == doc["used"]
    assert f["accuracy"]["rmse"] != doc["accuracy"]["rmse"] and f["time_gap_years"] == {"mean": 0.0, "max": 0.0}


def test_validate_names_what_is_missing(tmp_path):
    from typer.testing import CliRunner

    from carbonscope.cli import app
    from tests.biomass.conftest import HV

    path = tmp_path / "plots.csv"
    pd.DataFrame({"x": [1.0, 2.0], "y": [1.0, 2.0], "biomass": [10, 20]}).to_csv(path, index=False)
    got = CliRunner().invoke(app, ["biomass", "validate", str(HV), "--plots", str(path), "--crs", "EPSG:32635"])
    assert got.exit_code == 2 and "no column 'agb'" in " ".join(got.output.split())
    got = CliRunner().invoke(app, ["biomass", "validate", str(HV), "--plots", str(path), "--agb", "biomass"])
    assert got.exit_code == 2 and "--crs is needed" in " ".join(got.output.split())


def test_the_aoa_threshold_is_cast_s_upper_whisker():
    from carbonscope.biomass.aoa import hinges, upper_whisker

    x = np.array([1, 2, 3, 4, 5, 6, 7, 8, 9, 100.0])
    # R: fivenum(x) = 1 3 5.5 8 100; boxplot.stats(x)$stats[5] = 9 (the fence 8 + 1.5 x 5 = 15.5 is not a value)
    assert hinges(x) == (3.0, 8.0) and upper_whisker(x) == 9.0
    odd = np.array([0.2, 0.4, 0.5, 0.7, 0.9, 1.0, 3.0])
    # fivenum: 0.2 0.45 0.7 0.95 3.0; fence 0.95 + 1.5 x 0.5 = 1.7; whisker 1.0
    assert hinges(odd) == pytest.approx((0.45, 0.95)) and upper_whisker(odd) == 1.0


def test_reproduce_non_nested_reports_the_published_grids_optimistic_score_beside_the_nested_one(juupajoki_run):
    """The published kNN grid picks k on the test part it reports: its score is the best of 50, by hand."""
    from sklearn.neighbors import KNeighborsRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from carbonscope.biomass.run import _non_nested
    from tests.biomass.conftest import example_config

    s = juupajoki_run.samples
    X, y = s[["hh_db", "hv_db", "hh_hv_diff", "hh_hv_ratio"]].to_numpy(float), s.agb.to_numpy(float)
    cfg = example_config(juupajoki_run.folder)
    cfg = cfg.model_copy(update={"validation": cfg.validation.model_copy(update={"reproduce": "non-nested"})})
    spec = models.resolve(None, "published-knn")
    got = _non_nested(spec, X, y, cfg)
    train, test = validation.random_split(len(y), cfg.validation.random_split, cfg.seed)[0]
    by_k = {
        k: np.sqrt(
            np.mean(
                (
                    make_pipeline(StandardScaler(), KNeighborsRegressor(k)).fit(X[train], y[train]).predict(X[test])
                    - y[test]
                )
                ** 2
            )
        )
        for k in range(1, 51)
    }
    best = min(by_k, key=by_k.get)
    assert got["chosen_params"] == {"n_neighbors": best} and got["rmse"] == pytest.approx(by_k[best])
    assert got["optimistic"] and "not nested" in got["note"]
    nested = validation.cross_validate(spec, X, y, scheme="split", seed=cfg.seed, train_fraction=0.7)
    assert got["rmse"] <= nested.metrics["rmse"]  # choosing on the test plots can only flatter
