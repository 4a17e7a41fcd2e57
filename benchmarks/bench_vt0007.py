"""VT0007's benchmark risk map on Martinique: CarbonScope against riskmapjnr, side by side.

    python benchmarks/bench_vt0007.py

riskmapjnr (PyPI, the deforisk QGIS plugin's engine) needs GDAL's Python bindings, which have no
wheel: ``apt-get install libgdal-dev`` then ``pip install "gdal==$(gdal-config --version)"`` and
``pip install --no-deps riskmapjnr`` (its other needs are already CarbonScope's). Without them the
riskmapjnr half is skipped and said so.

Both compute the benchmark on the historical period 2000-2020 (distance to the forest edge in 2000,
the 99.5% threshold, 29 geometric bins plus one class beyond, by arrondissement) and apply it to the
forest of 2020; the project's share is its pixels' deforestation density over the jurisdiction's.
Prints both shares, CarbonScope's confirmation wRMSE, and the times.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
MTQ = ROOT.parent / "shared" / "data" / "redd" / "martinique"
FOREST = MTQ / "forest-MTQ-2000-2010-2020.tif"


def carbonscope_run() -> dict:
    from carbonscope.baseline import allocate, config
    from carbonscope.baseline.run import run

    step = {}
    inner = allocate.vt0007

    def timed(*args, **kw):  # the VT0007 step's own time, inside the whole baseline run
        t = time.perf_counter()
        try:
            return inner(*args, **kw)
        finally:
            step["seconds"] = time.perf_counter() - t

    allocate.vt0007 = timed

    out = Path(tempfile.mkdtemp()) / "run"
    cfg = config.load(ROOT / "examples" / "martinique.toml").model_copy(update={"output": out})
    t0 = time.perf_counter()
    r = run(cfg)
    seconds = time.perf_counter() - t0
    v = r.results["allocation"]["vt0007"]
    allocate.vt0007 = inner
    return {"share": v["project_share"]["benchmark"], "seconds_whole_baseline_run": seconds, "vt0007": v, **step}


def riskmapjnr_run() -> dict | None:
    try:
        import riskmapjnr as rmj
        from osgeo import gdal  # noqa: F401
    except ImportError as exc:
        return {"skipped": f"riskmapjnr is not importable ({exc}); see the module's docstring"}
    from osgeo import gdal

    if not hasattr(gdal.Dataset, "__enter__"):  # riskmapjnr 1.3 opens datasets with `with` (GDAL >= 3.8)
        gdal.Dataset.__enter__ = lambda self: self
        gdal.Dataset.__exit__ = lambda self, *exc: None
    import geopandas as gpd
    import rasterio
    from rasterio.features import geometry_mask

    work = Path(tempfile.mkdtemp())
    with rasterio.open(FOREST) as src:
        f = src.read()
        prof = {**src.profile, "count": 1, "dtype": "uint8", "nodata": 0, "compress": "deflate"}
        transform, crs, shape = src.transform, src.crs, (src.height, src.width)
    fcc = np.select([(f[0] == 1) & (f[1] == 0), (f[1] == 1) & (f[2] == 0), f[2] == 1], [1, 2, 3], 0).astype("uint8")
    paths = {k: str(work / f"{k}.tif") for k in ("fcc", "forest2000", "forest2020", "subj", "dist2000", "dist2020")}
    for key, arr in (("fcc", fcc), ("forest2000", (fcc > 0)), ("forest2020", (fcc == 3))):
        with rasterio.open(paths[key], "w", **prof) as dst:
            dst.write(arr.astype("uint8"), 1)
    subj = gpd.read_file(MTQ / "aoi-MTQ-latlon.gpkg", layer="subj").to_crs(crs)
    subj["id"] = np.arange(1, len(subj) + 1)
    subj[["id", "geometry"]].to_file(work / "subj.gpkg")
    proj = gpd.read_file(MTQ / "project_borders_MTQ_jurisdiction.gpkg").to_crs(crs)
    project = ~geometry_mask(list(proj.geometry), out_shape=shape, transform=transform)

    t0 = time.perf_counter()
    rmj.benchmark.rasterize_subjurisdictions(str(work / "subj.gpkg"), paths["fcc"], paths["subj"])
    # historical period: deforestation of both periods, distance to the edge of 2000 (riskmapjnr 1.3.2's
    # own call passes values=0 where its dist_values needs a list: the distance is made first)
    rmj.dist_values(paths["fcc"], paths["dist2000"], values=[0], verbose=False)
    d = rmj.dist_edge_threshold(
        paths["fcc"],
        defor_values=[1, 2],
        dist_file=paths["dist2000"],
        tab_file_dist=str(work / "perc_dist.csv"),
        fig_file_dist=str(work / "perc_dist.png"),
        dist_file_available=True,
        verbose=False,
    )
    bins = rmj.benchmark.compute_dist_bins(paths["dist2000"], d["dist_thresh"])
    rmj.benchmark.vulnerability_map(
        paths["forest2000"], paths["dist2000"], bins, paths["subj"], str(work / "vul2000.tif"), verbose=False
    )
    rmj.benchmark.defrate_per_class(
        paths["fcc"],
        str(work / "vul2000.tif"),
        20,
        period="historical",
        tab_file_defrate=str(work / "hist.csv"),
        verbose=False,
    )
    # forecast: the classes on the forest of 2020 (its own distance to the edge), the historical rates
    dist_forecast = work / "forecast_input.tif"
    with rasterio.open(dist_forecast, "w", **{**prof, "nodata": None}) as dst:  # forest of 2020: 1, else 0
        dst.write((fcc == 3).astype("uint8"), 1)
    rmj.dist_values(str(dist_forecast), paths["dist2020"], values=[0], verbose=False)
    rmj.benchmark.vulnerability_map(
        paths["forest2020"], paths["dist2020"], bins, paths["subj"], str(work / "vul2020.tif"), verbose=False
    )
    seconds = time.perf_counter() - t0
    import pandas as pd

    table = pd.read_csv(work / "hist.csv")
    dens = dict(zip(table["cat"], table["defor_dens"], strict=True))
    with rasterio.open(work / "vul2020.tif") as src:
        cat = src.read(1)
    values, counts = np.unique(cat[cat > 0], return_counts=True)
    total = float(sum(dens.get(v, 0.0) * n for v, n in zip(values, counts, strict=True)))
    pv, pc = np.unique(cat[(cat > 0) & project], return_counts=True)
    in_project = float(sum(dens.get(v, 0.0) * n for v, n in zip(pv, pc, strict=True)))
    return {"share": in_project / total, "seconds": seconds, "distance_threshold_m": float(d["dist_thresh"])}


def main() -> None:
    cs = carbonscope_run()
    rj = riskmapjnr_run()
    v = cs["vt0007"]
    print(
        json.dumps(
            {
                "carbonscope": {
                    "project_share_benchmark": cs["share"],
                    "distance_threshold_m": v["final_distance_threshold_m"],
                    "confirmation_wrmse_ha": v["wrmse_ha"],
                    "chosen": v["chosen"],
                    "historical_share": v["historical_share"],
                    "seconds_vt0007_step": cs["seconds"],
                    "seconds_whole_baseline_run": cs["seconds_whole_baseline_run"],
                },
                "riskmapjnr": rj,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    sys.exit(main())
