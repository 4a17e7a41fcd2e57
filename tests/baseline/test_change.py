"""Areas, transitions and deforestation match what a person computes from the rasters by hand."""

import numpy as np
import pytest
import rasterio
from pyproj import Geod

from carbonscope.baseline import landcover, zones
from carbonscope.baseline.change import Change
from carbonscope.baseline.config import LandCoverConfig, ZoneConfig
from carbonscope.baseline.tabulate import tabulate
from tests.baseline.conftest import AOI, FOREST, PRODES, PROJECT, by_hand

DATES = ["2000", "2010", "2020"]


def _tally(lc, zone_cfgs=(), workers=2):
    with landcover.open_product(lc) as p:
        grid, forest = p.grid, p.forest
    sets = [zones.load(z, grid) for z in zone_cfgs]
    return Change(tabulate(lc, sets, workers=workers), forest)


@pytest.fixture(scope="module")
def mtq():
    lc = LandCoverConfig(type="forest_mask", path=FOREST, dates=DATES)
    zc = [
        ZoneConfig(name="jurisdiction", path=AOI, layer="aoi", field="COUNTRY"),
        ZoneConfig(name="subj", path=AOI, layer="subj", field="NAME_1"),
        ZoneConfig(name="project", path=PROJECT),
    ]
    return _tally(lc, zc)


def test_martinique_areas_and_deforestation_whole_raster(mtq):
    bands, px_ha, _ = by_hand(FOREST)
    areas = mtq.areas()
    for k, d in enumerate(DATES):
        assert areas[d]["forest"] == pytest.approx((bands[k] == 1).sum() * px_ha, abs=1e-6)
        assert areas[d]["non_forest"] == pytest.approx((bands[k] == 0).sum() * px_ha, abs=1e-6)
    assert areas["2000"]["forest"] == pytest.approx(74_286.36)
    defo = mtq.deforestation()
    for i, j in [(0, 1), (1, 2), (0, 2)]:
        assert defo[f"{DATES[i]}/{DATES[j]}"] == pytest.approx(
            ((bands[i] == 1) & (bands[j] == 0)).sum() * px_ha, abs=1e-6
        )
    m = mtq.transitions()["2000/2010"]
    assert m["non_forest"]["forest"] == pytest.approx(((bands[0] == 0) & (bands[1] == 1)).sum() * px_ha, abs=1e-6)
    assert m["forest"]["forest"] == pytest.approx(((bands[0] == 1) & (bands[1] == 1)).sum() * px_ha, abs=1e-6)


@pytest.mark.parametrize("layer, field, set_name", [("subj", "NAME_1", "subj"), ("aoi", "COUNTRY", "jurisdiction")])
def test_martinique_zones_match_masks_by_hand(mtq, layer, field, set_name):
    bands, px_ha, masks = by_hand(FOREST, AOI, layer, field)
    zs = next(s for s in mtq.t.sets if s.name == set_name)
    assert sorted(zs.names) == sorted(masks)
    for i, name in enumerate(zs.names):
        mask = masks[name]
        areas = mtq.areas(set_name, i + 1)
        for k, d in enumerate(DATES):
            assert areas[d]["forest"] == pytest.approx(((bands[k] == 1) & mask).sum() * px_ha, abs=1e-6), (name, d)
        assert mtq.deforestation(set_name, i + 1)["2010/2020"] == pytest.approx(
            ((bands[1] == 1) & (bands[2] == 0) & mask).sum() * px_ha, abs=1e-6
        )


def test_project_zone_and_periods(mtq):
    bands, px_ha, masks = by_hand(FOREST, PROJECT)
    mask = masks["all"]
    assert mask.sum() > 0
    rows = mtq.periods("project", 1)
    assert [r["period"] for r in rows] == ["2000/2010", "2010/2020"]
    lost = ((bands[1] == 1) & (bands[2] == 0) & mask).sum() * px_ha
    f1, f2 = (bands[1] == 1)[mask].sum() * px_ha, (bands[2] == 1)[mask].sum() * px_ha
    assert rows[1]["deforestation_ha"] == pytest.approx(lost)
    assert rows[1]["annual_deforestation_ha"] == pytest.approx(lost / 10)
    assert rows[1]["rate_simple_pct"] == pytest.approx(100 * (f1 - f2) / (f1 * 10))
    assert rows[1]["rate_compound_pct"] == pytest.approx(100 * np.log(f1 / f2) / 10)


def test_one_worker_gives_the_same_numbers(mtq):
    lc = LandCoverConfig(type="forest_mask", path=FOREST, dates=DATES)
    one = _tally(lc, [ZoneConfig(name="subj", path=AOI, layer="subj", field="NAME_1")], workers=1)
    assert one.areas() == mtq.areas()
    assert one.deforestation("subj", 2) == mtq.deforestation("subj", 2)


