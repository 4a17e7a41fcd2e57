"""Wall-to-wall prediction: pipeline pixels/s against in-memory prediction, engines, memory, dask workers.

    python benchmarks/bench_biomass_predict.py [--size 10000] [--large 20000] [--skip-large]

A 100-tree random forest (the Earth Engine preset) trained on 5,000 pixels of the real Juupajoki
stack, labelled by the Juupajoki run's AGB map, predicts a mirror-tiled stack of PALSAR-2 HH/HV and
land cover with 12 features (4 backscatter, 6 GLCM texture, 2 land-cover indicators). Reported:

- in memory: each engine's pixels/s on a 2,048 x 2,048 block of the same features already in RAM
  (1 and 2 threads) and its largest relative difference from scikit-learn;
- pipeline (read, features, predict, write COG) on a dask.distributed cluster of 2 local workers:
  pixels/s and its share of the best in-memory rate, peak memory of all processes;
- the same on a 1-worker cluster (first 2,500 rows) for the scaling ratio;
- the pipeline on a stack 4 times larger: peak memory must not grow.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.biomass_stack import OUT, build  # noqa: E402
from benchmarks.measure import TreeMemory  # noqa: E402
from carbonscope.biomass import inference, models  # noqa: E402
from carbonscope.biomass.config import FeatureConfig, LayerConfig  # noqa: E402
from carbonscope.biomass.domain import Domain  # noqa: E402
from carbonscope.biomass.features import build as build_features  # noqa: E402
from carbonscope.biomass.grid import Grid  # noqa: E402
from carbonscope.biomass.layers import LayerReader, inspect  # noqa: E402
from carbonscope.biomass.predict import MapJob, predict_map  # noqa: E402
from carbonscope.biomass.sampling import point_features  # noqa: E402

FEATURES = FeatureConfig(sets=["sar", "texture", "landcover"], texture=True, exclude=["lc_2"])


def layers_for(paths: dict) -> list[LayerConfig]:
    return [LayerConfig(name="hh", path=paths["hh"], role="hh"), LayerConfig(name="hv", path=paths["hv"], role="hv"),
            LayerConfig(name="landcover", path=paths["landcover"], role="landcover", kind="categorical", classes=[1, 2, 3])]


def grid_for(size: int, rows: int | None = None) -> Grid:
    rows = rows or size
    return Grid.from_bounds("EPSG:32635", 25.0, (350_000, 6_864_000 - rows * 25, 350_000 + size * 25, 6_864_000))


def train_model(layers, spec, labels_map: Path, seed: int = 0):
    """The Earth Engine preset on 5,000 forest pixels of the original 720 x 720 area, AGB from the run's map."""
    import rasterio

    with rasterio.open(labels_map) as src:
        agb = src.read(1)
    rng = np.random.default_rng(seed)
    ok = np.argwhere(np.isfinite(agb))
    pick = ok[rng.choice(len(ok), 5000, replace=False)]
    g = grid_for(720)
    xs, ys = g.xy(pick[:, 0], pick[:, 1])
    domain = Domain(g)
    with LayerReader(inspect(layers, g), g) as reader:
        X, _ = point_features(reader, spec, domain, xs, ys, np.zeros(len(xs)))
    y = agb[pick[:, 0], pick[:, 1]].astype(float)
    keep = np.isfinite(X).all(1)
    model, params, _ = models.fit(models.resolve(None, "gee"), X[keep], y[keep], seed=seed)
    return model, X[keep]


def in_memory_block(layers, spec, size: int = 2048):
    from rasterio.windows import Window

    g = grid_for(10_000)
    with LayerReader(inspect(layers, g), g) as reader:
        win = Window(3000, 3000, size, size)
        stack = spec.stack(reader.read(win, halo=spec.halo), g.resolution, crop=spec.halo)
    return np.ascontiguousarray(stack.reshape(len(spec.names), -1).T)


