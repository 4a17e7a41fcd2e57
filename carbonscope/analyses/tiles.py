"""Map tiles (web mercator PNG) cut from a result's COG with rio-tiler: the AGB map in a colour
ramp with its legend range, and the area-of-applicability mask as a grey veil outside it."""

from __future__ import annotations

import os
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from cachetools import LRUCache

RAMP = "viridis"


@lru_cache(maxsize=64)
def _range(path: str, mtime: float) -> tuple[float, float]:
    """The legend's range: 0 to the 98th percentile of the map (one read of its overview)."""
    from rio_tiler.io import Reader

    with Reader(path) as r:
        stats = r.statistics(indexes=1, percentiles=[98], max_size=512)
    s = next(iter(stats.values()))
    return 0.0, float(s.percentile_98 if hasattr(s, "percentile_98") else s["percentile_98"])


def legend(path: Path) -> dict:
    lo, hi = _range(str(path), path.stat().st_mtime)
    return {"min": lo, "max": hi, "ramp": RAMP, "unit": "t/ha"}


def colours(n: int = 6) -> list[str]:
    """The ramp's colours at ``n`` even steps, for the legend."""
    from rio_tiler.colormap import cmap

    cm = cmap.get(RAMP)
    out = []
    for i in range(n):
        rgba: Any = cm[int(i * 255 / (n - 1))]
        r, g, b = int(rgba[0]), int(rgba[1]), int(rgba[2])
        out.append(f"#{r:02x}{g:02x}{b:02x}")
    return out


def _blank() -> bytes:
    from rio_tiler.models import ImageData

    return ImageData(np.zeros((4, 256, 256), dtype="uint8")).render(img_format="PNG", add_mask=False)


# Rendered tiles: in memory (by file, its modification time, kind and position; bounded by bytes),
# and on disk beside the result (``disk``), which every worker process of the site shares. A
# result's files do not change once written, and a map is viewed tile by tile by many people.
_CACHE: LRUCache = LRUCache(maxsize=64 * 1024 * 1024, getsizeof=len)
_LOCK = threading.Lock()


def _key(path: Path, kind: str, z: int, x: int, y: int) -> tuple:
    return (str(path), path.stat().st_mtime_ns, kind, z, x, y)


def _disk_file(disk: Path, path: Path, kind: str, z: int, x: int, y: int) -> Path:
    return disk / f"{path.stem}-{path.stat().st_mtime_ns}" / kind / str(z) / str(x) / f"{y}.png"


def cached(path: Path, kind: str, z: int, x: int, y: int, disk: Path | None = None) -> bytes | None:
    """The tile if it was rendered before, by this process or another (no raster read), else None."""
    key = _key(path, kind, z, x, y)
    with _LOCK:
        hit = _CACHE.get(key)
    if hit is None and disk is not None:
        f = _disk_file(disk, path, kind, z, x, y)
        if f.exists():
            hit = f.read_bytes()
            with _LOCK:
                _CACHE[key] = hit
    return hit


def tile(path: Path, kind: str, z: int, x: int, y: int, disk: Path | None = None) -> bytes:
    """One 256 px PNG tile of ``kind`` ('agb' or 'aoa'); transparent where the map has no data."""
    hit = cached(path, kind, z, x, y, disk)
    if hit is not None:
        return hit
    png = _render(path, kind, z, x, y)
    with _LOCK:
        _CACHE[_key(path, kind, z, x, y)] = png
    if disk is not None:
        f = _disk_file(disk, path, kind, z, x, y)
        f.parent.mkdir(parents=True, exist_ok=True)
        tmp = f.with_suffix(f".{os.getpid()}.{threading.get_ident()}.part")
        tmp.write_bytes(png)
        os.replace(tmp, f)  # whole or not at all: another process reads either nothing or the tile
    return png


def _render(path: Path, kind: str, z: int, x: int, y: int) -> bytes:
    from rio_tiler.colormap import cmap
    from rio_tiler.io import Reader

    with Reader(str(path)) as r:
        if not r.tile_exists(x, y, z):
            return _blank()
        img = r.tile(x, y, z, tilesize=256, indexes=1)
    if kind == "aoa":
        from rio_tiler.models import ImageData

        arr = np.ma.asarray(img.array[0])
        outside = ~np.ma.getmaskarray(arr) & (arr.filled(1) == 0)  # 0: outside the area of applicability
        rgba = np.zeros((4, *outside.shape), dtype="uint8")
        rgba[:3, outside] = 40
        rgba[3, outside] = 170  # a grey veil outside, clear inside and where the map has no data
        return ImageData(rgba).render(img_format="PNG", add_mask=False)
    lo, hi = _range(str(path), path.stat().st_mtime)
    img.rescale(in_range=((lo, hi or 1.0),))
    return img.render(img_format="PNG", colormap=cmap.get(RAMP))
