"""Zones (jurisdiction, sub-jurisdictions, project areas) from vector files, rasterised per window.

A zone set is one vector layer; each feature (or each value of ``field``, dissolved) is a zone. A
pixel belongs to a zone when its centre lies inside (GDAL's rule, as ``rasterio.features.rasterize``).
Sets may overlap each other (a project inside its jurisdiction); zones within one set should not.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from rasterio import features, windows
from shapely.geometry import box

from carbonscope.baseline.config import ZoneConfig
from carbonscope.errors import InputError
from carbonscope.geo import vector
from carbonscope.geo.grid import Grid

log = logging.getLogger(__name__)


@dataclass
class ZoneSet:
    name: str
    names: list[str]
    geometries: list  # shapely, in the raster's CRS
    source: str

    def rasterize(self, grid: Grid, window: windows.Window) -> np.ndarray:
        """Zone number per pixel of the window: 0 outside every zone, i + 1 inside zone i."""
        shape = (int(window.height), int(window.width))
        transform = windows.transform(window, grid.transform)
        bounds = box(*windows.bounds(window, grid.transform))
        shapes = [(g, i + 1) for i, g in enumerate(self.geometries) if g.intersects(bounds)]
        if not shapes:
            return np.zeros(shape, dtype=np.uint16)
        return features.rasterize(shapes, out_shape=shape, transform=transform, fill=0, dtype="uint16")


def load(cfg: ZoneConfig, grid: Grid) -> ZoneSet:
    path = cfg.path
    what = f"zone set {cfg.name!r}"
    names = vector.layers(path, what)
    if cfg.layer is not None and cfg.layer not in names:
        raise InputError(f"no layer {cfg.layer!r}; layers: {', '.join(names)}", file=str(path))
    layer = cfg.layer or names[0]
    if cfg.layer is None and len(names) > 1:
        if cfg.field is not None:
            with_field = [name for name in names if cfg.field in vector.fields(path, name)]
            layer = with_field[0] if with_field else names[0]
        log.warning("%s has layers %s; zone set %r uses %r (set the layer to choose)", path, names, cfg.name, layer)
    gdf = vector.read_vector(path, None, layer, what, drop_empty=False)
    where = f"{path}" + (f", layer {cfg.layer}" if cfg.layer else "")
    if cfg.field is not None and cfg.field not in gdf.columns:
        raise InputError(
            f"no column {cfg.field!r} for zone names; columns: {', '.join(c for c in gdf.columns if c != 'geometry')}",
            file=where,
            column=cfg.field,
        )
    for i, geom in enumerate(gdf.geometry):
        if geom.geom_type not in ("Polygon", "MultiPolygon"):
            raise InputError(
                f"feature {i + 1} of zone set {cfg.name!r} is a {geom.geom_type}, zones must be polygons",
                file=where,
                row=i + 1,
            )
    gdf = gdf.to_crs(grid.crs)
    gdf["geometry"] = gdf.geometry.make_valid()
    if cfg.field is None:
        names, geoms = [cfg.name], [gdf.geometry.union_all()]
    else:
        gdf[cfg.field] = gdf[cfg.field].astype(str)
        dissolved = gdf.dissolve(by=cfg.field, sort=False)
        names, geoms = list(dissolved.index), list(dissolved.geometry)
    raster = box(*grid.bounds)
    for n, g in zip(names, geoms):
        if g.is_empty or g.area == 0:
            raise InputError(f"zone {n!r} of set {cfg.name!r} has no area", file=where)
        if not g.intersects(raster):
            raise InputError(
                f"zone {n!r} of set {cfg.name!r} lies outside the raster (bounds {tuple(round(v) for v in grid.bounds)} in {grid.crs.to_string()})",
                file=where,
            )
        if not raster.contains(g.buffer(-abs(grid.transform.a) / 2)):
            log.warning("zone %r of set %r reaches beyond the raster; only the part inside is counted", n, cfg.name)
    if len(names) > 65_534:
        raise InputError(f"zone set {cfg.name!r} has {len(names)} zones; at most 65,534", file=where)
    return ZoneSet(cfg.name, names, geoms, where)
