"""Where a run works: the target grid, the area of interest and the forest mask."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from rasterio.features import geometry_mask
from rasterio.windows import Window

from carbonscope.biomass.config import RunConfig
from carbonscope.errors import InputError
from carbonscope.geo.grid import Grid
from carbonscope.geo.vector import read_vector

if TYPE_CHECKING:
    import geopandas as gpd


def target_grid(cfg: RunConfig, aoi: gpd.GeoDataFrame | None = None) -> Grid:
    """The grid of the run: what the config gives, the rest from the reference layer (default: the first)."""
    from pyproj import CRS
    from rasterio.warp import transform_bounds

    ref_name = cfg.grid.reference or cfg.layers[0].name
    ref = cfg.layer(ref_name)
    if ref.path is None and (cfg.grid.crs is None or cfg.grid.resolution is None):
        raise InputError(f"grid.reference {ref_name!r} comes from STAC: give grid.crs and grid.resolution")
    ref_grid = Grid.of_raster(ref.path) if ref.path is not None else None
    if ref_grid is None and not cfg.grid.bounds and aoi is None:
        raise InputError(f"grid.reference {ref_name!r} comes from STAC: give grid.bounds or an aoi")
    if cfg.grid.crs:
        crs = CRS.from_user_input(cfg.grid.crs)
    else:
        assert ref_grid is not None  # a STAC reference needs grid.crs (checked above)
        crs = ref_grid.crs
    same_crs = ref_grid is not None and ref_grid.crs == crs
    res = cfg.grid.resolution or (ref_grid.resolution if ref_grid is not None and same_crs else None)
    if res is None:
        raise InputError("grid.resolution is needed when grid.crs differs from the reference layer's CRS")
    if cfg.grid.bounds:
        bounds = cfg.grid.bounds
    elif aoi is not None:
        left, bottom, right, top = aoi.total_bounds
        if ref_grid is not None and same_crs:  # snap to the reference grid so pixels stay where they are
            ox, oy = ref_grid.transform.c, ref_grid.transform.f
            snap = lambda v, o, f: o + f((v - o) / res) * res  # noqa: E731
            bounds = (
                snap(left, ox, math.floor),
                snap(bottom, oy, math.floor),
                snap(right, ox, math.ceil),
                snap(top, oy, math.ceil),
            )
        else:
            bounds = (
                math.floor(left / res) * res,
                math.floor(bottom / res) * res,
                math.ceil(right / res) * res,
                math.ceil(top / res) * res,
            )
    elif ref_grid is not None and same_crs:
        bounds = ref_grid.bounds
    else:
        assert ref_grid is not None  # a STAC reference has bounds or an aoi (checked above)
        bounds = transform_bounds(ref_grid.crs, crs, *ref_grid.bounds)
    return Grid.from_bounds(crs, res, bounds)


def _ref_crs(cfg: RunConfig):
    from pyproj import CRS

    if cfg.grid.crs:
        return CRS.from_user_input(cfg.grid.crs)
    ref = cfg.layer(cfg.grid.reference or cfg.layers[0].name)
    if ref.path is None:
        raise InputError(f"grid.reference {ref.name!r} comes from STAC: give grid.crs and grid.resolution")
    return Grid.of_raster(ref.path).crs


@dataclass
class Domain:
    """The pixels a run may sample and map: inside the AOI, kept by the mask, with data."""

    grid: Grid
    aoi: object | None = None  # shapely geometry in grid CRS
    mask_layer: str | None = None
    mask_keep: tuple[int, ...] = ()

    @classmethod
    def from_config(cls, cfg: RunConfig) -> Domain:
        aoi = None
        if cfg.aoi is not None:
            gdf = read_vector(cfg.aoi.path, _ref_crs(cfg), cfg.aoi.layer)
            grid = target_grid(cfg, gdf)
            aoi = gdf.union_all()
            gl, gb, gr, gt = grid.bounds
            from shapely.geometry import box

            if not aoi.intersects(box(gl, gb, gr, gt)):
                raise InputError("the area of interest lies outside the grid", file=str(cfg.aoi.path))
        else:
            grid = target_grid(cfg)
        mask = cfg.mask
        return cls(grid, aoi, mask.layer if mask else None, tuple(mask.keep) if mask else ())

    def valid(self, window: Window, arrays: dict[str, np.ndarray], halo: int = 0) -> np.ndarray:
        """Boolean (h, w) of the window (halo cropped): in AOI and kept by the mask."""
        h, w = int(window.height), int(window.width)
        ok = np.ones((h, w), dtype=bool)
        if self.aoi is not None:
            ok &= geometry_mask([self.aoi], out_shape=(h, w), transform=self.grid.window_transform(window), invert=True)
        if self.mask_layer:
            m = arrays[self.mask_layer]
            if halo:
                m = m[halo : m.shape[0] - halo, halo : m.shape[1] - halo]
            ok &= np.isin(m, self.mask_keep)
        return ok
