"""The shipped Martinique example end to end: results.json, tables, report, and numbers by hand."""

import json

import numpy as np
import pandas as pd
import pytest

from carbonscope.errors import InputError
from carbonscope.ipcc import CO2_PER_C
from carbonscope.progress import NullProgress
from carbonscope.recipe import execute
from tests.baseline.conftest import AOI, FOREST, PROJECT, by_hand
from tests.conftest import SHARED


def test_run_folder_has_every_output(martinique_run):
    _, out = martinique_run
    for name in (
        "config.toml",
        "results.json",
        "report.html",
        "figures/change_map.png",
        "figures/baseline_fits.png",
        "figures/areas.png",
        "figures/crediting.png",
        "figures/risk_map.png",
    ):
        assert (out / name).is_file(), name
    for table in (
        "areas",
        "transitions",
        "periods",
        "carbon",
        "baseline_fits",
        "crediting",
        "projection",
        "risk_classes",
    ):
        assert (out / "tables" / f"{table}.csv").is_file()
        assert len(pd.read_parquet(out / "tables" / f"{table}.parquet")) > 0
    assert not (out.parent / "run.partial").exists()


def test_results_json_matches_the_rasters(martinique_run):
    _, out = martinique_run
    res = json.loads((out / "results.json").read_text())
    bands, px_ha, masks = by_hand(FOREST, AOI, "subj", "NAME_1")
    for k, d in enumerate(["2000", "2010", "2020"]):
        assert res["areas_ha"][d]["forest"] == pytest.approx((bands[k] == 1).sum() * px_ha)
        assert res["areas_ha"][d]["non_forest"] == pytest.approx((bands[k] == 0).sum() * px_ha)
    assert res["deforestation_ha"]["2010/2020"] == pytest.approx(((bands[1] == 1) & (bands[2] == 0)).sum() * px_ha)
    assert set(res["zones"]) == {"Martinique", "Fort-de-France", "Le Marin", "Le Trinité", "Saint-Pierre", "project"}
    for name, mask in masks.items():
        assert res["zones"][name]["areas_ha"]["2020"]["forest"] == pytest.approx(((bands[2] == 1) & mask).sum() * px_ha)
        assert res["zones"][name]["deforestation_ha"]["2000/2010"] == pytest.approx(
            ((bands[0] == 1) & (bands[1] == 0) & mask).sum() * px_ha
        )


def test_baseline_fits_and_rules(martinique_run):
    r, out = martinique_run
    res = json.loads((out / "results.json").read_text())
    b = res["baseline"]
    assert set(b) == {"average", "linear", "exponential", "logarithmic"}
    assert all(b[m]["allowed"] for m in b)  # each can be fitted; three observations: only the average is supported
    assert [m for m in b if b[m]["supported"]] == ["average"]
    # the fitted series is the jurisdiction's forest carbon: area x density, by hand
    _, px_ha, masks = by_hand(FOREST, AOI, "aoi", "COUNTRY")
    bands = by_hand(FOREST)[0]
    density = 220 * (1 + 0.24) * 0.47 * CO2_PER_C  # IPCC 2006 Table 4.4: R = 0.24 above 125 t/ha
    y = [((bands[k] == 1) & masks["Martinique"]).sum() * px_ha * density for k in range(3)]
    assert res["baseline_series"]["y"] == pytest.approx(y)
    slope, intercept = np.polyfit([0, 10, 20], y, 1)
    assert b["linear"]["params"]["b"] == pytest.approx(slope) and b["linear"]["params"]["a"] == pytest.approx(intercept)
    resid = np.array(y) - (intercept + slope * np.array([0, 10, 20]))
    assert b["linear"]["r2"] == pytest.approx(1 - (resid**2).sum() / ((np.array(y) - np.mean(y)) ** 2).sum())
    # three dates leave the linear fit one degree of freedom: shown, not chosen; the average is
    assert (b["linear"]["dof"], b["linear"]["supported"], b["average"]["dof"], b["average"]["supported"]) == (
        1,
        False,
        2,
        True,
    )
    choice = res["baseline_choice"]
    assert choice["method"] == res["baseline_series"]["chosen"] == "average" and not choice["forced"]
    assert "too few observations for linear" in choice["rule"]
    assert any("fewer than 2 degrees of freedom for linear" in n for n in res["baseline_notes"])
    # every method projected side by side over the crediting years
    proj = res["baseline_projections"]
    assert set(proj["linear"]) == {str(y) for y in range(2021, 2031)} or set(proj["linear"]) == set(range(2021, 2031))
    assert proj["linear"][next(iter(proj["linear"]))] == pytest.approx(intercept + slope * 21)
    assert proj["average"][next(iter(proj["average"]))] == pytest.approx(y[0] + (y[2] - y[0]) / 20 * 21)


