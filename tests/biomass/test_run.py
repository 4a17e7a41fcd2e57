"""The Juupajoki example end to end: files of the run folder and real properties of its numbers."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import rasterio
from rasterio.enums import Resampling
from rasterio.warp import reproject

from tests.biomass.conftest import LC


def test_run_folder(juupajoki_run):
    out = juupajoki_run.folder
    for name in (
        "config.toml",
        "samples.csv",
        "samples.parquet",
        "model.joblib",
        "metrics.json",
        "stock.json",
        "agb.tif",
        "aoa.tif",
        "report.html",
        "figures/observed_vs_predicted.png",
        "figures/agb_map.png",
        "figures/residual_map.png",
    ):
        assert (out / name).is_file(), name
    with rasterio.open(out / "agb.tif") as src:
        assert src.count == 3 and src.dtypes[0] == "float32" and src.crs.to_epsg() == 32635
        assert src.profile["tiled"] and src.overviews(1)  # Cloud-Optimized: tiled, with overviews
        assert src.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
        assert src.descriptions[0].startswith("AGB")
    html = (out / "report.html").read_text()
    assert "spatial block cross-validation" in html and "random split" in html and "data:image/png;base64," in html
    assert "<script" not in html and 'src="http' not in html  # self-contained, opens offline


def test_the_report_opens_with_the_answer_and_says_the_model_has_no_skill(juupajoki_run):
    """Juupajoki's spatial cross-validation R² is about zero: the report's first section gives the
    stock, its value with the price and currency, and a warning in words; no absolute path, no dict."""
    import re

    out = juupajoki_run.folder
    html = (out / "report.html").read_text()
    m = json.loads((out / "metrics.json").read_text())
    stock = json.loads((out / "stock.json").read_text())["__domain__"]["inside_aoa"]
    short = html[html.index('id="in-short"') : html.index("What was run")]
    assert html.index('id="in-short"') < html.index("Accuracy on held-out samples")  # the answer first
    assert f"{stock['co2e_t']['estimate']:,.0f} tonnes of CO2 equivalent" in short
    value = stock["value"]
    assert f"At {value['price_per_tco2e']:.2f} {value['currency']} per tonne of CO2e" in short
    assert f"{value['estimate']:,.0f} {value['currency']}" in short
    r2 = m["validation"]["gee"]["spatial"]["r2"]
    assert r2 < 0.1 and 'id="skill-warning"' in short and "no real skill" in short and f"R² {r2:.2f}" in short
    assert str(out.resolve()) not in html and "/shared/data/" not in html  # paths relative to the run folder
    assert not re.search(r"\{'[a-z_]+': ", html)  # no Python dict of parameters
    assert '<table class="params" id="model-params">' in html and "<td>n estimators</td><td>100</td>" in html


def test_skill_in_words_and_its_warning():
    from carbonscope.biomass.in_short import in_short, skill_in_words

    assert [skill_in_words(v) for v in (0.7, 0.45, 0.2, 0.05, None)] == [
        "good skill", "moderate skill", "weak skill", "no real skill", "not measured",
    ]  # fmt: skip
    good = {"main_model": "rf", "validation": {"rf": {"spatial": {"r2": 0.65, "rmse": 30.0, "rrmse": 20.0}}}}
    zone = {"area_ha": 10.0, "inside_aoa": {}, "outside_aoa": {"share": 0.0}}
    assert in_short(good, {"__domain__": zone}, 0.9)["warning"] is None
    weak = {"main_model": "rf", "validation": {"rf": {"spatial": {"r2": 0.25, "rmse": 50.0, "rrmse": 40.0}}}}
    assert "weak skill" in in_short(weak, {"__domain__": zone}, 0.9)["warning"]


def test_metrics_are_held_out_side_by_side(juupajoki_run):
    m = json.loads((juupajoki_run.folder / "metrics.json").read_text())
    n = m["n_samples"]
    assert n == 175  # 178 plots, 3 off the forest mask
    gee = m["validation"]["gee"]
    assert gee["split"]["n"] == n - round(0.7 * n) and gee["kfold"]["n"] == n and gee["spatial"]["n"] == n
    for model in ("gee", "published-knn", "lgbm-default"):
        for scheme in ("split", "kfold", "spatial"):
            r = m["validation"][model][scheme]
            assert {"rmse", "rrmse", "bias", "mae", "r2", "r", "slope", "by_bin"} <= set(r)
    # the random split flatters: its R^2 is higher than the spatial cross-validation's
    assert gee["split"]["r2"] > gee["spatial"]["r2"]
    assert len(gee["spatial"]["by_bin"]) >= 3
    assert m["validation"]["published-knn"]["spatial"]["chosen_params"]  # k tuned inside each fold


def test_map_values_and_pixels(juupajoki_run):
    samples = juupajoki_run.samples
    with rasterio.open(juupajoki_run.folder / "agb.tif") as src:
        agb, lo, hi = src.read(1), src.read(2), src.read(3)
        grid = (src.transform, src.crs, src.shape)
    valid = np.isfinite(agb)
    # a random forest predicts averages of training labels: never outside their range
    assert agb[valid].min() >= samples.agb.min() and agb[valid].max() <= samples.agb.max()
    assert (lo[valid] <= agb[valid]).all() and (hi[valid] >= agb[valid]).all() and (lo[valid] >= 0).all()
    # mapped pixels = forest pixels of the land cover (15.3 m) resampled to the 25 m grid by nearest neighbour
    forest = np.zeros(grid[2], dtype="uint8")
    with rasterio.open(LC) as lc:
        reproject(
            lc.read(1),
            forest,
            src_transform=lc.transform,
            src_crs=lc.crs,
            dst_transform=grid[0],
            dst_crs=grid[1],
            resampling=Resampling.nearest,
        )
    assert valid.sum() == (forest == 1).sum()
    assert juupajoki_run.map.pixels == 720 * 720


def test_totals_from_the_map(juupajoki_run):
    whole = juupajoki_run.stock["__domain__"]
    with rasterio.open(juupajoki_run.folder / "agb.tif") as src:
        agb = src.read(1).astype("float64")
    pixel_ha = 25 * 25 / 10_000
    assert whole["area_ha"] == pytest.approx(np.isfinite(agb).sum() * pixel_ha)
    assert whole["agb_map_total_mg"] == pytest.approx(np.nansum(agb) * pixel_ha, rel=1e-9)
    held = pd.read_csv(juupajoki_run.folder / "samples.csv")
    est = whole["estimator"]
    assert est["residuals_n"] == len(held) and est["lower"] < whole["agb_mg"]["estimate"] < est["upper"]
    # carbon and CO2e follow AGB and BGB: (AGB + BGB) x 0.47 x 44/12
    total = whole["agb_mg"]["estimate"] + whole["bgb_mg"]["estimate"]
    assert whole["co2e_t"]["estimate"] == pytest.approx(total * 0.47 * 44 / 12)
    assert whole["value"]["estimate"] == pytest.approx(whole["co2e_t"]["estimate"] * 25.0)
    # IPCC 2006 Table 4.4, boreal: R = 0.39 below 75 Mg/ha, 0.24 above
    r = whole["bgb_mg"]["estimate"] / whole["agb_mg"]["estimate"]
    assert 0.24 < r < 0.39


def test_the_run_folder_is_in_place_with_the_map_inside(juupajoki_run):
    assert juupajoki_run.map.agb_path.parent == juupajoki_run.folder and juupajoki_run.map.agb_path.exists()
    assert not juupajoki_run.folder.with_name(juupajoki_run.folder.name + ".partial").exists()


def test_totals_inside_and_outside_the_area_of_applicability_are_apart(juupajoki_run):
    whole = juupajoki_run.stock["__domain__"]
    with rasterio.open(juupajoki_run.folder / "agb.tif") as src:
        agb = src.read(1).astype("float64")
    with rasterio.open(juupajoki_run.folder / "aoa.tif") as src:
        aoa = src.read(1)
    pixel_ha = 25 * 25 / 10_000
    inside = np.isfinite(agb) & (aoa == 1)
    i, o = whole["inside_aoa"], whole["outside_aoa"]
    assert whole["headline"] == "inside_aoa"
    assert i["area_ha"] == pytest.approx(inside.sum() * pixel_ha)
    assert o["area_ha"] == pytest.approx((np.isfinite(agb) & (aoa != 1)).sum() * pixel_ha)
    assert o["share"] == pytest.approx(o["area_ha"] / whole["area_ha"]) and o["agb_map_mg"] == pytest.approx(
        np.nansum(np.where(inside, 0, agb)) * pixel_ha, rel=1e-9
    )
    # inside: the model-assisted total over the inside pixels' map sum, with its interval
    assert i["agb_mg"]["lower"] < i["agb_mg"]["estimate"] < i["agb_mg"]["upper"]
    mean_residual = whole["estimator"]["correction"] / whole["area_ha"]  # the same held-out residuals
    inside_map = np.nansum(np.where(inside, agb, 0)) * pixel_ha
    assert i["agb_mg"]["estimate"] == pytest.approx(inside_map + i["area_ha"] * mean_residual, rel=1e-6)
    assert ("warning" in whole) == (o["share"] > 0.2)


def test_a_mostly_extrapolated_area_warns_and_heads_with_the_inside_total():
    from carbonscope.biomass.stock import account

    sums = {
        "__domain__": {
            "pixels": 1000,
            "area_ha": 1000.0,
            "agb_mg": 100_000.0,
            "bgb_mg": 24_000.0,
            "aoa_area_ha": 5.0,
            "agb_mg_in_aoa": 500.0,
            "bgb_mg_in_aoa": 120.0,
        }
    }
    res = {"__domain__": np.array([1.0, -1.0, 2.0, -2.0] * 5)}
    z = account(sums, res, carbon_fraction=0.47, root_shoot_label="R 0.24", price=10.0)["__domain__"]
    assert z["outside_aoa"]["share"] == pytest.approx(0.995) and "99.5% of the area lies outside" in z["warning"]
    i = z["inside_aoa"]
    assert i["area_ha"] == 5.0 and i["agb_mg"]["estimate"] == pytest.approx(500.0)  # mean residual 0
    assert i["co2e_t"]["estimate"] == pytest.approx(620 * 0.47 * 44 / 12)
    assert z["outside_aoa"]["co2e_map_t"] == pytest.approx((99_500 + 23_880) * 0.47 * 44 / 12)
    assert i["value"]["estimate"] == pytest.approx(i["co2e_t"]["estimate"] * 10)


def test_the_random_split_is_repeated_and_its_spread_reported(juupajoki_run):
    from carbonscope.biomass import models, validation
    from tests.biomass.conftest import example_config

    v = juupajoki_run.metrics["validation"][juupajoki_run.metrics["main_model"]]["split"]
    rep = v["repeated"]
    assert rep["splits"] == 5 and rep["rmse"]["min"] <= v["rmse"] <= rep["rmse"]["max"]
    assert rep["rmse"]["sd"] > 0 and rep["rmse"]["min"] < rep["rmse"]["max"]
    # the second split, by hand: the same model and the next seed
    cfg = example_config(juupajoki_run.folder)
    names = juupajoki_run.metrics["features"]
    X, y = juupajoki_run.samples[names].to_numpy(float), juupajoki_run.samples.agb.to_numpy(float)
    spec = models.resolve(cfg.model.type, cfg.model.preset, cfg.model.params, cfg.model.grid)
    second = validation.cross_validate(spec, X, y, scheme="split", seed=cfg.seed + 1, train_fraction=0.7)
    assert rep["rmse"]["min"] <= second.metrics["rmse"] <= rep["rmse"]["max"]


def test_one_run_trains_once_and_maps_more_dates_for_the_baseline(tmp_path):
    """[[maps]]: the model trained once maps each date's layers on the same grid; maps.json lists them and
    the baseline's carbon.maps_from reads it. A date given the training layers gives the main map exactly;
    a date whose radar is the other polarisation gives another map."""
    from carbonscope.baseline import config as bconfig
    from carbonscope.biomass import config
    from carbonscope.biomass.run import run
    from tests.biomass.conftest import HH, HV, example_config

    base = example_config(tmp_path / "run")
    cfg = base.model_copy(
        update={
            "validation": base.validation.model_copy(update={"compare": [], "split_repeats": 1}),
            "maps": [
                config.DateMapConfig(date="2019", layers={"hh": HH, "hv": HV}),
                config.DateMapConfig(date="2020", layers={"hh": HV}),
            ],
        }
    )
    r = run(cfg)
    read = {}
    for key, path in (("main", "agb.tif"), ("2019", "maps/2019/agb.tif"), ("2020", "maps/2020/agb.tif")):
        with rasterio.open(r.folder / path) as src:
            read[key] = (src.read(1), src.transform)
    assert np.array_equal(read["main"][0], read["2019"][0], equal_nan=True) and read["main"][1] == read["2019"][1]
    assert not np.allclose(read["main"][0], read["2020"][0], equal_nan=True)
    dated = r.metrics["maps"]
    main = r.stock["__domain__"]
    head = main[main["headline"]] if main.get("headline") else main
    assert dated["2019"]["agb_mg"]["estimate"] == pytest.approx(head["agb_mg"]["estimate"])
    index = json.loads((r.folder / "maps.json").read_text())
    assert index == [{"date": "2019", "path": "maps/2019/agb.tif"}, {"date": "2020", "path": "maps/2020/agb.tif"}]
    carbon = bconfig.CarbonConfig(maps_from=r.folder)
    assert [(m.date, m.path) for m in carbon.maps] == [
        ("2019", r.folder / "maps" / "2019" / "agb.tif"),
        ("2020", r.folder / "maps" / "2020" / "agb.tif"),
    ]
    with pytest.raises(ValueError, match="is not a layer"):
        config.RunConfig.model_validate({**base.model_dump(), "maps": [{"date": "2021", "layers": {"vv": str(HH)}}]})
