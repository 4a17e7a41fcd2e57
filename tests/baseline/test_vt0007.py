"""VT0007's benchmark risk map: its parts worked by hand, and Martinique against riskmapjnr's figure.

riskmapjnr (the deforisk plugin's engine) gives the Martinique project 2.38% of the jurisdiction's
deforestation with the benchmark model (issue 17); the historical share is 2.37%."""

from __future__ import annotations

import json

import numpy as np
import pytest

from carbonscope.baseline import vt0007
from tests.baseline.conftest import AOI, FOREST, PROJECT, by_hand


def test_distance_bins_are_geometric_from_one_pixel_to_the_threshold():
    b = vt0007.distance_bins(30.0, 240.0)
    assert len(b) == 30 and b[0] == 30.0 and b[-1] == pytest.approx(240.0)
    ratios = b[2:] / b[1:-1]
    assert np.allclose(ratios, ratios[0]) and ratios[0] == pytest.approx((240 / 30) ** (1 / 29))


def test_classes_run_from_30_at_the_edge_to_1_beyond_the_threshold_by_subjurisdiction():
    bins = vt0007.distance_bins(30.0, 240.0)
    d = np.array([[30.0, 31.0, 240.0, 241.0, 5000.0, 30.0]])
    forest = np.array([[True, True, True, True, True, False]])
    subj = np.array([[1, 2, 2, 1, 3, 1]])
    c = vt0007.classes(forest, d, bins, subj)
    assert bins[1] == pytest.approx(32.23, abs=0.01)  # 31 m lies in the first bin, with 30 m
    assert c.tolist() == [[30001, 30002, 2002, 1001, 1003, 0]]
    lost = np.array([[True, False, False, False, False, False]])
    assert vt0007.rates(c, lost)[30001] == (1, 1, 1.0)


def test_threshold_holds_995_permille_of_the_loss():
    d = np.arange(1, 1001, dtype=np.float32)
    lost = np.ones(1000, bool)
    assert vt0007.threshold(d, lost) == 995.0
    with pytest.raises(ValueError, match="no deforestation"):
        vt0007.threshold(d, np.zeros(1000, bool))


def test_wrmse_by_hand():
    pred = np.array([[0.5, 0.5], [0.0, 1.0]])
    lost = np.array([[1, 0], [0, 0]], bool)
    forest = np.array([[1, 1], [0, 1]], bool)
    # cells of one pixel, forest in three: errors (ha, 2 ha pixels) 2*(0.5-1), 2*0.5, 2*1; weights 1/3 each
    got = vt0007.wrmse(pred, lost, forest, 1, 2.0)
    assert got == {"wrmse_ha": pytest.approx(np.sqrt((1 + 1 + 4) / 3)), "cells": 3}


def test_martinique_benchmark_gives_riskmapjnrs_share(martinique_run):
    _, out = martinique_run
    a = json.loads((out / "results.json").read_text())["allocation"]
    v = a["vt0007"]
    assert v["subjurisdictions"] == 4 and v["calibration_period"] == "2000/2010"
    assert round(v["project_share"]["benchmark"], 4) == 0.0238  # riskmapjnr: 2.38%
    assert v["chosen"] in v["wrmse_ha"] and v["share"] == v["project_share"][v["chosen"]]
    assert v["wrmse_ha"]["benchmark"] > 0 and v["cells"] > 1000
    # the historical share by hand: project pixels lost 2000-2020 over the jurisdiction's
    bands, _, masks = by_hand(FOREST, AOI, "aoi", "COUNTRY")
    _, _, proj = by_hand(FOREST, PROJECT)
    lost = (bands[0] == 1) & (bands[2] == 0) & masks["Martinique"]
    assert v["historical_share"] == pytest.approx((lost & proj["all"]).sum() / lost.sum())
