"""Wall-to-wall maps, window by window: read, features, predict, intervals, write, sum.

Each window is an independent task: the worker reads the layers for the window (plus the halo the
features need), computes the features, predicts the pixels of the domain, adds the conformal
bounds and the area-of-applicability flag, and returns the window's bands with its sums per zone
(area, AGB and BGB in Mg, from each pixel's true area). The caller writes windows into a tiled
GeoTIFF as they arrive and converts it to a Cloud-Optimized GeoTIFF at the end. At most a few
windows are in flight per worker, so memory stays flat whatever the raster size.

Schedulers (all dask): ``sync`` (in process), ``threads`` (one local worker with N threads),
``processes`` (N local single-threaded worker processes), ``distributed`` (an existing cluster at
``address``); ``auto`` picks ``sync`` for small maps and ``processes`` otherwise.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import rasterio
from rasterio.features import geometry_mask
from rasterio.windows import Window
from shapely.geometry.base import BaseGeometry

from carbonscope import recipe
from carbonscope.biomass.aoa import AOA
from carbonscope.biomass.domain import Domain
from carbonscope.biomass.features import FeatureSpec
from carbonscope.biomass.inference import Predictor
from carbonscope.biomass.layers import LayerInfo, LayerReader
from carbonscope.biomass.uncertainty import Conformal
from carbonscope.geo.areas import row_areas_ha
from carbonscope.geo.grid import Grid
from carbonscope.ipcc import RootShoot
from carbonscope.progress import NullProgress, Progress

if TYPE_CHECKING:
    from dask.distributed import LocalCluster

GDAL_CACHE_BYTES = (
    32 * 2**20
)  # per process; rasterio passes GDAL_CACHEMAX to GDAL as bytes (a window's tiles need a few MB)
SMALL_MAP_PIXELS = 4_000_000
AOA_NODATA = 255
log = logging.getLogger(__name__)


@dataclass
class MapJob:
    """Everything a worker needs for a window; picklable."""

    key: str
    infos: list[LayerInfo]
    spec: FeatureSpec
    domain: Domain
    engine: Predictor
    conformal: Conformal | None = None
    aoa: AOA | None = None
    zones: list[tuple[str, BaseGeometry]] = field(default_factory=list)  # (name, geometry in grid CRS)
    root_shoot: RootShoot = field(default_factory=lambda: RootShoot(ratio=0.0))

    @property
    def grid(self) -> Grid:
        return self.domain.grid


def _reader(job: MapJob) -> LayerReader:
    """This thread's reader of the run's layers (owned by the run: released when its map is done)."""

    def make() -> LayerReader:
        with rasterio.Env(GDAL_CACHEMAX=GDAL_CACHE_BYTES):
            return LayerReader(job.infos, job.grid)

    return recipe.PROCESS.get(job.key, "layers", make)


def _release(keys: list[str]) -> None:
    """Close what a run opened in this process: its readers and its loaded model."""
    for key in keys:
        recipe.release(key)


def empty_sums() -> dict:
    """A zone's sums before any pixel: what every map adds up per zone (the stock accounting reads them)."""
    return {
        "pixels": 0,
        "area_ha": 0.0,
        "agb_mg": 0.0,
        "bgb_mg": 0.0,
        "aoa_area_ha": 0.0,
        "agb_mg_in_aoa": 0.0,
        "bgb_mg_in_aoa": 0.0,
    }


def window_features(
    reader: LayerReader, spec: FeatureSpec, domain: Domain, win: Window
) -> tuple[np.ndarray, np.ndarray]:
    """The features of a window's valid pixels, (pixels, features) in C order, and its (h, w) valid mask."""
    arrays = reader.read(win, halo=spec.halo)
    stack = spec.stack(arrays, domain.grid.resolution, crop=spec.halo)
    valid = domain.valid(win, arrays, halo=spec.halo) & ~np.isnan(stack).any(axis=0)
    return stack.reshape(len(stack), -1).T[valid.ravel()], valid  # the one copy the engines take as is


