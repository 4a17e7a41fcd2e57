"""REDD+ baseline engine: the Martinique example end to end, and a 20,000 x 20,000 land-cover pair.

    python benchmarks/bench_baseline.py [--size 20000] [--workers 2]

1. ``carbonscope baseline run examples/martinique.toml`` (change, zones, carbon, fits, risk-map
   allocation, crediting, Monte Carlo, figures, report): wall time of the command, imports included.
2. Two forest/non-forest rasters of size x size pixels (30 m, tiled, deflate), built by tiling the real
   Martinique 2000 and 2020 bands, with the four arrondissements copied into every tile as zones
   (the copies that lie wholly inside: 360 polygons at 20,000 px): the transition matrix and the zonal areas in one pass. Reported:
   pixels per second and the peak memory (PSS, sampled) of the process.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.measure import TreeMemory  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "redd" / "martinique"
OUT = ROOT / "benchmarks" / "out" / "baseline"


def build(size: int) -> tuple[Path, Path, Path]:
    """Two tiled copies of the real Martinique bands (2000, 2020) and zones repeated per tile."""
    import geopandas as gpd
    import rasterio
    from affine import Affine
    from shapely.affinity import translate

    OUT.mkdir(parents=True, exist_ok=True)
    paths = [OUT / f"forest-2000-{size}.tif", OUT / f"forest-2020-{size}.tif"]
    zones_path = OUT / f"zones-{size}.gpkg"
    with rasterio.open(DATA / "forest-MTQ-2000-2010-2020.tif") as src:
        bands = {1: src.read(1), 3: src.read(3)}
        t, crs, h, w = src.transform, src.crs, src.height, src.width
    transform = Affine(30, 0, t.c, 0, -30, t.f)
    if not all(p.exists() for p in paths):
        profile = dict(
            driver="GTiff",
            width=size,
            height=size,
            count=1,
            dtype="int8",
            crs=crs,
            transform=transform,
            tiled=True,
            blockxsize=512,
            blockysize=512,
            compress="deflate",
        )
        cols = np.arange(size) % w
        for band, path in zip((1, 3), paths):
            tmp = path.with_suffix(".partial.tif")
            with rasterio.open(tmp, "w", **profile) as dst:
                for r0 in range(0, size, 512):
                    rows = np.arange(r0, min(r0 + 512, size)) % h
                    dst.write(bands[band][rows][:, cols], 1, window=((r0, r0 + len(rows)), (0, size)))
            tmp.rename(path)
    if not zones_path.exists():
        subj = gpd.read_file(DATA / "aoi-MTQ-latlon.gpkg", layer="subj").to_crs(crs)
        from shapely.geometry import box

        extent = box(transform.c, transform.f - 30 * size, transform.c + 30 * size, transform.f)
        names, geoms = [], []
        for ty in range(int(np.ceil(size / h))):
            for tx in range(int(np.ceil(size / w))):
                for n, g in zip(subj.NAME_1, subj.geometry):
                    moved = translate(g, tx * w * 30, -ty * h * 30)
                    if moved.within(extent):
                        names.append(f"{n} {ty},{tx}")
                        geoms.append(moved)
        gpd.GeoDataFrame({"name": names}, geometry=geoms, crs=crs).to_file(zones_path)
    return paths[0], paths[1], zones_path


def martinique() -> dict:
    t0 = time.perf_counter()
    proc = subprocess.run(
        [
            str(ROOT / ".venv" / "bin" / "carbonscope"),
            "baseline",
            "run",
            str(ROOT / "examples" / "martinique.toml"),
            "--output",
            str(OUT / "martinique"),
            "--json",
        ],
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - t0
    if proc.returncode:
        sys.exit(proc.stderr)
    res = json.loads(proc.stdout)
    return {
        "wall_s": wall,
        "in_process_s": res["timing_s"],
        "forest_2020_ha": res["areas_ha"]["2020"]["forest"],
        "deforestation_ha": res["deforestation_ha"],
        "target_s": 20,
    }


def large(size: int, workers: int) -> dict:
    from carbonscope.baseline import landcover, zones
    from carbonscope.baseline.change import Change
    from carbonscope.baseline.config import DateFile, LandCoverConfig, ZoneConfig
    from carbonscope.baseline.tabulate import tabulate

    a, b, zpath = build(size)
    lc = LandCoverConfig(type="forest_mask", files=[DateFile(date="2000", path=a), DateFile(date="2020", path=b)])
    with landcover.open_product(lc) as p:
        grid, forest = p.grid, p.forest
    zs = zones.load(ZoneConfig(name="arrondissements", path=zpath, field="name"), grid)
    runs = []
    for _ in range(2):
        with TreeMemory(interval=0.1) as mem:
            t0 = time.perf_counter()
            tally = tabulate(lc, [zs], workers=workers)
            secs = time.perf_counter() - t0
        runs.append(
            {
                "seconds": secs,
                "mpx_per_s": tally.pixels / secs / 1e6,
                "peak_pss_mb": mem.peak_pss_mb,
                "peak_rss_mb": mem.peak_rss_mb,
            }
        )
        print("large pair", runs[-1], flush=True)
    ch = Change(tally, forest)
    best = max(runs, key=lambda r: r["mpx_per_s"])
    return {
        "size": size,
        "pixels": tally.pixels,
        "zones": len(zs.names),
        "workers": workers,
        "runs": runs,
        "mpx_per_s": best["mpx_per_s"],
        "peak_pss_mb": max(r["peak_pss_mb"] for r in runs),
        "deforestation_ha": ch.deforestation()["2000/2020"],
        "targets": {"mpx_per_s": 50, "peak_mb": 1536},
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=20_000)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    results = {"martinique": martinique()}
    print("martinique", results["martinique"], flush=True)
    results["large_pair"] = large(args.size, args.workers)
    (OUT / "results.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
