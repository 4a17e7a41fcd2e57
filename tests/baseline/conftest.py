"""Real REDD+ data from ../shared/data/redd, an independent numpy computation, and one shared run."""

from __future__ import annotations

import numpy as np
import pytest

from carbonscope.baseline import config
from tests.conftest import ROOT, SHARED

MTQ = SHARED / "redd" / "martinique"
FOREST = MTQ / "forest-MTQ-2000-2010-2020.tif"
AOI = MTQ / "aoi-MTQ-latlon.gpkg"
PROJECT = MTQ / "project_borders_MTQ_jurisdiction.gpkg"
PRODES = SHARED / "redd" / "prodes-rondonia" / "PRODES_LANDSAT_AMZ_2000-08-01_2020-07-31_class_v20220606.tif"
EXAMPLE = ROOT / "examples" / "martinique.toml"


def by_hand(raster, vector=None, layer=None, field=None):
    """What a person computes with rasterio and numpy: the bands, the pixel area, and per zone a mask
    of pixel centres inside each polygon (reprojected with geopandas)."""
    import geopandas as gpd
    import rasterio
    from rasterio.features import geometry_mask

    with rasterio.open(raster) as src:
        bands = src.read()
        px_ha = abs(src.transform.a * src.transform.e) / 10_000
        transform, crs, shape = src.transform, src.crs, (src.height, src.width)
    masks = {}
    if vector is not None:
        gdf = gpd.read_file(vector, layer=layer).to_crs(crs)
        groups = gdf.groupby(field) if field else [("all", gdf)]
        for name, g in groups:
            masks[name] = ~geometry_mask(list(g.geometry), out_shape=shape, transform=transform)
    return bands, px_ha, masks


@pytest.fixture(scope="session")
def martinique_run(tmp_path_factory):
    """The shipped example, once per session, written to a temporary folder."""
    from carbonscope.baseline.run import run, write

    out = tmp_path_factory.mktemp("martinique")
    cfg = config.load(EXAMPLE).model_copy(update={"output": out / "run"})
    r = run(cfg)
    write(r)
    return r, out / "run"


@pytest.fixture
def write_raster(tmp_path):
    """Write a small GeoTIFF: write_raster(name, array(bands, rows, cols), transform, crs, nodata)."""
    import rasterio

    def _write(name, data, transform, crs="EPSG:5490", nodata=None, dtype=None):
        data = np.asarray(data)
        if data.ndim == 2:
            data = data[None]
        path = tmp_path / name
        with rasterio.open(
            path,
            "w",
            driver="GTiff",
            width=data.shape[2],
            height=data.shape[1],
            count=data.shape[0],
            dtype=dtype or data.dtype,
            crs=crs,
            transform=transform,
            nodata=nodata,
        ) as dst:
            dst.write(data.astype(dtype or data.dtype))
        return path

    return _write
