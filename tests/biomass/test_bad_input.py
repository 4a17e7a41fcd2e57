"""Bad input gets a clear error naming what and where, before any long work."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from shapely.geometry import box, mapping

from carbonscope.biomass import config
from carbonscope.biomass.run import build_samples, prepare
from carbonscope.errors import InputError
from tests.biomass.conftest import EXAMPLE, HV, copy_plots, example_config


def write_aoi(path, geom, crs="EPSG:32635"):
    import geopandas as gpd

    gpd.GeoDataFrame({"name": ["aoi"]}, geometry=[geom], crs=crs).to_file(path, driver="GPKG")
    return path


def test_aoi_outside_the_rasters(tmp_path):
    aoi = write_aoi(tmp_path / "far.gpkg", box(500_000, 6_000_000, 510_000, 6_010_000))
    cfg = example_config(tmp_path, aoi=config.AoiConfig(path=aoi))
    with pytest.raises(InputError, match="does not overlap the area of interest"):
        prepare(cfg)


def test_aoi_in_another_crs_is_reprojected(tmp_path):
    from pyproj import Transformer

    t = Transformer.from_crs(32635, 4326, always_xy=True)
    lon0, lat0 = t.transform(352_000, 6_848_000)
    lon1, lat1 = t.transform(358_000, 6_854_000)
    aoi = write_aoi(tmp_path / "aoi.gpkg", box(lon0, lat0, lon1, lat1), crs="EPSG:4326")
    ctx = prepare(example_config(tmp_path, aoi=config.AoiConfig(path=aoi)))
    left, bottom, right, top = ctx.grid.bounds
    assert ctx.grid.crs.to_epsg() == 32635 and 351_000 < left < 352_100 and 357_900 < right < 359_100
    assert (left - 350_000) % 25 == 0  # snapped to the reference grid


def test_raster_without_crs(tmp_path):
    bad = tmp_path / "nocrs.tif"
    with rasterio.open(HV) as src:
        prof = src.profile
        prof.pop("crs")
        with rasterio.open(bad, "w", **prof) as dst:
            dst.write(src.read())
    cfg = example_config(tmp_path)
    layers = [cfg.layers[0], cfg.layers[1].model_copy(update={"path": bad}), cfg.layers[2]]
    with pytest.raises(InputError, match="no CRS") as e:
        prepare(cfg.model_copy(update={"layers": layers}))
    assert "nocrs.tif" in str(e.value) and "'hv'" in str(e.value)


def test_missing_band(tmp_path):
    cfg = example_config(tmp_path)
    layers = [cfg.layers[0], cfg.layers[1].model_copy(update={"band": 2}), cfg.layers[2]]
    with pytest.raises(InputError, match="band 2 asked for, the raster has 1"):
        prepare(cfg.model_copy(update={"layers": layers}))


def test_plots_in_the_wrong_crs_leave_no_sample(tmp_path):
    cfg = example_config(tmp_path)
    cfg = cfg.model_copy(update={"labels": cfg.labels.model_copy(update={"crs": "EPSG:4326"})})
    ctx = prepare(cfg)
    with pytest.raises(InputError, match="not valid in EPSG:4326; is labels.crs right") as e:
        build_samples(cfg, ctx)
    assert "Juupajoki_field_data.csv" in str(e.value)
    far = cfg.model_copy(
        update={"labels": cfg.labels.model_copy(update={"crs": "EPSG:3035"})}
    )  # valid numbers, elsewhere in Europe
    with pytest.raises(InputError, match="no usable samples of 178 labels \\(178 outside the grid\\)"):
        build_samples(far, ctx)


def test_empty_sample_when_the_mask_keeps_nothing(tmp_path):
    cfg = example_config(tmp_path, mask=config.MaskConfig(layer="landcover", keep=[9]))
    with pytest.raises(InputError, match="no usable samples"):
        build_samples(cfg, prepare(cfg))


def test_label_column_with_text(tmp_path):
    def edit(lines):
        lines[10] = lines[10].replace(lines[10].split(",")[4], "250 m3", 1)
        return lines

    cfg = example_config(tmp_path)
    cfg = cfg.model_copy(update={"labels": cfg.labels.model_copy(update={"path": copy_plots(tmp_path, edit)})})
    with pytest.raises(InputError) as e:
        build_samples(cfg, prepare(cfg))
    assert "row 11" in str(e.value) and "column 'volume'" in str(e.value)


@pytest.mark.parametrize(
    "text, message",
    [
        ("name = 'x'\noutput = 'o'\nlayers = []\n[labels]\ntype = 'plots'\npath = 'p.csv'\nbogus = 1\n", "bogus"),
        (
            "name = 'x'\noutput = 'o'\n[[layers]]\nname = 'a'\n[labels]\ntype = 'plots'\npath = 'p.csv'\n",
            "give exactly one of path or stac",
        ),
        ("name = 'x'\noutput = ", "not valid TOML"),
    ],
)
def test_config_errors_name_the_field(tmp_path, text, message):
    p = tmp_path / "run.toml"
    p.write_text(text)
    with pytest.raises(InputError, match=message) as e:
        config.load(p)
    assert str(p) in str(e.value)


def test_the_example_config_is_valid():
    cfg = config.load(EXAMPLE)
    assert cfg.labels.path.is_file() and all(layer.path.is_file() for layer in cfg.layers)
    assert np.isclose(cfg.labels.plot_radius, 20.0)
    assert mapping(box(0, 0, 1, 1))  # shapely available for AOI handling


def test_nodata_values_add_to_the_files_own_and_a_valid_range_masks_fills(tmp_path):
    from rasterio.windows import Window

    from carbonscope.biomass.config import LayerConfig
    from carbonscope.biomass.layers import LayerReader, inspect
    from carbonscope.geo.grid import Grid

    with rasterio.open(HV) as src:
        data = src.read(1).astype("float32")
        profile = src.profile | {"dtype": "float32", "nodata": 0.0}
    data[:10, :10] = 0.0  # the file's own nodata
    data[10:20, :10] = 3.4e38  # a fill value the file does not declare
    data[20:30, :10] = -9999.0
    path = tmp_path / "hv-fills.tif"
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)
    grid = Grid.of_raster(path)
    win = Window(0, 0, 10, 40)

    def read(**kw):
        layer = LayerConfig(name="hv", path=path, **kw)
        with LayerReader(inspect([layer], grid), grid) as reader:
            return reader.read(win)["hv"]

    plain = read()
    assert np.isnan(plain[:10]).all() and (plain[10:20] > 1e38).all()  # a fill the file does not name is data
    added = read(nodata=[3.4e38, -9999.0])
    assert np.isnan(added[:30]).all() and np.isfinite(added[30:]).all()  # the file's 0 still masks
    ranged = read(valid_range=(1.0, 100_000.0))
    assert np.isnan(ranged[:30]).all() and np.array_equal(ranged[30:], data[30:40, :10])
