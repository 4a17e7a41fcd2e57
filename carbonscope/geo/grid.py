"""A north-up raster grid (CRS, transform, size): the grid every layer of the carbon analyst is aligned
to and the grid of the baseline engine's land-cover maps, with windows over it. One type, one set of
checks (a CRS is required, rotated rasters are refused) for both engines."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from pyproj import CRS
from rasterio.io import DatasetReader
from rasterio.windows import Window

from carbonscope.errors import InputError
from carbonscope.geo.areas import CRSLike


@dataclass(frozen=True)
class Grid:
    crs: CRS
    transform: Affine
    width: int
    height: int

    @classmethod
    def from_bounds(cls, crs: CRSLike, resolution: float, bounds: tuple[float, float, float, float]) -> Grid:
        left, bottom, right, top = bounds
        if right <= left or top <= bottom:
            raise InputError(f"grid bounds {bounds} are empty (left, bottom, right, top)")
        width = int(math.ceil((right - left) / resolution - 1e-9))
        height = int(math.ceil((top - bottom) / resolution - 1e-9))
        return cls(CRS.from_user_input(crs), Affine(resolution, 0, left, 0, -resolution, top), width, height)

    @classmethod
    def of_raster(cls, path: str | Path) -> Grid:
        with rasterio.open(path) as src:
            return cls.of_dataset(src)

    @classmethod
    def of_dataset(cls, src: DatasetReader) -> Grid:
        """The grid of an open rasterio dataset; InputError (naming the file) without a CRS or when rotated."""
        if src.crs is None:
            raise InputError("the raster has no CRS; assign one (e.g. gdal_edit.py -a_srs EPSG:...)", file=src.name)
        if src.transform.b or src.transform.d:
            raise InputError("rotated rasters are not supported; warp it north-up first", file=src.name)
        return cls(CRS.from_user_input(src.crs), src.transform, src.width, src.height)

    def same_as(self, other: Grid) -> bool:
        """The same CRS, size and transform (to a millionth of a unit)."""
        return (
            self.crs == other.crs
            and self.shape == other.shape
            and all(abs(x - y) <= 1e-6 * max(1.0, abs(x)) for x, y in zip(self.transform[:6], other.transform[:6]))
        )

    def describe(self) -> str:
        t = self.transform
        return (
            f"{self.width} x {self.height} px of {abs(t.a):g} x {abs(t.e):g} in {self.crs.to_string()}, "
            f"origin ({t.c:g}, {t.f:g})"
        )

    @property
    def resolution(self) -> float:
        return abs(self.transform.a)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        left, top = self.transform.c, self.transform.f
        return left, top + self.transform.e * self.height, left + self.transform.a * self.width, top

    @property
    def shape(self) -> tuple[int, int]:
        return self.height, self.width

    def windows(self, size: int) -> Iterator[Window]:
        for row in range(0, self.height, size):
            for col in range(0, self.width, size):
                yield Window(col, row, min(size, self.width - col), min(size, self.height - row))

    def window_transform(self, window: Window) -> Affine:
        return rasterio.windows.transform(window, self.transform)

    def rowcol(self, xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pixel indices of map coordinates (may fall outside the grid)."""
        t = self.transform
        cols = (np.asarray(xs, dtype=float) - t.c) / t.a
        rows = (np.asarray(ys, dtype=float) - t.f) / t.e
        return np.floor(rows).astype(int), np.floor(cols).astype(int)

    def xy(self, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Map coordinates of pixel centres."""
        t = self.transform
        return t.c + (np.asarray(cols) + 0.5) * t.a, t.f + (np.asarray(rows) + 0.5) * t.e

    def profile(self, count: int = 1, dtype: str = "float32", nodata: float | int | None = np.nan) -> dict:
        return {
            "driver": "GTiff",
            "width": self.width,
            "height": self.height,
            "count": count,
            "dtype": dtype,
            "crs": self.crs,
            "transform": self.transform,
            "nodata": nodata,
            "tiled": True,
            "blockxsize": 256,
            "blockysize": 256,
            "compress": "deflate",
            "BIGTIFF": "IF_SAFER",
        }