def test_allocation_shares(martinique_run):
    _, out = martinique_run
    res = json.loads((out / "results.json").read_text())
    a = res["allocation"]
    bands, px_ha, proj = by_hand(FOREST, PROJECT)
    _, _, juris = by_hand(FOREST, AOI, "aoi", "COUNTRY")
    lost = (bands[0] == 1) & (bands[1] == 0) | (bands[1] == 1) & (bands[2] == 0)
    assert a["historical_share"] == pytest.approx((lost & proj["all"]).sum() / (lost & juris["Martinique"]).sum())
    assert 0 < a["risk_map"]["share"] < 1
    v = a["risk_map"]["validation"]
    assert v["calibrated_on"] == "2000/2010" and v["tested_on"] == "2010/2020"
    assert 0 < v["predicted_share"] < 1 and 0 < v["observed_share"] < 1
    # the check is stated, pass or fail, with its ratio; a failure is a warning, never a neutral sentence
    assert v["ratio"] == pytest.approx(v["predicted_share"] / v["observed_share"])
    assert v["passed"] == (1 / 1.5 <= v["ratio"] <= 1.5)
    assert ("warnings" in a) == (not v["passed"])
    # every class of the table holds forest (empty quantile or joint classes are not classes)
    table = pd.read_csv(out / "tables" / "risk_classes.csv")
    assert (table["forest_ha"] > 0).all() and a["risk_map"]["classes"] == len(table)


def test_crediting_arithmetic(martinique_run):
    _, out = martinique_run
    c = json.loads((out / "results.json").read_text())["crediting"]
    assert [y["year"] for y in c["years"]] == list(range(2021, 2031))
    for y in c["years"]:
        assert y["project_deforestation_ha"] == pytest.approx(0.5 * y["baseline_deforestation_ha"])
        gross = y["baseline_tco2e"] - y["project_tco2e"]
        assert y["leakage_tco2e"] == pytest.approx(0.10 * gross)
        assert y["buffer_tco2e"] == pytest.approx(0.15 * 0.9 * gross)
        assert y["creditable_tco2e"] == pytest.approx(0.9 * 0.85 * gross)
    npv = sum(y["creditable_tco2e"] * 12 / 1.05 ** (k + 1) for k, y in enumerate(c["years"]))
    assert c["totals"]["npv"] == pytest.approx(npv)
    iv = c["intervals"]["creditable_tco2e"]
    assert iv["lower"] < c["totals"]["creditable_tco2e"] < iv["upper"]


def test_report_has_every_section(martinique_run):
    _, out = martinique_run
    html = (out / "report.html").read_text()
    for heading in (
        "Land cover and change",
        "Transition matrices",
        "Deforestation by period",
        "Forest biomass and carbon",
        "Reference level (VMD0007 methods)",
        "Allocation to the project",
        "Emission reductions and credits",
        "Value of the change in storage",
        "degrees of freedom",
        "Why this method: average",
        "Projection of every method",
    ):
        assert heading in html, heading
    assert html.count("data:image/png;base64,") == 5
    assert 'download="areas.csv" href="data:text/csv;base64,' in html
    # the answer first, every value with its currency and price, no absolute path
    r = json.loads((out / "results.json").read_text())
    short = html[html.index('id="in-short"') : html.index("What was run")]
    assert html.index('id="in-short"') < html.index("Land cover and change")
    c = r["crediting"]
    assert f"could earn {c['totals']['creditable_tco2e']:,.0f} credits" in short
    assert (
        f"{c['totals']['npv']:,.0f} {c['currency']}, discounted at 5.0% a year, at a price of 12.00 USD per credit"
        in short
    )
    v = r["invest"]
    assert f"that change is worth {v['value']:,.0f} {v['currency']}" in short and v["currency"] == "USD"
    assert f"value of the change: <b>{v['value']:,.0f} USD</b>" in html
    assert str(SHARED.resolve()) not in html and str(out.resolve()) not in html
    assert "http://" not in html and "https://" not in html  # opens offline