def test_prodes_yearly_series_in_a_geographic_crs():
    years = [str(y) for y in range(2008, 2022)]
    ch = _tally(LandCoverConfig(type="prodes", path=PRODES, dates=years))
    with rasterio.open(PRODES) as src:
        a = src.read(1)
        t = src.transform
    # by hand: each row's pixel area on the ellipsoid
    geod = Geod(ellps="WGS84")
    row_ha = np.array(
        [
            abs(
                geod.polygon_area_perimeter(
                    [t.c, t.c + t.a, t.c + t.a, t.c],
                    [t.f + t.e * r, t.f + t.e * r, t.f + t.e * (r + 1), t.f + t.e * (r + 1)],
                )[0]
            )
            / 1e4
            for r in range(a.shape[0])
        ]
    )
    px = np.repeat(row_ha[:, None], a.shape[1], axis=1)
    loss_year = {6 + k: 2007 + k for k in range(12)} | {27: 2019, 29: 2020, 33: 2021}
    areas = ch.areas()
    for y in years:
        forest = (
            (a == 1) | np.isin(a, [c for c, yy in loss_year.items() if yy > int(y)]) | ((a == 32) & (int(y) < 2021))
        )
        assert areas[y]["forest"] == pytest.approx(px[forest].sum(), rel=1e-9), y
    assert areas["2021"]["no_data"] == pytest.approx(px[a == 32].sum(), rel=1e-9)  # clouds in 2021
    defo = ch.deforestation()
    assert defo["2019/2020"] == pytest.approx(px[a == 29].sum(), rel=1e-9)
    assert defo["2020/2021"] == pytest.approx(px[a == 33].sum(), rel=1e-9)
    assert defo["2013/2014"] == 0
    # ~0.0009 ha difference per pixel between the top and bottom rows: area by latitude is used
    assert row_ha[0] != row_ha[-1]


def test_landcover_reclassified_by_a_table(write_raster):
    from affine import Affine

    a = np.array([[[10, 50, 190], [210, 0, 130]], [[10, 10, 190], [210, 0, 180]]], dtype=np.uint8)
    path = write_raster("cci.tif", a, Affine(300, 0, 700000, 0, -300, 1600000), nodata=None)
    ch = _tally(LandCoverConfig(type="landcover", path=path, dates=["2015", "2020"], mapping="esa_cci"))
    areas = ch.areas()
    assert areas["2015"] == {
        "forest": 9,
        "cropland": 9,
        "grassland": 9,
        "wetland": 0,
        "settlement": 9,
        "other": 9,
        "no_data": 9,
    }
    assert areas["2020"]["cropland"] == 18 and areas["2020"]["wetland"] == 9 and areas["2020"]["grassland"] == 0
    assert ch.deforestation()["2015/2020"] == 9
    assert ch.transitions()["2015/2020"]["grassland"]["wetland"] == 9


def test_worker_processes_give_the_same_numbers(mtq):
    lc = LandCoverConfig(type="forest_mask", path=FOREST, dates=DATES)
    with landcover.open_product(lc) as p:
        sets = [zones.load(ZoneConfig(name="subj", path=AOI, layer="subj", field="NAME_1"), p.grid)]
    t = tabulate(lc, sets, workers=2, executor="processes")
    assert t.executor == "processes"
    ch = Change(t, (0,))
    assert ch.areas() == mtq.areas()
    assert ch.deforestation("subj", 3) == mtq.deforestation("subj", 3)


def test_loss_year_map_with_tree_cover(write_raster):
    """A Hansen-style pair: tree cover 2000 (%) and loss year (k = 2000 + k), forest at >= 30 %."""
    from affine import Affine

    t = Affine(30, 0, 700_000, 0, -30, 1_620_000)
    cover = np.array([[80, 80, 10], [50, 0, 95]], np.uint8)
    loss = np.array([[0, 5, 5], [12, 3, 20]], np.uint8)
    cpath, lpath = write_raster("cover.tif", cover, t), write_raster("loss.tif", loss, t)
    ch = _tally(
        LandCoverConfig(type="loss_year", path=lpath, forest_path=cpath, dates=["2000", "2005", "2010", "2015", "2020"])
    )
    forest = {d: round(a["forest"] / 0.09, 9) for d, a in ch.areas().items()}
    # forest pixels: (80,0), (80,5), (50,12), (95,20); (10,5) and (0,3) were never forest
    assert forest == {"2000": 4, "2005": 3, "2010": 3, "2015": 2, "2020": 1}
    assert ch.deforestation()["2000/2005"] == pytest.approx(0.09)


def test_a_single_band_forest_cover_change_raster_reads_as_three_dates(tmp_path):
    """forestatrisk's fcc123 made from the real Martinique masks: 1 lost 2000-2010, 2 lost 2010-2020,
    3 forest in 2020, 0 otherwise; areas and deforestation by hand from the codes."""
    with rasterio.open(FOREST) as src:
        b = src.read()
        profile = src.profile | {"count": 1, "dtype": "uint8", "nodata": 255}
        px_ha = abs(src.transform.a * src.transform.e) / 10_000
    f0, f1, f2 = b == 1
    code = np.zeros(f0.shape, np.uint8)
    code[f0 & ~f1] = 1
    code[f0 & f1 & ~f2] = 2
    code[f0 & f1 & f2] = 3
    path = tmp_path / "fcc123.tif"
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(code, 1)
    ch = _tally(LandCoverConfig(type="fcc", path=path, dates=["2000", "2010", "2020"]))
    assert ch.deforestation() == {
        "2000/2010": pytest.approx((code == 1).sum() * px_ha),
        "2010/2020": pytest.approx((code == 2).sum() * px_ha),
        "2000/2020": pytest.approx(np.isin(code, [1, 2]).sum() * px_ha),
    }
    assert ch.forest_area() == pytest.approx(
        [np.isin(code, [1, 2, 3]).sum() * px_ha, np.isin(code, [2, 3]).sum() * px_ha, (code == 3).sum() * px_ha]
    )
