"""The ``carbonscope biomass`` commands, driven in process."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from carbonscope.cli import app
from tests.biomass.conftest import GEDI_2020

runner = CliRunner()


def test_train_prints_held_out_metrics_as_json(juupajoki_run):
    table = juupajoki_run.folder / "samples.parquet"
    res = runner.invoke(
        app,
        [
            "biomass",
            "train",
            "--table",
            str(table),
            "--target",
            "agb",
            "--features",
            "hh_db,hv_db,hh_hv_diff",
            "--model",
            "rf",
            "--preset",
            "gee",
            "--cv",
            "spatial:2000",
            "--x",
            "x",
            "--y",
            "y",
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert {"rmse", "rrmse", "bias", "r2", "r", "n"} <= set(doc)
    assert doc["n"] == len(juupajoki_run.samples) and doc["scheme"] == "spatial"
    split = runner.invoke(
        app,
        [
            "biomass",
            "train",
            "--table",
            str(table),
            "--target",
            "agb",
            "--features",
            "hh_db,hv_db",
            "--model",
            "knn",
            "--cv",
            "split:0.7",
            "--json",
        ],
    )
    assert json.loads(split.stdout)["n"] == len(juupajoki_run.samples) - round(0.7 * len(juupajoki_run.samples))


def test_train_refuses_bad_columns(juupajoki_run):
    table = juupajoki_run.folder / "samples.csv"
    res = runner.invoke(
        app,
        [
            "biomass",
            "train",
            "--table",
            str(table),
            "--target",
            "agb",
            "--features",
            "hv_db,nope",
            "--cv",
            "kfold:5",
            "--json",
        ],
    )
    assert res.exit_code == 2 and "no column(s) 'nope'" in " ".join(res.output.split())  # rich wraps long lines
    res = runner.invoke(
        app,
        [
            "biomass",
            "train",
            "--table",
            str(table),
            "--target",
            "id",
            "--features",
            "hv_db",
            "--cv",
            "spatial:2000",
            "--json",
        ],
    )
    assert res.exit_code == 2 and "--x and --y" in res.output


def test_stock_command_matches_the_run(juupajoki_run):
    res = runner.invoke(
        app,
        [
            "biomass",
            "stock",
            str(juupajoki_run.folder / "agb.tif"),
            "--model",
            str(juupajoki_run.folder / "model.joblib"),
            "--root-shoot",
            "ipcc2006:boreal",
            "--price",
            "25",
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    whole = json.loads(res.stdout)["__domain__"]
    run_whole = juupajoki_run.stock["__domain__"]
    assert abs(whole["agb_mg"]["estimate"] - run_whole["agb_mg"]["estimate"]) < 1e-6 * run_whole["agb_mg"]["estimate"]
    assert abs(whole["co2e_t"]["upper"] - run_whole["co2e_t"]["upper"]) < 1e-6 * run_whole["co2e_t"]["upper"]


def test_gedi_command(tmp_path):
    out = tmp_path / "shots.csv"
    res = runner.invoke(app, ["biomass", "gedi", str(GEDI_2020), "--out", str(out), "--json"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    assert sum(r["shots"] for r in rows) == 461 and sum(r["quality_ok"] for r in rows) == 321
    assert out.read_text().count("\n") == 462
