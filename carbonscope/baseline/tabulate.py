"""One windowed pass over the land-cover stack: transition areas for pairs of dates, per zone.

For each window the category maps of all dates are read, each zone set is rasterised, and one
``numpy.bincount`` per (pair of dates, zone set) counts the pixels of every (zone, from, to)
combination. Areas per date are the margins of the transitions. Optional AGB maps add area-weighted
sums of AGB and of tCO2e per (zone, from, to). Memory is one window per worker, whatever the raster's
size. Windows run on a thread pool for small rasters and on worker processes for large ones
(rasterisation and lookups hold the GIL); each worker opens its own file handles.
"""

from __future__ import annotations

import functools
import multiprocessing
import threading
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import rasterio
from rasterio.enums import Resampling
from rasterio.vrt import WarpedVRT
from rasterio.windows import Window
from rasterio.windows import transform as window_transform

from carbonscope.baseline import landcover
from carbonscope.baseline.config import LandCoverConfig
from carbonscope.baseline.zones import ZoneSet
from carbonscope.errors import InputError
from carbonscope.geo.areas import row_areas_ha
from carbonscope.ipcc import RootShoot, agb_to_co2e
from carbonscope.progress import NullProgress, Progress

TARGET_PIXELS = 4_000_000
GDAL_CACHE_BYTES = 128 * 2**20  # rasterio passes GDAL_CACHEMAX as bytes; GDAL's default is 5% of RAM
MAX_WINDOW_COLS = 8192  # windows of at most 8,192 columns: memory does not grow with the raster's width
PROCESS_THRESHOLD = 50_000_000  # pixels above which windows go to worker processes


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
    carbon: dict = field(
        default_factory=dict
    )  # (map date, pair) -> key -> (3, zones + 1, K, K): AGB*ha, CO2e*ha, valid ha
    pixels: int = 0
    seconds: float = 0.0
    executor: str = "threads"

    @property
    def K(self) -> int:
        return len(self.categories)

    def matrix(self, key: str | None, zone: int, pair: int) -> np.ndarray:
        return self.trans[key][zone, pair]

    def area(self, key: str | None, zone: int, date: int) -> np.ndarray:
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


@dataclass
class _Spec:
    """Everything a worker needs, picklable for worker processes."""

    lc: LandCoverConfig
    sets: list[ZoneSet]
    maps: list[AgbMap]
    pairs: list[tuple[int, int]]
    K: int
    unmapped: int
    keys: list
    sizes: dict
    map_pairs: list[tuple[int, int]]
    const_area: float | None
    root_shoot: RootShoot | float
    carbon_fraction: float


class _Readers:
    """One call's open files, one set per thread: owned by that call of :func:`tabulate` and closed
    when it ends (two calls in one process, two jobs of a worker, never share or keep them)."""

    def __init__(self, spec: _Spec):
        self.spec, self.local, self.lock = spec, threading.local(), threading.Lock()
        self.opened: list[tuple[Any, list[tuple[Any, Any]]]] = []  # (product, [(source, warped view)])

    def close(self) -> None:
        with self.lock:
            opened, self.opened = self.opened, []
        for product, srcs in opened:
            product.close()
            for src, vrt in srcs:
                vrt.close()
                src.close()


_PROCESS: _Readers | None = None  # in a worker process of the pool: that process's readers (it ends with the pool)


def _init(spec: _Spec) -> None:
    global _PROCESS
    _PROCESS = _Readers(spec)


def _process_window(win: Window):
    assert _PROCESS is not None, "the pool's initializer sets the process's readers"
    return _window(_PROCESS, win)


def _handles(state: _Readers):
    loc, spec = state.local, state.spec
    if not hasattr(loc, "product"):
        product = landcover.open_product(spec.lc)
        g = product.grid
        srcs = []
        for m in spec.maps:
            src = rasterio.open(m.path)
            vrt = WarpedVRT(
                src,
                crs=g.crs,
                transform=g.transform,
                width=g.width,
                height=g.height,
                resampling=Resampling.average,
                src_nodata=src.nodata,
                nodata=np.nan,
                dtype="float32",
            )
            srcs.append((src, vrt))
        loc.product, loc.maps = product, srcs
        with state.lock:
            state.opened.append((product, srcs))
    return loc.product, loc.maps


