"""One windowed pass over the land-cover stack: transition areas for pairs of dates, per zone.

For each window the category maps of all dates are read, each zone set is rasterised, and one
``numpy.bincount`` per (pair of dates, zone set) counts the pixels of every (zone, from, to)
combination. Areas per date are the margins of the transitions. Optional AGB maps add area-weighted
sums of AGB and of tCO2e per (zone, from, to). Memory is one window per worker, whatever the raster's
size; windows run on a thread pool (rasterio and numpy release the GIL), each thread with its own
file handles.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import rasterio
from rasterio.enums import Resampling
from rasterio.vrt import WarpedVRT
from rasterio.windows import Window

from carbonscope.baseline.landcover import Product
from carbonscope.baseline.zones import ZoneSet
from carbonscope.errors import InputError
from carbonscope.geo.areas import row_areas_ha
from carbonscope.ipcc import RootShoot, agb_to_co2e

TARGET_PIXELS = 4_000_000


@dataclass
class AgbMap:
    """An AGB raster (Mg/ha) for one date, resampled (average) to the land-cover grid on the fly."""

    date: str
    path: str
    band: int = 1
    se_band: int | None = None


@dataclass
class Tally:
    categories: tuple[str, ...]  # legend names incl. no_data, unmapped
    dates: list[str]
    pairs: list[tuple[int, int]]
    sets: list[ZoneSet]
    trans: dict  # key None (whole) or set name -> (zones + 1, pairs, K, K) hectares; zone 0 = outside
    carbon: dict = field(default_factory=dict)  # (map date, pair) -> key -> (3, zones + 1, K, K): AGB*ha, CO2e*ha, valid ha
    pixels: int = 0
    seconds: float = 0.0

    @property
    def K(self) -> int:
        return len(self.categories)

    def matrix(self, key, zone: int, pair: int) -> np.ndarray:
        return self.trans[key][zone, pair]

    def area(self, key, zone: int, date: int) -> np.ndarray:
        """Hectares per category index at one date."""
        for p, (i, j) in enumerate(self.pairs):
            if i == date:
                return self.trans[key][zone, p].sum(axis=1)
            if j == date:
                return self.trans[key][zone, p].sum(axis=0)
        raise KeyError(date)

    def pair_index(self, i: int, j: int) -> int:
        return self.pairs.index((i, j))


def default_pairs(n: int) -> list[tuple[int, int]]:
    """Every pair of dates up to 8 dates; beyond, consecutive dates and first-to-last."""
    if n == 1:
        return [(0, 0)]
    if n <= 8:
        return [(i, j) for i in range(n) for j in range(i + 1, n)]
    return [(i, i + 1) for i in range(n - 1)] + [(0, n - 1)]


def _index_dtype(n: int):
    return np.uint16 if n < 65_536 else np.int32 if n < 2**31 else np.int64


class _Worker:
    """Per-thread file handles: a product and the AGB maps."""

    def __init__(self, factory: Callable[[], Product], maps: list[AgbMap]):
        self.factory, self.maps = factory, maps
        self.local = threading.local()
        self.opened: list = []
        self.lock = threading.Lock()

    def get(self):
        if not hasattr(self.local, "product"):
            product = self.factory()
            srcs = []
            for m in self.maps:
                src = rasterio.open(m.path)
                g = product.grid
                vrt = WarpedVRT(src, crs=g.crs, transform=g.transform, width=g.width, height=g.height, resampling=Resampling.average,
                                src_nodata=src.nodata, nodata=np.nan, dtype="float32")
                srcs.append((src, vrt))
            self.local.product, self.local.maps = product, srcs
            with self.lock:
                self.opened.append((product, srcs))
        return self.local.product, self.local.maps

    def close(self):
        for product, srcs in self.opened:
            product.close()
            for src, vrt in srcs:
                vrt.close()
                src.close()
        self.opened.clear()


def tabulate(factory: Callable[[], Product], sets: list[ZoneSet], maps: list[AgbMap] | None = None,
             pairs: list[tuple[int, int]] | None = None, workers: int = 2, root_shoot: RootShoot | float = 0.0,
             carbon_fraction: float = 0.47, progress=None) -> Tally:
    """Count transitions (and AGB sums) over the whole raster; ``factory`` opens the product."""
    maps = maps or []
    probe = factory()
    try:
        grid, K, dates = probe.grid, probe.legend.size, list(probe.dates)
        names = probe.legend.names
        rows = probe.block_rows()
    finally:
        probe.close()
    pairs = pairs or default_pairs(len(dates))
    for m in maps:
        if m.date not in dates:
            raise InputError(f"the AGB map's date {m.date!r} is not a land-cover date ({', '.join(dates)})", file=m.path)
    rows = max(rows, (TARGET_PIXELS // max(grid.width, 1)) // rows * rows)
    windows = [Window(0, r, grid.width, min(rows, grid.height - r)) for r in range(0, grid.height, rows)]
    geographic = grid.crs.is_geographic
    const_area = None if geographic else float(row_areas_ha(grid.crs, grid.transform, 1)[0])
    keys: list = [s.name for s in sets] or [None]
    sizes = {s.name: len(s.names) + 1 for s in sets} | {None: 1}
    map_pairs = [(mi, p) for mi, m in enumerate(maps) for p, (i, j) in enumerate(pairs) if m.date in (dates[i], dates[j])]
    worker = _Worker(factory, maps)

    def one(win: Window):
        product, srcs = worker.get()
        cats = product.read(win)
        h, w = cats.shape[1:]
        if (cats == probe.legend.unmapped).any():
            return ("unmapped", product.unmapped_codes(win))
        if geographic:
            from rasterio.windows import transform as wt
            weights = np.repeat(row_areas_ha(grid.crs, wt(win, grid.transform), h), w)
        else:
            weights = None
        zone_ids = [s.rasterize(grid, win).ravel() for s in sets] or [None]
        agb = [vrt.read(maps[mi].band, window=win).astype(np.float64).ravel() for mi, (src, vrt) in enumerate(srcs)]
        out_t = {k: np.zeros((sizes[k], len(pairs), K, K)) for k in keys}
        out_c = {}
        for p, (i, j) in enumerate(pairs):
            code = cats[i].ravel().astype(np.uint16) * K + cats[j].ravel()
            for k, z in zip(keys, zone_ids):
                n = sizes[k] * K * K
                idx = code if z is None else z.astype(_index_dtype(n)) * (K * K) + code
                counts = np.bincount(idx, weights=weights, minlength=n)
                out_t[k][:, p] = counts.reshape(sizes[k], K, K)
                for mi, pp in map_pairs:
                    if pp != p:
                        continue
                    a = agb[mi]
                    valid = np.isfinite(a)
                    av = np.where(valid, a, 0.0)
                    area_px = weights if weights is not None else np.full(a.shape, const_area)
                    co2e = agb_to_co2e(av, root_shoot, carbon_fraction)
                    sums = [np.bincount(idx, weights=av * area_px, minlength=n), np.bincount(idx, weights=co2e * area_px, minlength=n),
                            np.bincount(idx, weights=valid * area_px, minlength=n)]
                    out_c.setdefault((mi, p), {})[k] = np.stack(sums).reshape(3, sizes[k], K, K)
        return ("ok", out_t, out_c, h * w)

    t0 = time.perf_counter()
    trans = {k: np.zeros((sizes[k], len(pairs), K, K)) for k in keys}
    carbon = {(mi, p): {k: np.zeros((3, sizes[k], K, K)) for k in keys} for mi, p in map_pairs}
    pixels = 0
    unmapped: set[int] = set()
    try:
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            for res in pool.map(one, windows):
                if res[0] == "unmapped":
                    unmapped |= res[1]
                    continue
                _, t, c, npx = res
                for k in keys:
                    trans[k] += t[k]
                for key, by in c.items():
                    for k in keys:
                        carbon[key][k] += by[k]
                pixels += npx
                if progress is not None:
                    progress(npx)
    finally:
        worker.close()
    if unmapped:
        shown = ", ".join(str(v) for v in sorted(unmapped)[:20])
        raise InputError(f"classes {shown} occur in the raster but are not in the mapping table {probe.legend.source!r}; "
                         "add them to the table (an empty category marks no data)", file=probe.sources[0])
    if const_area is not None:  # counts were exact integers so far
        for k in keys:
            trans[k] *= const_area
    if sets:
        trans[None] = trans[sets[0].name].sum(axis=0, keepdims=True)
        for key in carbon:
            carbon[key][None] = carbon[key][sets[0].name].sum(axis=1, keepdims=True)
    carbon_by_date = {(maps[mi].date, p): v for (mi, p), v in carbon.items()}
    return Tally(names, dates, pairs, sets, trans, carbon_by_date, pixels, time.perf_counter() - t0)
