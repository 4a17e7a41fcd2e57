"""The command line: `baseline areas` prints the parts of results.json; `baseline run` writes the folder."""

import json

import pytest
from typer.testing import CliRunner

from carbonscope.cli import app
from tests.baseline.conftest import AOI, FOREST, by_hand

runner = CliRunner()


def test_areas_json_with_zones():
    res = runner.invoke(
        app,
        [
            "baseline",
            "areas",
            str(FOREST),
            "--dates",
            "2000,2010,2020",
            "--zones",
            str(AOI),
            "--zone-field",
            "NAME_1",
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout[res.stdout.index("{") :])
    bands, px_ha, masks = by_hand(FOREST, AOI, "subj", "NAME_1")
    assert doc["areas_ha"]["2010"]["forest"] == pytest.approx((bands[1] == 1).sum() * px_ha)
    assert doc["deforestation_ha"]["2000/2020"] == pytest.approx(((bands[0] == 1) & (bands[2] == 0)).sum() * px_ha)
    assert set(doc["zones"]) == set(masks)
    assert doc["zones"]["Le Marin"]["deforestation_ha"]["2010/2020"] == pytest.approx(
        ((bands[1] == 1) & (bands[2] == 0) & masks["Le Marin"]).sum() * px_ha
    )


def test_areas_refuses_a_wrong_band_count():
    res = runner.invoke(app, ["baseline", "areas", str(FOREST), "--dates", "2000,2010,2020,2030"])
    assert res.exit_code == 2
    assert "band 4" in res.output and "the raster has 3" in res.output


def test_run_prodes_config(tmp_path):
    from tests.baseline.conftest import PRODES

    cfg = tmp_path / "prodes.toml"
    cfg.write_text(
        f"name = 'Rondonia'\noutput = 'out'\n[landcover]\ntype = 'prodes'\npath = '{PRODES}'\ndates = '2012-2021'\n"
        "[baseline]\nseries = 'forest_area'\n"
    )
    res = runner.invoke(app, ["baseline", "run", str(cfg), "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout[res.stdout.index("{") :])
    assert len(doc["baseline_series"]["t"]) == 10
    assert all(
        doc["baseline"][m]["allowed"] for m in ("average", "linear", "exponential", "logarithmic")
    )  # ten observations
    assert (tmp_path / "out" / "report.html").is_file()


def _forest_table(tmp_path):
    """Forest area per date of Martinique and of the project zone, counted by hand from the real raster."""
    from tests.baseline.conftest import PROJECT

    bands, px_ha, masks = by_hand(FOREST, AOI, "aoi", "COUNTRY")
    _, _, proj = by_hand(FOREST, PROJECT)
    rows = []
    for k, year in enumerate((2000, 2010, 2020)):
        rows.append(
            {"year": year, "zone": "Martinique", "forest_ha": float((bands[k] == 1)[masks["Martinique"]].sum() * px_ha)}
        )
        rows.append({"year": year, "zone": "project", "forest_ha": float((bands[k] == 1)[proj["all"]].sum() * px_ha)})
    path = tmp_path / "forest.csv"
    import pandas as pd

    pd.DataFrame(rows).to_csv(path, index=False)
    return path, rows


def test_baseline_fit_on_a_table_matches_numpy_and_names_the_choice(tmp_path):
    import numpy as np

    path, rows = _forest_table(tmp_path)
    res = runner.invoke(
        app, ["baseline", "fit", str(path), "--x", "year", "--y", "forest_ha", "--zone", "zone", "--json"]
    )
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert sorted(doc["zones"]) == ["Martinique", "project"]
    for name, one in doc["zones"].items():
        y = np.array([r["forest_ha"] for r in rows if r["zone"] == name])
        b, a = np.polyfit([0, 10, 20], y, 1)
        lin = one["baseline"]["linear"]
        assert lin["params"]["a"] == pytest.approx(a) and lin["params"]["b"] == pytest.approx(b)
        r2 = 1 - ((y - (a + b * np.array([0, 10, 20]))) ** 2).sum() / ((y - y.mean()) ** 2).sum()
        assert lin["r2"] == pytest.approx(r2) and lin["dof"] == 1 and not lin["supported"]
        assert one["chosen"] == "average" and "too few observations for linear" in one["rule"]
        avg = one["projection"]["average"]
        assert avg["2030"] == pytest.approx(y[0] + (y[2] - y[0]) / 20 * 30)
        assert set(one["baseline"]) == {"average", "linear", "exponential", "logarithmic"}
    forced = runner.invoke(
        app, ["baseline", "fit", str(path), "--x", "year", "--y", "forest_ha", "--method", "linear", "--json"]
    )
    assert forced.exit_code == 2 and "a year appears twice" in forced.output  # two zones mixed in one series


def test_baseline_fit_names_a_bad_column_and_cell(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("year,forest\n2000,100\n2005,ninety\n2010,80\n")
    res = runner.invoke(app, ["baseline", "fit", str(path), "--x", "year", "--y", "forest", "--json"])
    said = " ".join(res.output.split())  # the console wraps long lines
    assert res.exit_code == 2 and "t.csv, row 3, column 'forest': not a number: 'ninety'" in said
    res = runner.invoke(app, ["baseline", "fit", str(path), "--x", "yr", "--y", "forest"])
    assert res.exit_code == 2 and "no column 'yr'" in " ".join(res.output.split())
