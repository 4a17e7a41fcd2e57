"""Metres on a geographic grid: plot radii and spatial blocks on an EPSG:4326 copy of a real
Juupajoki layer (before, a 20 m radius read as 20 degrees asked for 235 GiB, and 1 km blocks were one)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from pyproj import Geod, Transformer
from rasterio.warp import calculate_default_transform, reproject

from carbonscope.biomass.sampling import pixel_weights
from carbonscope.biomass.validation import spatial_blocks
from carbonscope.geo import metric
from carbonscope.geo.grid import Grid
from tests.biomass.conftest import HV, PLOTS

GEOD = Geod(ellps="WGS84")


@pytest.fixture(scope="module")
def hv_4326(tmp_path_factory):
    """The real PALSAR-2 HV layer warped to EPSG:4326 (about 0.0004 by 0.0002 degrees)."""
    out = tmp_path_factory.mktemp("geo") / "hv-4326.tif"
    with rasterio.open(HV) as src:
        transform, width, height = calculate_default_transform(src.crs, "EPSG:4326", src.width, src.height, *src.bounds)
        profile = src.profile | {"crs": "EPSG:4326", "transform": transform, "width": width, "height": height}
        with rasterio.open(out, "w", **profile) as dst:
            reproject(rasterio.band(src, 1), rasterio.band(dst, 1), dst_crs="EPSG:4326", dst_transform=transform)
    return out


def _plots_lonlat() -> tuple[np.ndarray, np.ndarray]:
    df = pd.read_csv(PLOTS)
    lon, lat = Transformer.from_crs("EPSG:3067", "EPSG:4326", always_xy=True).transform(
        df.xcoordinate.to_numpy(), df.ycoordinate.to_numpy()
    )
    return np.asarray(lon), np.asarray(lat)


def test_a_plot_radius_is_metres_on_a_geographic_grid(hv_4326):
    grid = Grid.of_raster(hv_4326)
    assert grid.crs.is_geographic
    lon, lat = _plots_lonlat()
    x, y = float(lon[0]), float(lat[0])
    rows, cols, w = pixel_weights(grid, x, y, 20.0)
    px_m = abs(grid.transform.a) * 111_320 * np.cos(np.radians(y)), abs(grid.transform.e) * 111_320
    assert w.sum() == pytest.approx(1.0) and len(w) <= np.pi * (20 + max(px_m)) ** 2 / (px_m[0] * px_m[1]) + 4
    # the circle itself is 20 m around the plot, geodesically
    ring = np.asarray(metric.circle(x, y, 20.0, grid.crs).exterior.coords)
    _, _, dist = GEOD.inv(np.full(len(ring), x), np.full(len(ring), y), ring[:, 0], ring[:, 1])
    assert dist == pytest.approx(np.full(len(ring), 20.0), abs=0.01)
    area, _ = GEOD.polygon_area_perimeter(ring[:, 0], ring[:, 1])
    assert abs(area) == pytest.approx(np.pi * 20**2, rel=0.005)
    # each pixel's weight is the share of the plot it holds: checked by sampling each pixel finely
    t = grid.transform
    fine = (np.arange(40) + 0.5) / 40
    inside = []
    for r, c in zip(rows, cols):
        px, py = np.meshgrid(t.c + (c + fine) * t.a, t.f + (r + fine) * t.e)
        _, _, d = GEOD.inv(np.full(px.size, x), np.full(px.size, y), px.ravel(), py.ravel())
        inside.append((d <= 20.0).mean())
    brute = np.array(inside) / np.sum(inside)
    assert w == pytest.approx(brute, abs=0.01)


def test_spatial_blocks_are_metres_on_a_geographic_grid():
    lon, lat = _plots_lonlat()
    assert len(np.unique(spatial_blocks(lon, lat, 1000.0))) == 1  # degrees taken for metres: one block
    mx, my = metric.to_metres(lon, lat, "EPSG:4326")
    blocks = spatial_blocks(mx, my, 1000.0)
    utm = spatial_blocks(*pd.read_csv(PLOTS)[["xcoordinate", "ycoordinate"]].to_numpy().T, 1000.0)
    n, n_utm = len(np.unique(blocks)), len(np.unique(utm))  # the same plots in 1 km squares of two grids
    assert n >= 5 and abs(n - n_utm) <= 0.2 * n_utm
    # distances between plots in the local projection are the geodesic ones
    _, _, d = GEOD.inv(np.full(len(lon) - 1, lon[0]), np.full(len(lon) - 1, lat[0]), lon[1:], lat[1:])
    assert np.hypot(mx[1:] - mx[0], my[1:] - my[0]) == pytest.approx(d, rel=1e-3)


def test_projected_units_other_than_metres_are_converted():
    assert metric.unit_metres("EPSG:2263") == pytest.approx(0.3048006096, rel=1e-6)  # NY state plane, US feet
    c = metric.circle(1000.0, 1000.0, 30.48, "EPSG:2263")
    assert shapely.bounds(c)[2] - 1000.0 == pytest.approx(100.0, rel=1e-3)
