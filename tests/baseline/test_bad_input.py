"""Bad input is refused with a message that says what and where, before anything is written."""

import numpy as np
import pytest
from affine import Affine

from carbonscope.baseline import config, landcover
from carbonscope.baseline.config import LandCoverConfig, ZoneConfig
from carbonscope.baseline.run import run
from carbonscope.errors import InputError
from tests.baseline.conftest import AOI, EXAMPLE, FOREST

T = Affine(30, 0, 700_000, 0, -30, 1_620_000)


def _cfg(tmp_path, **lc):
    base = config.load(EXAMPLE)
    return base.model_copy(
        update={
            "output": tmp_path / "out",
            "landcover": LandCoverConfig(**lc),
            "zones": [],
            "baseline": config.BaselineConfig(series="forest_area"),
            "allocation": None,
            "crediting": None,
            "invest": None,
        }
    )


def test_rasters_on_different_grids_are_refused_or_aligned(tmp_path, write_raster):
    a = write_raster("a.tif", np.ones((20, 20), np.uint8), T)
    b = write_raster("b.tif", np.ones((20, 20), np.uint8), Affine(30, 0, 700_015, 0, -30, 1_620_000))
    files = [{"date": "2000", "path": a}, {"date": "2010", "path": b}]
    with pytest.raises(InputError, match=r"b\.tif.*grid .* differs from .*a\.tif.*align = true"):
        run(_cfg(tmp_path, type="forest_mask", files=files))
    assert not (tmp_path / "out").exists()
    r = run(_cfg(tmp_path, type="forest_mask", files=files, align=True))
    assert r.results["areas_ha"]["2000"]["forest"] == pytest.approx(400 * 0.09)


def test_mapping_table_missing_classes(tmp_path, write_raster):
    a = write_raster("lc.tif", np.array([[10, 50], [77, 88]], np.uint8), T)
    table = tmp_path / "t.csv"
    table.write_text("value,category\n10,cropland\n50,forest\n")
    with pytest.raises(
        InputError, match=r"lc\.tif.*classes 77, 88 occur in the raster but are not in the mapping table"
    ):
        run(_cfg(tmp_path, type="landcover", path=a, dates=["2000"], mapping=str(table)))


def test_zones_outside_the_raster(tmp_path, write_raster):
    import geopandas as gpd
    from shapely.geometry import box

    far = tmp_path / "far.gpkg"
    gpd.GeoDataFrame({"name": ["elsewhere"]}, geometry=[box(10, 10, 11, 11)], crs="EPSG:4326").to_file(far)
    with landcover.open_product(LandCoverConfig(type="forest_mask", path=FOREST, dates=["2000", "2010", "2020"])) as p:
        with pytest.raises(InputError, match="zone 'elsewhere' of set 'z' lies outside the raster"):
            from carbonscope.baseline import zones

            zones.load(ZoneConfig(name="z", path=far, field="name"), p.grid)


def test_empty_project_polygon(tmp_path):
    import geopandas as gpd
    from shapely.geometry import Polygon

    empty = tmp_path / "empty.gpkg"
    gpd.GeoDataFrame({"id": [1]}, geometry=[Polygon()], crs="EPSG:4326").to_file(empty)
    from carbonscope.baseline import zones

    with landcover.open_product(LandCoverConfig(type="forest_mask", path=FOREST, dates=["2000", "2010", "2020"])) as p:
        with pytest.raises(InputError, match="feature 1 of the zone set 'project' has an empty geometry"):
            zones.load(ZoneConfig(name="project", path=empty), p.grid)


def test_unknown_zone_field_and_layer():
    from carbonscope.baseline import zones

    with landcover.open_product(LandCoverConfig(type="forest_mask", path=FOREST, dates=["2000", "2010", "2020"])) as p:
        with pytest.raises(InputError, match="no column 'NAME' .*columns: GID_1"):
            zones.load(ZoneConfig(name="s", path=AOI, layer="subj", field="NAME"), p.grid)
        with pytest.raises(InputError, match="no layer 'regions'; layers: aoi, subj"):
            zones.load(ZoneConfig(name="s", path=AOI, layer="regions"), p.grid)


def test_float_rasters_and_missing_files(tmp_path, write_raster):
    f = write_raster("f.tif", np.ones((4, 4), np.float32), T)
    with pytest.raises(InputError, match="8- or 16-bit integer"):
        landcover.open_product(LandCoverConfig(type="forest_mask", path=f, dates=["2000"]))
    with pytest.raises(InputError, match="no such raster"):
        landcover.open_product(LandCoverConfig(type="forest_mask", path=tmp_path / "none.tif", dates=["2000"]))


@pytest.mark.parametrize(
    "text, match",
    [
        ("[landcover]\ntype='forest_mask'\n", "landcover: Value error, give either path"),
        ("[landcover]\npath='x.tif'\ndates=['2000','2010']\nbands=[1]\n", "1 bands for 2 dates"),
        (
            "[landcover]\npath='x.tif'\ndates=['2000']\n[baseline]\nseries='forest_carbon'\n",
            "needs a \\[carbon\\] section",
        ),
        ("name = 'x'\n[landcover\n", "not valid TOML"),
    ],
)
def test_bad_configs(tmp_path, text, match):
    p = tmp_path / "c.toml"
    p.write_text(text)
    with pytest.raises(InputError, match=match):
        config.load(p)


def test_dates_out_of_order(write_raster):
    a = write_raster("a2.tif", np.ones((2, 4, 4), np.uint8), T)
    with pytest.raises(InputError, match="time order"):
        landcover.open_product(LandCoverConfig(type="forest_mask", path=a, dates=["2010", "2000"]))


def test_a_nodata_value_that_is_a_class_is_named_not_silent():
    """A forest mask whose non-forest is 0, with nodata = 0: non-forest vanishes, so no pixel can be
    deforested; the run says so instead of reporting zero deforestation silently."""
    from carbonscope.baseline import config
    from carbonscope.baseline.run import run
    from tests.baseline.conftest import EXAMPLE

    cfg = config.load(EXAMPLE)
    cfg = cfg.model_copy(
        update={
            "landcover": cfg.landcover.model_copy(update={"nodata": 0}),
            "allocation": None,
            "crediting": None,
            "invest": None,
        }
    )
    res = run(cfg).results
    assert any("every code of non_forest" in n and "disappears" in n for n in res["inputs"]["notes"])
    assert sum(res["deforestation_ha"].values()) == 0