def process_window(job: MapJob, win: Window) -> dict:
    """One window's bands and sums (runs on a worker)."""
    grid = job.grid
    h, w = int(win.height), int(win.width)
    with rasterio.Env(GDAL_CACHEMAX=GDAL_CACHE_BYTES):
        X, valid = window_features(_reader(job), job.spec, job.domain, win)
    agb = np.full((h, w), np.nan, dtype="float32")
    bands = {"agb": agb}
    pred = np.maximum(job.engine.predict(X), 0.0) if len(X) else np.empty(0)
    agb[valid] = pred
    if job.conformal is not None:
        lo = np.full((h, w), np.nan, dtype="float32")
        hi = np.full((h, w), np.nan, dtype="float32")
        lo[valid], hi[valid] = job.conformal.interval(pred)
        bands["lower"], bands["upper"] = lo, hi
    inside = np.ones(len(pred), dtype=bool)
    if job.aoa is not None:
        flag = np.full((h, w), AOA_NODATA, dtype="uint8")
        inside = job.aoa.inside(X) if len(X) else inside
        flag[valid] = inside
        bands["aoa"] = flag
    area = np.broadcast_to(row_areas_ha(grid.crs, grid.window_transform(win), h)[:, None], (h, w))[valid]
    bgb = pred * job.root_shoot(pred)
    sums = {"__domain__": _zone_sums(np.ones(len(pred), bool), area, pred, bgb, inside)}
    if job.zones:
        from shapely.geometry import box

        wb = rasterio.windows.bounds(win, grid.transform)
        wbox = box(*wb)
        for name, geom in job.zones:
            if not geom.intersects(wbox):
                continue
            zmask = geometry_mask([geom], out_shape=(h, w), transform=grid.window_transform(win), invert=True)[valid]
            if zmask.any():
                sums[name] = _zone_sums(zmask, area, pred, bgb, inside)
    return {"window": (int(win.col_off), int(win.row_off), w, h), "bands": bands, "sums": sums}


def _zone_sums(sel, area, agb, bgb, inside) -> dict:
    a = area[sel]
    return {
        "pixels": int(sel.sum()),
        "area_ha": float(a.sum()),
        "agb_mg": float((agb[sel] * a).sum()),
        "bgb_mg": float((bgb[sel] * a).sum()),
        "aoa_area_ha": float(a[inside[sel]].sum()),
        "agb_mg_in_aoa": float((agb[sel] * a)[inside[sel]].sum()),
        "bgb_mg_in_aoa": float((bgb[sel] * a)[inside[sel]].sum()),
    }


@dataclass
class MapResult:
    agb_path: Path
    aoa_path: Path | None
    sums: dict[str, dict]
    pixels: int
    seconds: float
    scheduler: str
    workers: int
    engine: str
    stages: dict[str, float] = field(
        default_factory=dict
    )  # seconds: start (workers), windows (and closing workers), cog (the copy)

    @property
    def pixels_per_s(self) -> float:
        return self.pixels / self.seconds if self.seconds else float("nan")


