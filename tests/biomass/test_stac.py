"""The STAC path against a static catalog served on 127.0.0.1 (COGs made from the real rasters)."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio

from carbonscope.biomass import config
from carbonscope.biomass.config import LayerConfig
from carbonscope.biomass.stac import Query, materialize, s2_offset, search
from carbonscope.errors import InputError
from carbonscope.geo.grid import Grid
from tests.biomass import stac_catalog
from tests.biomass.conftest import HH, example_config


@pytest.fixture(scope="module")
def catalog_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("stac")
    stac_catalog.build(folder)
    return folder


@pytest.fixture
def catalog_url(catalog_dir, static_server):
    return static_server(catalog_dir) + "/catalog.json"


def grid():
    return Grid.of_raster(HH)


def s2_layer(name, role, url, datetime="2021-01-01/2022-12-31"):
    return LayerConfig(name=name, role=role, stac={"product": "sentinel-2-l2a", "catalog": url, "datetime": datetime})


def test_static_catalog_search_filters_by_date(catalog_url):
    from rasterio.warp import transform_bounds

    bbox = transform_bounds("EPSG:32635", "EPSG:4326", *grid().bounds)
    items = search(Query(catalog_url, "sentinel-2-l2a", "sentinel-2-l2a", "2021-01-01/2022-12-31", None), bbox)
    assert [i.id for i in items] == ["S2A_20210710", "S2B_20220710"]
    assert [s2_offset(i) for i in items] == [0.0, 1000.0]


def test_sentinel2_scl_mask_offset_and_median(catalog_url, tmp_path):
    layers = [s2_layer("red", "red", catalog_url), s2_layer("nir", "nir", catalog_url)]
    out = materialize(layers, grid(), tmp_path / "layers")
    red_exp, nir_exp = stac_catalog.expected_s2()
    with rasterio.open(out[0].path) as src:
        red = src.read(1)
        assert src.crs.to_epsg() == 32635 and src.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
    with rasterio.open(out[1].path) as src:
        nir = src.read(1)
    # clouds (SCL 9), shadow (3) and medium-probability cloud (8) are dropped; the 2022 scene's +1000 offset removed;
    # every pixel has a clear observation in one scene or both, so the median is the true reflectance everywhere
    assert np.allclose(red, red_exp, atol=1e-6) and np.allclose(nir, nir_exp, atol=1e-6)
    assert out[0].stac is None and out[0].role == "red"


def test_sentinel2_without_masking_would_let_clouds_through(catalog_url, tmp_path):
    """Only the cloudy scene: its cloud block must come out as no data, not as bright 'forest'."""
    out = materialize([s2_layer("red", "red", catalog_url, "2021-07-01/2021-07-31")], grid(), tmp_path / "l")
    with rasterio.open(out[0].path) as src:
        red = src.read(1)
    assert np.isnan(red[stac_catalog.CLOUD]).all() and np.isnan(red[stac_catalog.SHADOW]).all()
    clear = np.ones(red.shape, bool)
    clear[stac_catalog.CLOUD] = clear[stac_catalog.SHADOW] = False
    assert np.isfinite(red[clear]).all()


def test_no_items_is_a_clear_error(catalog_url, tmp_path):
    with pytest.raises(InputError, match="no sentinel-2-l2a items"):
        materialize([s2_layer("red", "red", catalog_url, "2019-01-01/2019-12-31")], grid(), tmp_path)


def test_run_with_stac_layers_equals_the_file_run(catalog_url, tmp_path, juupajoki_run):
    """Sentinel-1-RTC-like gamma0 and WorldCover classes from STAC: same samples as the PALSAR files."""
    base = example_config(tmp_path / "run")
    layers = [
        LayerConfig(name="vv", role="vv", stac={"product": "sentinel-1-rtc", "catalog": catalog_url}),
        LayerConfig(name="vh", role="vh", stac={"product": "sentinel-1-rtc", "catalog": catalog_url}),
        LayerConfig(
            name="landcover",
            role="landcover",
            kind="categorical",
            classes=[10, 30, 80],
            feature=False,
            stac={"product": "esa-worldcover", "catalog": catalog_url},
        ),
    ]
    cfg = base.model_copy(
        update={
            "layers": layers,
            "grid": config.GridConfig(crs="EPSG:32635", resolution=25.0, bounds=grid().bounds),
            "mask": config.MaskConfig(layer="landcover", keep=[10]),
            "validation": base.validation.model_copy(update={"compare": []}),
        }
    )
    from carbonscope.biomass.run import run

    result = run(cfg)
    s, f = result.samples.set_index("id"), juupajoki_run.samples.set_index("id")
    assert list(s.index) == list(f.index)
    assert np.allclose(s.vv_db, f.hh_db, atol=1e-3) and np.allclose(s.vh_db, f.hv_db, atol=1e-3)
    assert np.allclose(s.vv_vh_diff, f.hh_hv_diff, atol=1e-3)
    assert (result.folder / "layers" / "vv.tif").is_file() and (result.folder / "report.html").is_file()
    assert result.map.pixels == juupajoki_run.map.pixels
