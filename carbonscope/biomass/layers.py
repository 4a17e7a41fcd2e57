"""Raster layers read onto the target grid, window by window (memory does not grow with the raster).

Each layer is warped on the fly (GDAL WarpedVRT): classes with nearest neighbour, continuous
values with the average of source pixels when the source is finer than the grid, else bilinear.
Nodata becomes NaN; it is never passed to a model as a number.
"""

from __future__ import annotations

import warnings
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from rasterio.enums import Resampling
from rasterio.vrt import WarpedVRT
from rasterio.windows import Window

from carbonscope.biomass.config import LayerConfig
from carbonscope.errors import InputError
from carbonscope.geo import rasterpath
from carbonscope.geo.grid import Grid


def resampling_for(layer: LayerConfig, src_res: float, grid: Grid) -> Resampling:
    if layer.kind == "categorical":
        return Resampling.nearest
    return Resampling.average if src_res < grid.resolution * 0.999 else Resampling.bilinear


@dataclass
class LayerInfo:
    config: LayerConfig
    path: Path
    resampling: Resampling
    nodata: float | None  # the value the warped view treats as no data (the file's own, else the first configured)
    src_crs: str
    extra_nodata: tuple[float, ...] = ()  # more values masked after reading

    def mask(self, arr: np.ndarray) -> np.ndarray:
        """``arr`` with the extra nodata values and anything outside the valid range set to NaN."""
        if self.extra_nodata:
            arr[np.isin(arr, np.asarray(self.extra_nodata, dtype=arr.dtype))] = np.nan
        vr = self.config.valid_range
        if vr is not None:
            with np.errstate(invalid="ignore"):
                arr[(arr < vr[0]) | (arr > vr[1])] = np.nan
        return arr


def inspect(layers: list[LayerConfig], grid: Grid) -> list[LayerInfo]:
    """Check every layer can be read onto the grid; say clearly what is wrong and where."""
    from rasterio.warp import transform_bounds

    out = []
    for layer in layers:
        if layer.path is None:
            raise InputError(f"layer {layer.name!r} has no file: a STAC layer is composited to one before it is read")
        path = Path(layer.path)
        if not rasterpath.exists(path):
            raise InputError(f"layer {layer.name!r}: no such raster", file=str(path))
        try:
            src = rasterio.open(path)
        except rasterio.RasterioIOError as exc:
            raise InputError(f"layer {layer.name!r}: not a readable raster ({exc})", file=str(path)) from exc
        with src:
            if src.crs is None:
                raise InputError(
                    f"layer {layer.name!r}: the raster has no CRS; assign one (e.g. gdal_edit.py -a_srs)",
                    file=str(path),
                )
            if layer.band > src.count:
                raise InputError(
                    f"layer {layer.name!r}: band {layer.band} asked for, the raster has {src.count}", file=str(path)
                )
            left, bottom, right, top = transform_bounds(src.crs, grid.crs, *src.bounds, densify_pts=21)
            gl, gb, gr, gt = grid.bounds
            if right <= gl or left >= gr or top <= gb or bottom >= gt:
                raise InputError(
                    f"layer {layer.name!r} does not overlap the area of interest (grid {grid.bounds} in {grid.crs.to_string()})",
                    file=str(path),
                )
            src_res = abs(src.res[0])
            if src.crs != grid.crs:
                # compare resolutions in grid units
                sb = transform_bounds(src.crs, grid.crs, *src.bounds)
                src_res = (sb[2] - sb[0]) / src.width
            own = src.nodatavals[layer.band - 1]
            configured = (
                [] if layer.nodata is None else [layer.nodata] if not isinstance(layer.nodata, list) else layer.nodata
            )
            values = ([own] if own is not None else []) + [v for v in configured if v != own]
            nodata = values[0] if values else None
            info = LayerInfo(
                layer, path, resampling_for(layer, src_res, grid), nodata, src.crs.to_string(), tuple(values[1:])
            )
            out.append(info)
    return out


class LayerReader:
    """Open handles on all layers (one reader per thread or process)."""

    def __init__(self, infos: list[LayerInfo], grid: Grid):
        self.infos, self.grid = infos, grid
        self._stack = ExitStack()
        self.vrts = {}
        for info in infos:
            src = self._stack.enter_context(rasterio.open(info.path))
            # without a nodata value, an alpha band marks where the source has no pixels
            dx, dy = info.config.shift
            shifted = {"src_transform": Affine.translation(dx, dy) * src.transform} if (dx or dy) else {}
            vrt = self._stack.enter_context(
                WarpedVRT(
                    src,
                    **shifted,
                    crs=grid.crs,
                    transform=grid.transform,
                    width=grid.width,
                    height=grid.height,
                    resampling=info.resampling,
                    src_nodata=info.nodata,
                    nodata=info.nodata,
                    add_alpha=info.nodata is None,
                )
            )
            self.vrts[info.config.name] = (vrt, info)

    def close(self) -> None:
        self._stack.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def read(self, window: Window, halo: int = 0) -> dict[str, np.ndarray]:
        """Float32 arrays (NaN where no data, or off the grid) of every layer over ``window`` plus ``halo`` pixels around it."""
        c0, r0 = int(window.col_off) - halo, int(window.row_off) - halo
        h, w = int(window.height) + 2 * halo, int(window.width) + 2 * halo
        rc0, rr0 = max(c0, 0), max(r0, 0)
        rc1, rr1 = min(c0 + w, self.grid.width), min(r0 + h, self.grid.height)
        out = {}
        for name, (vrt, info) in self.vrts.items():
            arr = np.full((h, w), np.nan, dtype="float32")
            if rc1 > rc0 and rr1 > rr0:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    a = vrt.read(info.config.band, window=Window(rc0, rr0, rc1 - rc0, rr1 - rr0), masked=True)
                arr[rr0 - r0 : rr1 - r0, rc0 - c0 : rc1 - c0] = np.ma.filled(a.astype("float32"), np.nan)
            arr = info.mask(arr)
            cfg = info.config
            if cfg.scale != 1.0 or cfg.offset != 0.0:
                arr = arr * cfg.scale + cfg.offset
            out[name] = arr
        return out

    def read_pixels(self, rows: np.ndarray, cols: np.ndarray) -> dict[str, np.ndarray]:
        """Values at individual pixels (for training samples), reading only the blocks around them."""
        out = {name: np.full(len(rows), np.nan, dtype="float32") for name in self.vrts}
        if len(rows) == 0:
            return out
        block = 256
        keys = (rows // block) * 100_000 + (cols // block)
        for key in np.unique(keys):
            sel = np.where(keys == key)[0]
            r0, c0 = int(rows[sel].min()), int(cols[sel].min())
            r1, c1 = int(rows[sel].max()), int(cols[sel].max())
            data = self.read(Window(c0, r0, c1 - c0 + 1, r1 - r0 + 1))
            for name, arr in data.items():
                out[name][sel] = arr[rows[sel] - r0, cols[sel] - c0]
        return out