class _Writer:
    def __init__(self, job: MapJob, out_dir: Path):
        self.grid = job.grid
        self.out_dir = Path(out_dir)
        names = ["agb"] + (["lower", "upper"] if job.conformal is not None else [])
        self.names = names
        self.tmp_agb = self.out_dir / "agb.tmp.tif"
        self.tmp_aoa = self.out_dir / "aoa.tmp.tif" if job.aoa is not None else None
        self.env = rasterio.Env(GDAL_CACHEMAX=GDAL_CACHE_BYTES)
        self.env.__enter__()
        prof = self.grid.profile(count=len(names), dtype="float32", nodata=np.nan)
        prof.update(
            blockxsize=512, blockysize=512, zlevel=1
        )  # scratch: fast compression, the COG copy compresses fully
        self.dst = rasterio.open(self.tmp_agb, "w", **prof)
        for i, n in enumerate(names, 1):
            self.dst.set_band_description(
                i,
                {
                    "agb": "AGB (Mg/ha)",
                    "lower": f"lower bound (Mg/ha, {job.conformal.level:.0%} conformal)" if job.conformal else "",
                    "upper": f"upper bound (Mg/ha, {job.conformal.level:.0%} conformal)" if job.conformal else "",
                }[n],
            )
        self.aoa = None
        if self.tmp_aoa:
            p = self.grid.profile(count=1, dtype="uint8", nodata=AOA_NODATA)
            p.update(blockxsize=512, blockysize=512, zlevel=1)
            self.aoa = rasterio.open(self.tmp_aoa, "w", **p)
            self.aoa.set_band_description(1, "1 inside, 0 outside the area of applicability")

    def write(self, res: dict) -> None:
        col, row, w, h = res["window"]
        win = Window(col, row, w, h)
        for i, n in enumerate(self.names, 1):
            self.dst.write(res["bands"][n], i, window=win)
        if self.aoa is not None:
            self.aoa.write(res["bands"]["aoa"], 1, window=win)

    def finish(self) -> tuple[Path, Path | None]:
        from rasterio.shutil import copy as rio_copy

        self.dst.close()
        if self.aoa is not None:
            self.aoa.close()
        outs: list[Path | None] = []
        for tmp, final in ((self.tmp_agb, self.out_dir / "agb.tif"), (self.tmp_aoa, self.out_dir / "aoa.tif")):
            if tmp is None:
                outs.append(None)
                continue
            # DEFLATE with the floating-point predictor at level 1: a 10,000 x 2,048 AGB map is 83 MB in 1.0 s,
            # against 91 MB in 1.8 s at level 6 without a predictor (any GDAL or libtiff reads it)
            rio_copy(
                tmp,
                final,
                driver="COG",
                COMPRESS="DEFLATE",
                LEVEL=1,
                PREDICTOR="YES",
                BLOCKSIZE=512,
                OVERVIEWS="AUTO",
                NUM_THREADS="ALL_CPUS",
                BIGTIFF="IF_SAFER",
            )
            tmp.unlink()
            outs.append(final)
        self.env.__exit__(None, None, None)
        assert outs[0] is not None  # the AGB map is always written
        return outs[0], outs[1]

    def abort(self) -> None:
        for ds in (self.dst, self.aoa):
            if ds is not None and not ds.closed:
                ds.close()
        for p in (self.tmp_agb, self.tmp_aoa):
            if p is not None and p.exists():
                p.unlink()
        self.env.__exit__(None, None, None)


def _merge(total: dict, part: dict) -> None:
    for zone, s in part.items():
        t = total.setdefault(zone, empty_sums())
        for k, v in s.items():
            t[k] += v


# Two dask defaults cost a tree model much of its speed on a worker, so workers we start change them:
# - the nanny starts workers with MALLOC_TRIM_THRESHOLD_=65536, which turns off glibc's dynamic mmap
#   threshold: every array over 128 KiB is then mapped and unmapped anew, and scikit-learn's forest,
#   which allocates several arrays of the window's size per tree, spends a quarter of its time in page
#   faults (measured: 101,059 against 126,415 px/s on one worker);
# - each worker samples its own call stack every 10 ms for the dashboard's profile: 7% of a worker's
#   time on a forest (2 workers, 10,000 x 2,048 px: 217,200 px/s with it, 233,722 without).
# With no dashboard, the system monitor (CPU, memory, network and disk counters every 0.5 s in every
# worker and the scheduler) runs every 5 s, without disk counters.
WORKER_CONFIG = {
    "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
    "distributed.worker.profile.enabled": False,
    "distributed.admin.system-monitor.interval": "5s",
    "distributed.admin.system-monitor.disk": False,
}


def local_cluster(workers: int, threads_per_worker: int = 1, processes: bool = True) -> LocalCluster:
    """A dask LocalCluster for mapping: quiet, no dashboard, no memory limit, the settings of WORKER_CONFIG."""
    import dask
    from dask.distributed import LocalCluster

    with dask.config.set(WORKER_CONFIG):
        return LocalCluster(
            n_workers=workers,
            threads_per_worker=threads_per_worker,
            processes=processes,
            dashboard_address=None,
            silence_logs=logging.ERROR,
            memory_limit=0,
        )


def _worker_settings() -> dict:
    import os

    import dask

    return {
        "malloc_trim": os.environ.get("MALLOC_TRIM_THRESHOLD_"),
        "profile": bool(dask.config.get("distributed.worker.profile.enabled", True)),
    }


