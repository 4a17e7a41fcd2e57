"""A large raster stack made from the real Juupajoki rasters, for the prediction benchmark.

PALSAR-2 HH and HV (25 m) and the land cover (resampled to the same 25 m grid by nearest
neighbour) are mirror-tiled to N x N pixels, window by window (memory stays small whatever N).
Mirroring keeps every neighbourhood real: textures and edges look like Juupajoki's everywhere.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import rasterio
from rasterio.enums import Resampling
from rasterio.transform import from_origin
from rasterio.warp import reproject

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "biomass" / "juupajoki"
OUT = ROOT / "benchmarks" / "out" / "biomass"


def _sources() -> dict[str, np.ndarray]:
    with rasterio.open(DATA / "PALSAR-2_HH_Juupajoki.tif") as src:
        hh, transform, crs = src.read(1), src.transform, src.crs
    with rasterio.open(DATA / "PALSAR-2_HV_Juupajoki.tif") as src:
        hv = src.read(1)
    lc = np.zeros(hh.shape, dtype="uint8")
    with rasterio.open(DATA / "PALSAR-2_LC_Juupajoki.tif") as src:
        reproject(
            src.read(1),
            lc,
            src_transform=src.transform,
            src_crs=src.crs,
            dst_transform=transform,
            dst_crs=crs,
            resampling=Resampling.nearest,
        )
    return {"hh": hh, "hv": hv, "landcover": lc}


def _mirror(idx: np.ndarray, n: int) -> np.ndarray:
    m = idx % (2 * n)
    return np.where(m < n, m, 2 * n - 1 - m)


def build(size: int, window: int = 2048) -> dict[str, Path]:
    """GeoTIFFs of ``size`` x ``size`` pixels (tiled, deflate) in benchmarks/out/biomass/stack-<size>/."""
    folder = OUT / f"stack-{size}"
    paths = {name: folder / f"{name}.tif" for name in ("hh", "hv", "landcover")}
    if all(p.exists() for p in paths.values()):
        return paths
    folder.mkdir(parents=True, exist_ok=True)
    src = _sources()
    h, w = src["hh"].shape
    transform = from_origin(350_000, 6_864_000, 25, 25)
    for name, arr in src.items():
        prof = {
            "driver": "GTiff",
            "width": size,
            "height": size,
            "count": 1,
            "dtype": str(arr.dtype),
            "crs": "EPSG:32635",
            "transform": transform,
            "tiled": True,
            "blockxsize": 512,
            "blockysize": 512,
            "compress": "deflate",
            "BIGTIFF": "YES",
        }
        tmp = paths[name].with_suffix(".tmp.tif")
        with rasterio.open(tmp, "w", **prof) as dst:
            for r0 in range(0, size, window):
                rows = _mirror(np.arange(r0, min(r0 + window, size)), h)
                for c0 in range(0, size, window):
                    cols = _mirror(np.arange(c0, min(c0 + window, size)), w)
                    dst.write(arr[np.ix_(rows, cols)], 1, window=((r0, r0 + len(rows)), (c0, c0 + len(cols))))
        tmp.rename(paths[name])
    return paths


if __name__ == "__main__":
    for n in map(int, sys.argv[1:] or ["10000"]):
        print(build(n))
