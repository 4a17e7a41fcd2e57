"""Land-cover and forest-change rasters as a stack of dated category maps, read window by window.

A product turns raw pixels into category indices of one :class:`~carbonscope.baseline.legend.Legend`
for each date: land-cover maps (one file or band per date, reclassified by a table), forest masks,
PRODES yearly classes and loss-year maps (one raster expanded into forest/non-forest per year).
Every raster must share the first one's grid, or be resampled to it when ``align`` is set.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date as _date
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import rasterio
from rasterio.enums import Resampling
from rasterio.vrt import WarpedVRT
from rasterio.windows import Window

from carbonscope.baseline import legend as lg
from carbonscope.baseline.config import LandCoverConfig
from carbonscope.errors import InputError
from carbonscope.geo import rasterpath
from carbonscope.geo.grid import Grid


def decimal_year(label: str) -> float:
    """'2010' -> 2010.0; '2010-07-01' -> 2010.5 (position in the year)."""
    s = str(label).strip()
    if re.fullmatch(r"\d{4}", s):
        return float(s)
    try:
        d = _date.fromisoformat(s)
    except ValueError:
        raise InputError(f"date {label!r} is neither a year (2010) nor an ISO date (2010-07-31)") from None
    start = _date(d.year, 1, 1)
    return d.year + (d - start).days / (_date(d.year + 1, 1, 1) - start).days


@dataclass
class Band:
    date: str
    path: Path
    band: int


@dataclass
class Product:
    """Dated category maps on one grid. ``read(window)`` gives an array (dates, rows, cols) of indices."""

    legend: lg.Legend
    dates: list[str]
    grid: Grid
    forest: tuple[int, ...]
    kind: str
    sources: list[str]
    _opened: dict = field(default_factory=dict, repr=False)
    _handles: list = field(default_factory=list, repr=False)
    notes: list[str] = field(default_factory=list)  # what the report must say about the inputs

    @property
    def years(self) -> list[float]:
        return [decimal_year(d) for d in self.dates]

    def close(self) -> None:
        for h in reversed(self._handles):
            h.close()
        self._handles.clear()
        self._opened.clear()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def block_rows(self) -> int:
        return 256

    def read(self, window: Window) -> np.ndarray:
        raise NotImplementedError

    def unmapped_codes(self, window: Window) -> set[int]:
        """Raw codes in the window the legend does not map (for the error message)."""
        return set()


def _open(product: Product, path: Path, align: bool, target: Grid | None, nodata: float | list[float] | None):
    key = (str(path), align)
    if key in product._opened:
        return product._opened[key]
    if not rasterpath.exists(path):
        raise InputError("no such raster", file=str(path))
    try:
        src = rasterio.open(path)
        product._handles.append(src)
    except rasterio.errors.RasterioIOError as exc:
        raise InputError(f"cannot read the raster ({exc})", file=str(path)) from None
    g = Grid.of_dataset(src)
    if target is not None and not g.same_as(target):
        if not align:
            raise InputError(
                f"the raster's grid ({g.describe()}) differs from {product.sources[0]}'s ({target.describe()}); "
                "give rasters on one grid, or set landcover.align = true to resample them to the first (nearest neighbour)",
                file=str(path),
            )
        src = WarpedVRT(
            src,
            crs=target.crs,
            transform=target.transform,
            width=target.width,
            height=target.height,
            resampling=Resampling.nearest,
            nodata=src.nodata if src.nodata is not None else next(iter(lg.nodata_values(nodata)), None),
        )
        product._handles.append(src)
    if src.dtypes[0] not in ("uint8", "int8", "uint16", "int16"):
        raise InputError(
            f"land-cover rasters must hold 8- or 16-bit integer classes, not {src.dtypes[0]}", file=str(path)
        )
    product._opened[key] = src
    return src


def _bits(dtype: str) -> tuple[int, bool]:
    return (8 if dtype in ("uint8", "int8") else 16), dtype.startswith("int")


def _as_unsigned(a: np.ndarray) -> np.ndarray:
    return a.view(np.uint8) if a.dtype == np.int8 else a.view(np.uint16) if a.dtype == np.int16 else a


class MapProduct(Product):
    """Land-cover maps or forest masks: one band per date, reclassified by the legend."""

    bands: list[Band]
    align: bool
    nodata: float | list[float] | None

    def setup(self, bands: list[Band], align: bool, nodata: float | list[float] | None) -> MapProduct:
        self.bands, self.align, self.nodata = bands, align, nodata
        self._luts = {}
        for b in bands:
            src = _open(self, b.path, align, self.grid, nodata)
            if b.band > src.count:
                raise InputError(
                    f"band {b.band} (date {b.date}) asked for, the raster has {src.count}", file=str(b.path)
                )
            bits, signed = _bits(src.dtypes[0])
            nd = ([src.nodata] if src.nodata is not None else []) + lg.nodata_values(nodata)
            self._luts[b.date] = self.legend.lut(bits, signed, nd)
            hidden = self.legend.hidden_by(nd)
            if hidden:
                note = (
                    f"{b.path}: the nodata value(s) {', '.join(f'{v:g}' for v in nd)} are every code of "
                    f"{', '.join(hidden)}: that class disappears from the map (check landcover.nodata)"
                )
                if note not in self.notes:
                    self.notes.append(note)
        return self

    def block_rows(self) -> int:
        src = _open(self, self.bands[0].path, self.align, self.grid, self.nodata)
        return max(1, src.block_shapes[0][0])

    def _raw(self, b: Band, window: Window) -> np.ndarray:
        src = _open(self, b.path, self.align, self.grid, self.nodata)
        return _as_unsigned(src.read(b.band, window=window))

    def read(self, window: Window) -> np.ndarray:
        out = np.empty((len(self.bands), int(window.height), int(window.width)), dtype=np.uint8)
        for i, b in enumerate(self.bands):
            np.take(self._luts[b.date], self._raw(b, window), out=out[i])
        return out

    def unmapped_codes(self, window: Window) -> set[int]:
        found = set()
        for b in self.bands:
            raw = self._raw(b, window)
            bad = self._luts[b.date][raw] == self.legend.unmapped
            if bad.any():
                src = _open(self, b.path, self.align, self.grid, self.nodata)
                vals = np.unique(raw[bad]).astype(np.int64)
                if src.dtypes[0] in ("int8", "int16"):
                    bits = 8 if src.dtypes[0] == "int8" else 16
                    vals = np.where(vals >= 1 << (bits - 1), vals - (1 << bits), vals)
                found |= {int(v) for v in vals}
        return found


class YearlyProduct(Product):
    """One raster expanded into forest / non-forest per year: PRODES classes or a loss-year map.

    Each date has a lookup table indexed by the raw code; a loss-year map first folds the forest at
    the start into the code (``size-2``: not forest at the start, ``size-1``: no data).
    """

    def setup(
        self,
        path: Path,
        band: int,
        luts: dict[str, np.ndarray],
        forest_path: Path | None = None,
        forest_threshold: float = 30.0,
    ) -> YearlyProduct:
        self.path, self.band, self.luts = path, band, luts
        self.forest_path, self.forest_threshold = forest_path, forest_threshold
        src = _open(self, path, False, self.grid, None)
        if src.dtypes[0] not in ("uint8", "uint16"):
            raise InputError(
                f"a {self.kind} raster holds unsigned 8- or 16-bit classes, not {src.dtypes[0]}", file=str(path)
            )
        if band > src.count:
            raise InputError(f"band {band} asked for, the raster has {src.count}", file=str(path))
        self.size = next(iter(luts.values())).size
        if forest_path is not None:
            _open(self, forest_path, False, self.grid, None)
        elif src.nodata is not None and 0 <= src.nodata < self.size:
            for lut in luts.values():
                lut[int(src.nodata)] = self.legend.nodata
        return self

    def block_rows(self) -> int:
        return max(1, _open(self, self.path, False, self.grid, None).block_shapes[0][0])

    def _codes(self, window: Window) -> np.ndarray:
        raw = _open(self, self.path, False, self.grid, None).read(self.band, window=window)
        if self.forest_path is None:
            return raw
        base = _open(self, self.forest_path, False, self.grid, None).read(1, window=window, masked=True)
        forest0 = np.ma.filled(base >= self.forest_threshold, False)
        raw = np.minimum(raw.astype(np.int32), self.size - 3)
        return np.where(np.ma.getmaskarray(base), self.size - 1, np.where(forest0, raw, self.size - 2))

    def read(self, window: Window) -> np.ndarray:
        codes = self._codes(window)
        out = np.empty((len(self.dates), int(window.height), int(window.width)), dtype=np.uint8)
        for i, d in enumerate(self.dates):
            np.take(self.luts[d], codes, out=out[i])
        return out

    def unmapped_codes(self, window: Window) -> set[int]:
        codes = self._codes(window)
        lut = next(iter(self.luts.values()))
        return {int(v) for v in np.unique(codes[lut[codes] == self.legend.unmapped])}


def _prodes_luts(table: pd.DataFrame, dates: list[str], legend: lg.Legend, source: str, size: int) -> dict:
    need = {"value", "kind", "year"}
    if need - set(table.columns):
        raise InputError(
            f"a PRODES legend needs the columns value, label, kind, year; missing {sorted(need - set(table.columns))}",
            file=source,
        )
    f, nf, nd, un = (
        legend.categories.index("forest"),
        legend.categories.index("non_forest"),
        legend.nodata,
        legend.unmapped,
    )
    luts = {}
    for d in dates:
        y = decimal_year(d)
        lut = np.full(size, un, dtype=np.uint8)
        for row in table.itertuples(index=False):
            kind = str(row.kind)
            if not 0 <= int(row.value) < size:
                raise InputError(f"class {row.value} does not fit the raster's data type", file=source, column="value")
            if kind == "forest":
                lut[row.value] = f
            elif kind in ("non_forest", "water"):
                lut[row.value] = nf
            elif kind == "no_data":
                lut[row.value] = nd
            elif kind in ("loss", "residual"):
                lut[row.value] = f if y < float(row.year) else nf
            elif kind == "cloud":
                lut[row.value] = f if y < float(row.year) else nd
            else:
                raise InputError(
                    f"unknown kind {kind!r} (forest, non_forest, water, no_data, loss, residual, cloud)",
                    file=source,
                    column="kind",
                )
        luts[d] = lut
    return luts


def _loss_year_luts(dates: list[str], base_year: int, legend: lg.Legend, size: int) -> dict:
    """Code 0: forest without loss; k: loss in base_year + k; size-2: not forest at the start; size-1: no data."""
    f, nf, nd = legend.categories.index("forest"), legend.categories.index("non_forest"), legend.nodata
    luts = {}
    for d in dates:
        y = decimal_year(d)
        k = np.arange(size - 2)
        lut = np.where((k > 0) & (base_year + k <= y), nf, f).astype(np.uint8)
        luts[d] = np.concatenate([lut, np.array([nf, nd], dtype=np.uint8)])
    return luts


def _fcc_luts(dates: list[str], legend: lg.Legend, size: int) -> dict:
    """Forest cover change in one band (forestatrisk's fcc123 for three dates): code k (1..N-1) is
    forest lost in period k (between dates k and k+1), N forest at the last date, 0 never forest;
    any other code is no data."""
    f, nf, nd = legend.categories.index("forest"), legend.categories.index("non_forest"), legend.nodata
    n = len(dates)
    luts = {}
    for i, d in enumerate(dates):
        lut = np.full(size, nd, dtype=np.uint8)
        lut[0] = nf
        for k in range(1, n + 1):
            lut[k] = f if i < k else nf
        luts[d] = lut
    return luts


def open_product(cfg: LandCoverConfig) -> Product:
    """The configured land-cover product, opened and checked (grids, bands, legend)."""
    if cfg.files:
        bands = [Band(f.date, f.path, f.band) for f in cfg.files]
    elif cfg.path is None:
        raise InputError("landcover needs a path (one raster with a band per date) or files (one raster per date)")
    else:
        bands = [Band(d, cfg.path, b) for d, b in zip(cfg.dates, cfg.bands or range(1, len(cfg.dates) + 1))]
    for b in bands:
        decimal_year(b.date)
    dates = [b.date for b in bands]
    if len(set(dates)) != len(dates):
        raise InputError(f"dates repeat: {dates}")
    if [decimal_year(d) for d in dates] != sorted(decimal_year(d) for d in dates):
        raise InputError(f"dates must be in time order: {dates}")
    first = bands[0].path
    if not rasterpath.exists(first):
        raise InputError("no such raster", file=str(first))
    with rasterio.open(first) as src:
        grid = Grid.of_dataset(src)
    if cfg.type in ("prodes", "loss_year", "fcc"):
        legend = lg.FOREST_MASK
        with rasterio.open(first) as src:
            size = 256 if src.dtypes[0] in ("uint8", "int8") else 65536
        if cfg.type == "prodes":
            source = str(cfg.legend) if cfg.legend else "packaged PRODES legend"
            if cfg.legend:
                if not cfg.legend.exists():
                    raise InputError("no such legend table", file=str(cfg.legend))
                table = pd.read_csv(cfg.legend, comment="#")
            else:
                with resources.files("carbonscope.baseline").joinpath("legends/prodes.csv").open() as fh:
                    table = pd.read_csv(fh, comment="#")
            luts = _prodes_luts(table, cfg.dates, legend, source, size)
        elif cfg.type == "fcc":
            if len(cfg.dates) < 2:
                raise InputError("a forest-cover-change raster needs at least two dates (landcover.dates)")
            luts = _fcc_luts(list(cfg.dates), legend, size)
        else:
            luts = _loss_year_luts(cfg.dates, cfg.loss_base_year, legend, 258)
        yearly = YearlyProduct(legend, list(cfg.dates), grid, (0,), cfg.type, [str(first)])
        return yearly.setup(Path(first), (cfg.bands or [1])[0], luts, cfg.forest_path, cfg.forest_threshold)
    legend = lg.FOREST_MASK if cfg.type == "forest_mask" and cfg.mapping is None else lg.load(cfg.mapping or "esa_cci")
    missing = [c for c in cfg.forest if c not in legend.categories]
    if missing:
        raise InputError(
            f"forest categories {missing} are not in the mapping table ({', '.join(legend.categories)})",
            file=legend.source,
        )
    forest = tuple(legend.categories.index(c) for c in cfg.forest)
    product = MapProduct(legend, dates, grid, forest, cfg.type, [str(b.path) for b in bands])
    return product.setup(bands, cfg.align, cfg.nodata)