def _warn_slow_workers(client) -> None:
    """Warn when a given cluster's workers run with the dask defaults that slow tree models (see WORKER_CONFIG)."""
    settings = client.run(_worker_settings).values()
    trimmed = sum(s["malloc_trim"] is not None for s in settings)
    profiled = sum(s["profile"] for s in settings)
    if trimmed:
        log.warning(
            "%d dask worker(s) run with MALLOC_TRIM_THRESHOLD_ set, which slows tree models by about a quarter; "
            "start them with the dask setting distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_: null",
            trimmed,
        )
    if profiled:
        log.warning(
            "%d dask worker(s) profile themselves every 10 ms, which slows tree models by about 7%%; "
            "start them with the dask setting distributed.worker.profile.enabled: false",
            profiled,
        )


def _client(scheduler: str, workers: int, address: str | None):
    from dask.distributed import Client

    if scheduler == "distributed":
        if not address:
            raise ValueError("the distributed scheduler needs an address (tcp://host:port)")
        client = Client(address)
        _warn_slow_workers(client)
        return client, None
    processes = scheduler == "processes"
    cluster = local_cluster(workers if processes else 1, 1 if processes else workers, processes)
    return Client(cluster), cluster


def _close(client, cluster) -> tuple[None, None]:
    if client is not None:
        client.close()
    if cluster is not None:
        cluster.close()
    return None, None


def predict_map(
    job: MapJob,
    out_dir: Path,
    *,
    window: int = 1024,
    scheduler: str = "auto",
    workers: int = 2,
    address: str | None = None,
    progress: Progress | None = None,
) -> MapResult:
    """Predict the whole domain into ``out_dir/agb.tif`` (COG: AGB, lower, upper) and ``aoa.tif``."""
    import time

    progress = progress or NullProgress()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    grid = job.grid
    wins = sorted(
        grid.windows(window), key=lambda w: -int(w.width) * int(w.height)
    )  # the smaller edge windows last: a shorter tail
    if scheduler == "auto":
        scheduler = "sync" if grid.width * grid.height <= SMALL_MAP_PIXELS else "processes"
    task = progress.task(
        f"mapping {grid.width} x {grid.height} px ({scheduler}, {workers if scheduler != 'sync' else 1} worker(s), {job.engine.name})",
        total=len(wins),
    )
    writer = _Writer(job, out_dir)
    sums: dict[str, dict] = {}
    stages: dict[str, float] = {}
    t0 = time.perf_counter()
    client = cluster = None
    try:
        if scheduler == "sync":
            for win in wins:
                res = process_window(job, win)
                writer.write(res)
                _merge(sums, res["sums"])
                progress.advance(task)
        else:
            from dask.distributed import as_completed

            client, cluster = _client(scheduler, workers, address)
            stages["start"] = time.perf_counter() - t0
            n_workers = max(1, len(client.scheduler_info()["workers"]))
            threads = sum(w["nthreads"] for w in client.scheduler_info()["workers"].values()) or n_workers
            job_f = client.scatter(job, broadcast=True)
            limit = 2 * threads + 2
            it = iter(wins)
            pending = as_completed()
            for win in it:
                pending.add(client.submit(process_window, job_f, win, pure=False))
                if pending.count() >= limit:
                    break
            for fut in pending:
                res = fut.result()
                fut.release()
                writer.write(res)
                _merge(sums, res["sums"])
                progress.advance(task)
                nxt = next(it, None)
                if nxt is not None:
                    pending.add(client.submit(process_window, job_f, nxt, pure=False))
            workers = n_workers if scheduler != "threads" else threads
            client.run(_release, [job.key, job.engine.cache_key])  # workers that stay keep nothing of this run
            client, cluster = _close(client, cluster)  # workers we started free their memory before the COG copy
            stages["windows"] = time.perf_counter() - t0 - stages["start"]  # and closing the workers
        t_finish = time.perf_counter()
        agb_path, aoa_path = writer.finish()
    except BaseException:
        writer.abort()
        raise
    finally:
        _close(client, cluster)
        _release([job.key, job.engine.cache_key])
    end = time.perf_counter()
    seconds = end - t0
    stages["cog"] = end - t_finish
    stages.setdefault("windows", seconds - stages["cog"])
    return MapResult(
        agb_path,
        aoa_path,
        sums,
        grid.width * grid.height,
        seconds,
        scheduler,
        workers if scheduler != "sync" else 1,
        job.engine.name,
        {k: round(v, 2) for k, v in stages.items()},
    )