def run_pipeline(layers, spec, engine, grid: Grid, workers: int, out: Path) -> dict:
    from dask.distributed import LocalCluster

    job = MapJob(key=f"bench-{grid.width}x{grid.height}-{workers}", infos=inspect(layers, grid), spec=spec, domain=Domain(grid), engine=engine)
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.ERROR,
                      memory_limit=0) as cluster:
        with TreeMemory() as mem:
            res = predict_map(job, out, window=512, scheduler="distributed", address=cluster.scheduler_address)
    return {"pixels": res.pixels, "seconds": res.seconds, "pixels_per_s": res.pixels_per_s, "workers": res.workers, "engine": res.engine,
            "peak_pss_mb": mem.peak_pss_mb, "peak_rss_mb": mem.peak_rss_mb, "map_bytes": res.agb_path.stat().st_size}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=10_000)
    ap.add_argument("--large", type=int, default=20_000)
    ap.add_argument("--skip-large", action="store_true")
    ap.add_argument("--large-rows", type=int, default=None, help="map only the first N rows of the larger stack (full width): memory check in less time")
    ap.add_argument("--only-large", metavar="ENGINE", default=None, help="only the larger stack, with this engine (sklearn, onnx, treelite)")
    ap.add_argument("--labels", type=Path, default=OUT / "juupajoki-run" / "agb.tif", help="AGB map of the Juupajoki run (bench_biomass_run.py writes it)")
    args = ap.parse_args()
    if not args.labels.exists():
        sys.exit(f"{args.labels} is missing: run benchmarks/bench_biomass_run.py first")
    results: dict = {"machine_cores": __import__("os").cpu_count()}
    paths = build(args.size)
    layers = layers_for(paths)
    spec = build_features(layers, FEATURES)
    assert len(spec.names) == 12, spec.names
    results["features"] = list(spec.names)
    model, X_train = train_model(layers, spec, args.labels)
    results["model"] = {"preset": "gee", "training_pixels": len(X_train),
                        "mean_leaves": float(np.mean([t.tree_.n_leaves for t in model.estimators_])),
                        "max_depth": int(max(t.tree_.max_depth for t in model.estimators_))}
    if args.only_large:
        X = in_memory_block(layers, spec, size=256)
        engine = next(e for e in inference.candidates(model, X.shape[1], threads=1) if e.name == args.only_large)
        layers_l = layers_for(build(args.large))
        large = run_pipeline(layers_l, spec.__class__(tuple(layers_l), spec.names, spec.texture_on, spec.texture_range, spec.halo), engine,
                             grid_for(args.large, rows=args.large_rows), 2, OUT / "maps" / f"full-{args.large}")
        large |= {"rows": args.large_rows or args.large, "width": args.large, "engine": engine.name}
        print("pipeline, 4x larger", large, flush=True)
        (OUT / "predict-large.json").write_text(json.dumps(large, indent=2))
        return
    X = in_memory_block(layers, spec)
    mem_rows = []
    for threads in (1, 2):
        for r in inference.compare(model, X, threads=threads, repeat=2):
            mem_rows.append({"engine": r["engine"], "threads": threads, "pixels_per_s": r["pixels_per_s"], "max_rel_diff": r["max_rel_diff"], "matches": r["matches"]})
            print("in memory", mem_rows[-1], flush=True)
    results["in_memory"] = mem_rows
    best1 = max((r for r in mem_rows if r["threads"] == 1 and r["matches"]), key=lambda r: r["pixels_per_s"])
    engine = next(e for e in inference.candidates(model, X.shape[1], threads=1) if e.name == best1["engine"])
    best2 = max((r for r in mem_rows if r["threads"] == 2 and r["engine"] == engine.name), key=lambda r: r["pixels_per_s"])
    results["engine"] = engine.name
    out = OUT / "maps"
    full = run_pipeline(layers, spec, engine, grid_for(args.size), 2, out / f"full-{args.size}")
    full["share_of_in_memory"] = full["pixels_per_s"] / best2["pixels_per_s"]
    results["pipeline_2_workers"] = full
    print("pipeline, 2 workers", full, flush=True)
    part = grid_for(args.size, rows=args.size // 4)
    one = run_pipeline(layers, spec, engine, part, 1, out / "part-1w")
    two = run_pipeline(layers, spec, engine, part, 2, out / "part-2w")
    results["scaling"] = {"rows": part.height, "one_worker": one, "two_workers": two, "speedup": two["pixels_per_s"] / one["pixels_per_s"]}
    print("scaling", results["scaling"], flush=True)
    if not args.skip_large:
        layers_l = layers_for(build(args.large))
        large = run_pipeline(layers_l, spec.__class__(tuple(layers_l), spec.names, spec.texture_on, spec.texture_range, spec.halo), engine,
                             grid_for(args.large, rows=args.large_rows), 2, out / f"full-{args.large}")
        large["rows"] = args.large_rows or args.large
        results["pipeline_large"] = large
        print("pipeline, 4x larger", large, flush=True)
    (OUT / "predict.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    t0 = time.perf_counter()
    main()
    print(f"benchmark took {time.perf_counter() - t0:.0f} s")
