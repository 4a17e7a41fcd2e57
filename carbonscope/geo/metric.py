"""Distances in metres whatever the grid's CRS: plot radii, spatial-CV blocks and minimum distances
are given in metres, so on a geographic grid (EPSG:4326) they are applied in a local azimuthal
equidistant projection around the points, and on a projected CRS in feet they are converted."""

from __future__ import annotations

import numpy as np
import shapely
from pyproj import CRS, Transformer
from shapely.geometry.base import BaseGeometry

from carbonscope.geo.areas import CRSLike


def unit_metres(crs: CRSLike) -> float:
    """Metres per unit of a projected CRS's x axis (1 for metres, 0.3048 for feet)."""
    c = CRS.from_user_input(crs)
    return float(c.axis_info[0].unit_conversion_factor) if c.axis_info else 1.0


def local_aeqd(lon: float, lat: float) -> CRS:
    """An azimuthal equidistant projection centred on (lon, lat): true distances from that point."""
    return CRS.from_proj4(f"+proj=aeqd +lat_0={lat} +lon_0={lon} +x_0=0 +y_0=0 +datum=WGS84 +units=m")


def to_metres(xs: np.ndarray, ys: np.ndarray, crs: CRSLike) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates in metres: unchanged (or unit-converted) on a projected CRS; on a geographic CRS,
    in a local equidistant projection centred on the points (distances between them in metres)."""
    c = CRS.from_user_input(crs)
    xs, ys = np.asarray(xs, float), np.asarray(ys, float)
    if not c.is_geographic:
        f = unit_metres(c)
        return xs * f, ys * f
    ok = np.isfinite(xs) & np.isfinite(ys)
    lon0, lat0 = (float(np.mean(xs[ok])), float(np.mean(ys[ok]))) if ok.any() else (0.0, 0.0)
    to = Transformer.from_crs(c, local_aeqd(lon0, lat0), always_xy=True)
    mx, my = to.transform(xs, ys)
    return np.asarray(mx, float), np.asarray(my, float)


def circle(x: float, y: float, radius_m: float, crs: CRSLike, quad_segs: int = 32) -> BaseGeometry:
    """The circle of ``radius_m`` metres around (x, y), in the coordinates of ``crs``."""
    c = CRS.from_user_input(crs)
    if not c.is_geographic:
        return shapely.Point(x, y).buffer(radius_m / unit_metres(c), quad_segs=quad_segs)
    back = Transformer.from_crs(local_aeqd(x, y), c, always_xy=True)
    ring = np.asarray(shapely.Point(0.0, 0.0).buffer(radius_m, quad_segs=quad_segs).exterior.coords)
    lon, lat = back.transform(ring[:, 0], ring[:, 1])
    return shapely.Polygon(np.column_stack([lon, lat]))
