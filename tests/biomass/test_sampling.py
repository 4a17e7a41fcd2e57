"""Features under plots from the right pixels (checked with rasterio by hand), and random points in the domain."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio

from carbonscope.biomass.domain import Domain
from carbonscope.biomass.features import build
from carbonscope.biomass.labels import read_plots
from carbonscope.biomass.layers import LayerReader, inspect
from carbonscope.biomass.sampling import alignment_check, random_points, sample_table
from tests.biomass.conftest import HV, LC, example_config
from tests.biomass.test_labels import plot_config


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    cfg = example_config(tmp_path_factory.mktemp("s"))
    domain = Domain.from_config(cfg)
    infos = inspect(cfg.layers, domain.grid)
    spec = build(cfg.layers, cfg.features)
    return cfg, domain, infos, spec


def db(dn):
    return 10 * np.log10(np.asarray(dn, float) ** 2) - 83.0


def test_plot_centre_pixel_by_hand(setup):
    cfg, domain, infos, spec = setup
    labels = read_plots(plot_config(plot_radius=0.0), domain.grid.crs).table
    with LayerReader(infos, domain.grid) as reader:
        table, dropped = sample_table(labels, reader, spec, domain)
    t = table.set_index("id")
    with rasterio.open(HV) as src:
        hv = src.read(1)
        for pid in ("422768", "422770", "483789"):
            r, c = src.index(t.loc[pid, "x"], t.loc[pid, "y"])
            assert t.loc[pid, "hv_db"] == pytest.approx(db(hv[r, c]), abs=1e-4)
    # plots on lakes or open land (land cover 2 or 3 under the plot centre) are dropped, and counted
    with rasterio.open(LC) as lc:
        classes = np.array([v[0] for v in lc.sample(zip(labels.x, labels.y))])
    assert dropped["outside the AOI or the mask"] == int((classes != 1).sum()) == 3


def test_plot_mean_is_area_weighted(setup):
    """A 20 m plot: the mean of the pixels under it weighted by shared area, checked on a 0.5 m lattice."""
    cfg, domain, infos, spec = setup
    labels = read_plots(plot_config(plot_radius=20.0), domain.grid.crs).table
    with LayerReader(infos, domain.grid) as reader:
        table, _ = sample_table(labels, reader, spec, domain)
    t = table.set_index("id")
    with rasterio.open(HV) as src:
        hv = src.read(1)
        for pid in ("422768", "483789"):
            x0, y0 = t.loc[pid, "x"], t.loc[pid, "y"]
            g = np.arange(-20, 20, 0.5) + 0.25
            gx, gy = np.meshgrid(x0 + g, y0 + g)
            inside = (gx - x0) ** 2 + (gy - y0) ** 2 <= 400
            rows, cols = rasterio.transform.rowcol(src.transform, gx[inside], gy[inside])
            expected = db(hv[np.asarray(rows), np.asarray(cols)]).mean()  # each lattice cell carries equal area
            assert t.loc[pid, "hv_db"] == pytest.approx(expected, abs=0.02)


def test_random_points_stay_in_the_forest_and_apart(setup):
    cfg, domain, infos, spec = setup
    with LayerReader(infos, domain.grid) as reader:
        pts = random_points(reader, domain, 300, seed=1, min_distance=200.0)
    assert len(pts) == 300
    with rasterio.open(LC) as lc:
        classes = np.array([v[0] for v in lc.sample(zip(pts.x, pts.y))])
    assert (classes == 1).mean() > 0.97  # the 15 m land cover resampled to 25 m by nearest neighbour
    d = np.hypot(pts.x.to_numpy()[:, None] - pts.x.to_numpy()[None], pts.y.to_numpy()[:, None] - pts.y.to_numpy()[None])
    np.fill_diagonal(d, np.inf)
    assert d.min() >= 200.0


def test_stratified_points_split_equally(setup):
    cfg, _, _, _ = setup
    cfg2 = cfg.model_copy(update={"mask": None})
    domain = Domain.from_config(cfg2)
    infos = inspect(cfg2.layers, domain.grid)
    with LayerReader(infos, domain.grid) as reader:
        pts = random_points(reader, domain, 90, seed=3, strata_layer="landcover")
    assert pts.stratum.value_counts().to_dict() == {1.0: 30, 2.0: 30, 3.0: 30}


def test_alignment_check_reports_a_shift_without_moving_anything(setup):
    cfg, domain, infos, spec = setup
    labels = read_plots(plot_config(plot_radius=0.0), domain.grid.crs).table
    with LayerReader(infos, domain.grid) as reader:
        table, _ = sample_table(labels, reader, spec, domain)
        check = alignment_check(reader, spec, domain, table)
    # the plots agree best with the radar 50 m south of where they are: a misregistration worth checking
    assert check["suspicious"] and check["best_dy_m"] == -50.0
    assert abs(check["best_r"]) > abs(check["r_at_zero"]) + 0.1
