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