def test_carbon_from_maps_beside_defaults(tmp_path, write_raster):
    """AGB maps on a coarser grid, side by side with defaults: stocks by hand, both R² reported."""
    import rasterio
    from affine import Affine

    from carbonscope.baseline import config
    from carbonscope.baseline.run import run, write
    from tests.baseline.conftest import EXAMPLE

    with rasterio.open(FOREST) as src:
        t = src.transform
        h, w = src.height, src.width
    coarse = Affine(60, 0, t.c, 0, -60, t.f)
    maps = []
    for d, v in [("2000", 200.0), ("2010", 190.0), ("2020", 180.0)]:
        maps.append(
            {
                "date": d,
                "path": str(write_raster(f"agb{d}.tif", np.full((h // 2 + 1, w // 2 + 1), v, np.float32), coarse)),
            }
        )
    cfg = config.load(EXAMPLE)
    carbon = cfg.carbon.model_copy(
        update={"maps": [config.CarbonMap(**m) for m in maps], "root_shoot": 0.0, "primary": "maps"}
    )
    cfg = cfg.model_copy(
        update={"output": tmp_path / "run", "carbon": carbon, "allocation": None, "crediting": None, "invest": None}
    )
    r = run(cfg)
    write(r)
    res = r.results
    bands, px_ha, _ = by_hand(FOREST)
    for k, (d, v) in enumerate([("2000", 200.0), ("2010", 190.0), ("2020", 180.0)]):
        assert res["carbon"]["maps"]["zones"]["(whole raster)"]["forest_agb_t"][d] == pytest.approx(
            (bands[k] == 1).sum() * px_ha * v, rel=1e-6
        )
    ef = res["carbon"]["maps"]["zones"]["(whole raster)"]["periods"][0]["emission_factor_tco2e_per_ha"]
    assert ef == pytest.approx((200 - 190) * 0.47 * CO2_PER_C, rel=1e-6)  # the two maps' difference
    assert set(res["baseline_by_carbon_source"]) == {"defaults", "maps"}
    assert any("independent biomass maps" in n for n in res["carbon"]["maps"]["notes"])


def test_reference_sample_adjusts_deforestation(tmp_path):
    """A reference sample (points drawn per map stratum; a few labelled differently, as an
    interpreter would) replaces the pixel count of the assessed period by Olofsson's estimate."""
    import rasterio

    from carbonscope.baseline import accuracy, config
    from carbonscope.baseline.run import run
    from tests.baseline.conftest import EXAMPLE

    with rasterio.open(FOREST) as src:
        b = src.read()
        t = src.transform
    # the sample is drawn in the jurisdiction (the baseline zone); its strata weigh the estimate,
    # not the whole raster's (sea and all: Olofsson's weights are the sampled region's mapped areas)
    _, _, masks = by_hand(FOREST, AOI, "aoi", "COUNTRY")
    zone = masks["Martinique"]
    strata = {
        "deforestation": (b[1] == 1) & (b[2] == 0) & zone,
        "forest": (b[1] == 1) & (b[2] == 1) & zone,
        "non_forest": (b[1] == 0) & (b[2] == 0) & zone,
    }
    rng = np.random.default_rng(7)
    rows = []
    for name, mask in strata.items():
        r, c = np.nonzero(mask)
        pick = rng.choice(r.size, 40, replace=False)
        for k, i in enumerate(pick):
            x, y = t * (c[i] + 0.5, r[i] + 0.5)
            ref = (
                name
                if k >= 4
                else {"deforestation": "forest", "forest": "deforestation", "non_forest": "deforestation"}[name]
            )
            rows.append({"x": x, "y": y, "observed": ref})
    assert not zone[0, 0]  # the raster's corner is outside the jurisdiction: two points there are not used
    corner = t * (0.5, 0.5)
    rows += [{"x": corner[0], "y": corner[1], "observed": "non_forest"}] * 2
    sample = tmp_path / "reference.csv"
    pd.DataFrame(rows).to_csv(sample, index=False)
    cfg = config.load(EXAMPLE)
    cfg = cfg.model_copy(
        update={
            "output": tmp_path / "run",
            "accuracy": config.AccuracyConfig(path=sample, period="2010/2020", reference="observed"),
            "allocation": None,
            "crediting": None,
            "invest": None,
        }
    )
    res = run(cfg).results
    px = 0.09
    areas = {k: m.sum() * px for k, m in strata.items()}
    counts = pd.DataFrame([[36, 4, 0], [4, 36, 0], [4, 0, 36]], index=list(strata), columns=list(strata))
    expected = accuracy.estimate(areas, counts)
    got = res["accuracy"]["classes"]["deforestation"]
    assert res["accuracy"]["zone"] == "Martinique" and res["accuracy"]["points_outside_zone"] == 2
    assert got["area"] == pytest.approx(expected["classes"]["deforestation"]["area"])
    assert got["ci95"] == pytest.approx(expected["classes"]["deforestation"]["ci95"])
    p = next(r for r in res["baseline_zone_periods"] if r["period"] == "2010/2020")
    assert p["adjusted_by_reference_sample"] and p["deforestation_ha"] != p["deforestation_ha_mapped"]


def test_the_baseline_recipe_writes_its_folder_and_a_failed_run_leaves_it(tmp_path):
    from carbonscope.baseline.run import RECIPE
    from tests.baseline.conftest import EXAMPLE

    cfg = RECIPE.load(EXAMPLE)
    out = tmp_path / "mtq"
    r = execute(RECIPE, cfg, out, progress=NullProgress())
    assert r.folder == out and (out / "results.json").exists() and (out / "report.html").exists()
    first = (out / "results.json").read_text()
    assert r.chosen.method == json.loads(first)["baseline_series"]["chosen"]
    bad = cfg.model_copy(update={"baseline": cfg.baseline.model_copy(update={"zone": "Atlantis"})})
    with pytest.raises(InputError, match="no zone named 'Atlantis'"):
        execute(RECIPE, bad, out)
    assert (out / "results.json").read_text() == first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mtq"]
