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
from carbonscope.baseline.landcover import GridSpec
from carbonscope.errors import InputError

log = logging.getLogger(__name__)


@dataclass
class ZoneSet:
    name: str
    names: list[str]
    geometries: list  # shapely, in the raster's CRS
    source: str

    def rasterize(self, grid: GridSpec, window: windows.Window) -> np.ndarray:
        """Zone number per pixel of the window: 0 outside every zone, i + 1 inside zone i."""
        shape = (int(window.height), int(window.width))
        transform = windows.transform(window, grid.transform)
        bounds = box(*windows.bounds(window, grid.transform))
        shapes = [(g, i + 1) for i, g in enumerate(self.geometries) if g.intersects(bounds)]
        if not shapes:
            return np.zeros(shape, dtype=np.uint16)
        return features.rasterize(shapes, out_shape=shape, transform=transform, fill=0, dtype="uint16")


def load(cfg: ZoneConfig, grid: GridSpec) -> ZoneSet:
    import geopandas as gpd
    import pyogrio

    path = cfg.path
    if not path.exists():
        raise InputError(f"no such zone file (zone set {cfg.name!r})", file=str(path))
    try:
        layers = [name for name, _ in pyogrio.list_layers(path)]
    except Exception as exc:  # pyogrio raises several types for unreadable files
        raise InputError(f"cannot read zone set {cfg.name!r} as a vector file ({exc})", file=str(path)) from None
    if cfg.layer is not None and cfg.layer not in layers:
        raise InputError(f"no layer {cfg.layer!r}; layers: {', '.join(layers)}", file=str(path))
    layer = cfg.layer or layers[0]
    if cfg.layer is None and len(layers) > 1:
        if cfg.field is not None:
            with_field = [name for name in layers if cfg.field in pyogrio.read_info(path, layer=name)["fields"]]
            layer = with_field[0] if with_field else layers[0]
        log.warning("%s has layers %s; zone set %r uses %r (set the layer to choose)", path, layers, cfg.name, layer)
    gdf = gpd.read_file(path, layer=layer)
    where = f"{path}" + (f", layer {cfg.layer}" if cfg.layer else "")
    if gdf.empty:
        raise InputError(f"zone set {cfg.name!r} has no features", file=where)
    if gdf.crs is None:
        raise InputError(f"zone set {cfg.name!r} has no CRS; save it with one", file=where)
    if cfg.field is not None and cfg.field not in gdf.columns:
        raise InputError(
            f"no column {cfg.field!r} for zone names; columns: {', '.join(c for c in gdf.columns if c != 'geometry')}",
            file=where,
            column=cfg.field,
        )
    for i, geom in enumerate(gdf.geometry):
        if geom is None or geom.is_empty:
            raise InputError(f"feature {i + 1} of zone set {cfg.name!r} has an empty geometry", file=where, row=i + 1)
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
