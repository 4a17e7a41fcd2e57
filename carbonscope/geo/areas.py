"""Pixel areas for any CRS: projected grids use the cell size (in metres), geographic grids the
area of each row's cells on the WGS84 ellipsoid (cells shrink towards the poles)."""

from __future__ import annotations

import numpy as np
from affine import Affine
from pyproj import CRS, Geod

CRSLike = CRS | str | int  # anything pyproj.CRS.from_user_input takes: a CRS, "EPSG:32635", 4326


def row_areas_ha(crs: CRSLike, transform: Affine, height: int) -> np.ndarray:
    """Area in hectares of one pixel in each row (shape (height,))."""
    crs = CRS.from_user_input(crs)
    if transform.b != 0 or transform.d != 0:
        raise ValueError("rotated grids are not supported")
    if crs.is_geographic:
        geod = Geod(ellps="WGS84")
        lon0, dlon = transform.c, transform.a
        tops = transform.f + transform.e * np.arange(height)
        bottoms = tops + transform.e
        out = np.empty(height)
        for i, (t, b) in enumerate(zip(tops, bottoms)):
            lons = [lon0, lon0 + dlon, lon0 + dlon, lon0, lon0]
            lats = [t, t, b, b, t]
            out[i] = abs(geod.polygon_area_perimeter(lons, lats)[0]) / 10_000
        return out
    factor = crs.axis_info[0].unit_conversion_factor if crs.axis_info else 1.0
    area_m2 = abs(transform.a * factor) * abs(transform.e * factor)
    return np.full(height, area_m2 / 10_000)
