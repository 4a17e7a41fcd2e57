"""Whether the labels can be taken for a probability sample of the area."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from carbonscope.biomass.design import sample_design
from tests.biomass.conftest import PLOTS


def test_plots_at_two_sites_are_flagged():
    rng = np.random.default_rng(3)
    a = rng.normal((350_000, 6_850_000), 150, (14, 2))
    b = rng.normal((380_000, 6_870_000), 150, (13, 2))
    pts = np.vstack([a, b])
    d = sample_design(pts[:, 0], pts[:, 1], area_m2=50_000 * 40_000)
    assert (d["n"], d["sites"]) == (27, 2)
    assert "27 labels lie at 2 site(s)" in d["warning"] and "likely too narrow" in d["warning"]


def test_a_sample_spread_over_the_area_is_not_flagged():
    rng = np.random.default_rng(4)
    pts = rng.uniform((0, 0), (60_000, 60_000), (60, 2))  # about 8 km apart on average
    d = sample_design(pts[:, 0], pts[:, 1], area_m2=60_000 * 60_000)
    assert d["sites"] >= 50 and d["hull_share_of_area"] > 0.7 and "warning" not in d


def test_the_juupajoki_run_says_how_its_plots_lie(juupajoki_run):
    d = juupajoki_run.stock["__domain__"]["sample_design"]
    plots = pd.read_csv(PLOTS)
    assert d["n"] == len(juupajoki_run.samples) <= len(plots)
    x, y = juupajoki_run.samples.x.to_numpy(), juupajoki_run.samples.y.to_numpy()
    from scipy.spatial import ConvexHull

    area_m2 = juupajoki_run.stock["__domain__"]["area_ha"] * 10_000
    assert d["hull_share_of_area"] == pytest.approx(ConvexHull(np.column_stack([x, y])).volume / area_m2)
    assert ("warning" in d) == (d["sites"] < 5 or d["hull_share_of_area"] < 0.10)
    if "warning" in d:
        assert d["warning"] in juupajoki_run.metrics["notes"]