def _window(state: _Readers, win: Window):
    """Counts (and AGB sums) of one window."""
    spec = state.spec
    with rasterio.Env(GDAL_CACHEMAX=GDAL_CACHE_BYTES):
        product, srcs = _handles(state)
        cats = product.read(win)
        agb = [
            vrt.read(spec.maps[mi].band, window=win).astype(np.float64).ravel() for mi, (src, vrt) in enumerate(srcs)
        ]
    if (cats == spec.unmapped).any():
        return ("unmapped", product.unmapped_codes(win))
    h, w = cats.shape[1:]
    grid, K = product.grid, spec.K
    weights = (
        None
        if spec.const_area is not None
        else np.repeat(row_areas_ha(grid.crs, window_transform(win, grid.transform), h), w)
    )
    zone_ids: list[np.ndarray | None] = [s.rasterize(grid, win).ravel() for s in spec.sets] or [None]
    out_t = {k: np.zeros((spec.sizes[k], len(spec.pairs), K, K)) for k in spec.keys}
    out_c: dict[tuple[int, int], dict] = {}
    for p, (i, j) in enumerate(spec.pairs):
        code = cats[i].ravel().astype(np.uint16) * K + cats[j].ravel()
        for k, z in zip(spec.keys, zone_ids):
            n = spec.sizes[k] * K * K
            idx = code if z is None else z.astype(_index_dtype(n)) * (K * K) + code
            out_t[k][:, p] = np.bincount(idx, weights=weights, minlength=n).reshape(spec.sizes[k], K, K)
            for mi, pp in spec.map_pairs:
                if pp != p:
                    continue
                a = agb[mi]
                valid = np.isfinite(a)
                av = np.where(valid, a, 0.0)
                px = weights if weights is not None else np.full(a.shape, spec.const_area)
                co2e = agb_to_co2e(av, spec.root_shoot, spec.carbon_fraction)
                sums = [
                    np.bincount(idx, weights=av * px, minlength=n),
                    np.bincount(idx, weights=co2e * px, minlength=n),
                    np.bincount(idx, weights=valid * px, minlength=n),
                ]
                out_c.setdefault((mi, p), {})[k] = np.stack(sums).reshape(3, spec.sizes[k], K, K)
    return ("ok", out_t, out_c, h * w)


def tabulate(
    lc: LandCoverConfig,
    sets: list[ZoneSet],
    maps: list[AgbMap] | None = None,
    pairs: list[tuple[int, int]] | None = None,
    workers: int = 2,
    root_shoot: RootShoot | float = 0.0,
    carbon_fraction: float = 0.47,
    progress: Progress | None = None,
    executor: str = "auto",
) -> Tally:
    """Count transitions (and AGB sums) over the whole raster of the product ``lc`` describes.

    ``executor``: ``threads``, ``processes`` or ``auto`` (processes above 50 million pixels).
    """
    maps = maps or []
    with landcover.open_product(lc) as probe:
        grid, K, dates = probe.grid, probe.legend.size, list(probe.dates)
        names, unmapped, source = probe.legend.names, probe.legend.unmapped, probe.legend.source
        rows, first = probe.block_rows(), probe.sources[0]
    pairs = pairs or default_pairs(len(dates))
    for m in maps:
        if m.date not in dates:
            raise InputError(
                f"the AGB map's date {m.date!r} is not a land-cover date ({', '.join(dates)})", file=m.path
            )
    cols = min(grid.width, MAX_WINDOW_COLS)
    rows = max(rows, (TARGET_PIXELS // cols) // rows * rows)
    windows = [
        Window(c, r, min(cols, grid.width - c), min(rows, grid.height - r))
        for r in range(0, grid.height, rows)
        for c in range(0, grid.width, cols)
    ]
    const_area = None if grid.crs.is_geographic else float(row_areas_ha(grid.crs, grid.transform, 1)[0])
    keys: list = [s.name for s in sets] or [None]
    sizes = {s.name: len(s.names) + 1 for s in sets} | {None: 1}
    map_pairs = [
        (mi, p) for mi, m in enumerate(maps) for p, (i, j) in enumerate(pairs) if m.date in (dates[i], dates[j])
    ]
    spec = _Spec(lc, sets, maps, pairs, K, unmapped, keys, sizes, map_pairs, const_area, root_shoot, carbon_fraction)
    if executor == "auto":
        executor = "processes" if workers > 1 and grid.width * grid.height > PROCESS_THRESHOLD else "threads"

    t0 = time.perf_counter()
    trans = {k: np.zeros((sizes[k], len(pairs), K, K)) for k in keys}
    carbon = {(mi, p): {k: np.zeros((3, sizes[k], K, K)) for k in keys} for mi, p in map_pairs}
    pixels = 0
    found: set[int] = set()
    progress = progress or NullProgress()
    task = progress.task("land-cover change (pixels)", total=grid.width * grid.height)
    readers = None
    pool: ProcessPoolExecutor | ThreadPoolExecutor
    if executor == "processes":
        pool = ProcessPoolExecutor(
            max_workers=workers, mp_context=multiprocessing.get_context("fork"), initializer=_init, initargs=(spec,)
        )
        work = _process_window
    else:
        readers = _Readers(spec)
        pool = ThreadPoolExecutor(max_workers=max(1, workers))
        work = functools.partial(_window, readers)
    try:
        with pool:
            for res in pool.map(work, windows):
                if res[0] == "unmapped":
                    found |= res[1]
                    continue
                _, t, c, npx = res
                for k in keys:
                    trans[k] += t[k]
                for key, by in c.items():
                    for k in keys:
                        carbon[key][k] += by[k]
                pixels += npx
                progress.advance(task, npx)
    finally:
        if readers is not None:
            readers.close()
    if found:
        shown = ", ".join(str(v) for v in sorted(found)[:20])
        raise InputError(
            f"classes {shown} occur in the raster but are not in the mapping table {source!r}; "
            "add them to the table (an empty category marks no data)",
            file=first,
        )
    if const_area is not None:  # counts were exact integers so far
        for k in keys:
            trans[k] *= const_area
    if sets:
        trans[None] = trans[sets[0].name].sum(axis=0, keepdims=True)
        for key in carbon:
            carbon[key][None] = carbon[key][sets[0].name].sum(axis=1, keepdims=True)
    carbon_by_date = {(maps[mi].date, p): v for (mi, p), v in carbon.items()}
    return Tally(names, dates, pairs, sets, trans, carbon_by_date, pixels, time.perf_counter() - t0, executor)
