"""Wall-to-wall prediction: pipeline pixels/s against in-memory prediction, engines, memory, dask workers.

    python benchmarks/bench_biomass_predict.py [--size 10000] [--large 20000] [--skip-large]

A 100-tree random forest (the Earth Engine preset) trained on 5,000 pixels of the real Juupajoki
stack, labelled by the Juupajoki run's AGB map, predicts a mirror-tiled stack of PALSAR-2 HH/HV and
land cover with 12 features (4 backscatter, 6 GLCM texture, 2 land-cover indicators). Reported:

- in memory: each engine's pixels/s on the valid pixels of 16 windows of 512 x 512 spread over the
  raster, features already in RAM (1 and 2 threads), and its largest relative difference from
  scikit-learn; the fastest engine that matches is kept;
- pipeline (read, features, predict, write COG) as ``carbonscope biomass predict`` runs it: 2 local
  dask worker processes started by the pipeline (their start-up counts): pixels/s and its share of
  the kept engine's 2-thread in-memory rate on the same raster (the mean of that rate measured
  before and after the pipeline), peak memory of all processes;
- the first ``--scaling-rows`` rows on 1 and on 2 workers for the scaling ratio;
- each pipeline runs in a fresh process, so its memory is the pipeline's, not this script's;
- the pipeline on a stack 4 times larger (``--large``): its share, and peak memory must not grow.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.biomass_stack import OUT, build  # noqa: E402
from benchmarks.measure import TreeMemory  # noqa: E402
from carbonscope.biomass import inference, models  # noqa: E402
from carbonscope.biomass.config import FeatureConfig, LayerConfig, PredictConfig  # noqa: E402
from carbonscope.biomass.domain import Domain  # noqa: E402
from carbonscope.biomass.features import build as build_features  # noqa: E402
from carbonscope.biomass.layers import LayerReader, inspect  # noqa: E402
from carbonscope.biomass.predict import MapJob, predict_map, window_features  # noqa: E402
from carbonscope.biomass.sampling import point_features  # noqa: E402
from carbonscope.geo.grid import Grid  # noqa: E402

FEATURES = FeatureConfig(sets=["sar", "texture", "landcover"], texture=True, exclude=["lc_2"])


def layers_for(paths: dict) -> list[LayerConfig]:
    return [
        LayerConfig(name="hh", path=paths["hh"], role="hh"),
        LayerConfig(name="hv", path=paths["hv"], role="hv"),
        LayerConfig(name="landcover", path=paths["landcover"], role="landcover", kind="categorical", classes=[1, 2, 3]),
    ]


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


def in_memory_sample(layers, spec, grid: Grid, windows: int = 16, size: int = 512) -> np.ndarray:
    """Features of the valid pixels of ``windows`` windows spread evenly over the raster, in RAM: the same data the pipeline maps."""
    wins = list(grid.windows(size))
    pick = [wins[i] for i in np.linspace(0, len(wins) - 1, min(windows, len(wins))).round().astype(int)]
    domain = Domain(grid)
    with LayerReader(inspect(layers, grid), grid) as reader:
        parts = [window_features(reader, spec, domain, win)[0] for win in pick]
    return np.ascontiguousarray(np.concatenate(parts), dtype=np.float32)


def _pipeline(layers, spec, engine, grid: Grid, workers: int, out: Path) -> dict:
    job = MapJob(
        key=f"bench-{grid.width}x{grid.height}-{workers}",
        infos=inspect(layers, grid),
        spec=spec,
        domain=Domain(grid),
        engine=engine,
    )
    window = PredictConfig().window
    with TreeMemory(interval=2.0) as mem:
        res = predict_map(job, out, window=window, scheduler="processes", workers=workers)
    return {
        "pixels": res.pixels,
        "seconds": res.seconds,
        "pixels_per_s": res.pixels_per_s,
        "workers": res.workers,
        "engine": res.engine,
        "window": window,
        "peak_pss_mb": mem.peak_pss_mb,
        "peak_rss_mb": mem.peak_rss_mb,
        "peak_hwm_mb": mem.peak_hwm_mb,
        "hwm_by_process_mb": mem.hwm_by_process_mb,
        "map_bytes": res.agb_path.stat().st_size,
        "stages_s": res.stages,
    }


def run_pipeline(layers, spec, engine, grid: Grid, workers: int, out: Path) -> dict:
    """The product's pipeline (predict_map with its own local worker processes) in a fresh process.

    A fresh process holds what a user's ``carbonscope biomass predict`` holds (the model, the job), not
    this benchmark's training data and in-memory arrays, so the memory measured (that process and its
    workers) is the pipeline's.
    """
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
        return pool.submit(_pipeline, layers, spec, engine, grid, workers, out).result()


def pipeline_against_memory(layers, spec, model, engine_name: str, grid: Grid, out: Path) -> dict:
    """The 2-worker pipeline's pixels/s and its share of the same engine's 2-thread rate on a sample of the same raster in RAM.

    The in-memory rate is measured before and after the pipeline and the share taken of their mean:
    this VM's speed drifts by several per cent over the minutes a pipeline runs.
    """
    X = in_memory_sample(layers, spec, grid)

    def in_memory() -> float:
        return inference.compare(model, X, threads=2, engines=(engine_name,), repeat=2)[0]["pixels_per_s"]

    before = in_memory()
    engine = inference.candidates(model, len(spec.names), threads=1, engines=(engine_name,))[0]
    res = run_pipeline(layers, spec, engine, grid, 2, out)
    after = in_memory()
    mean = (before + after) / 2
    return res | {
        "in_memory_pixels": len(X),
        "in_memory_pixels_per_s_before": before,
        "in_memory_pixels_per_s_after": after,
        "in_memory_pixels_per_s": mean,
        "share_of_in_memory": res["pixels_per_s"] / mean,
    }


def run_scaling(layers, spec, engine, part: Grid, out: Path) -> dict:
    """The same rows mapped with 1 and with 2 workers (each run starting its own)."""
    one = run_pipeline(layers, spec, engine, part, 1, out / "part-1w")
    two = run_pipeline(layers, spec, engine, part, 2, out / "part-2w")
    return {
        "rows": part.height,
        "one_worker": one,
        "two_workers": two,
        "speedup": two["pixels_per_s"] / one["pixels_per_s"],
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=10_000)
    ap.add_argument("--large", type=int, default=20_000)
    ap.add_argument("--skip-large", action="store_true")
    ap.add_argument(
        "--scaling-rows",
        type=int,
        default=3072,
        help="rows (full width) mapped with 1 and with 2 workers for the scaling ratio",
    )
    ap.add_argument(
        "--large-rows",
        type=int,
        default=None,
        help="map only the first N rows of the larger stack (full width): memory check in less time",
    )
    ap.add_argument(
        "--only-large",
        metavar="ENGINE",
        default=None,
        help="only the larger stack, with this engine (sklearn, onnx, treelite)",
    )
    ap.add_argument(
        "--only-scaling", metavar="ENGINE", default=None, help="only the 1- against 2-worker scaling, with this engine"
    )
    ap.add_argument(
        "--labels",
        type=Path,
        default=OUT / "juupajoki-run" / "agb.tif",
        help="AGB map of the Juupajoki run (bench_biomass_run.py writes it)",
    )
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
    results["model"] = {
        "preset": "gee",
        "training_pixels": len(X_train),
        "mean_leaves": float(np.mean([t.tree_.n_leaves for t in model.estimators_])),
        "max_depth": int(max(t.tree_.max_depth for t in model.estimators_)),
    }
    if args.only_large:
        layers_l = layers_for(build(args.large))
        spec_l = build_features(layers_l, FEATURES)
        large = pipeline_against_memory(
            layers_l,
            spec_l,
            model,
            args.only_large,
            grid_for(args.large, rows=args.large_rows),
            OUT / "maps" / f"full-{args.large}",
        )
        large |= {"rows": args.large_rows or args.large, "width": args.large}
        print("pipeline, 4x larger", large, flush=True)
        (OUT / "predict-large.json").write_text(json.dumps(large, indent=2))
        return
    out = OUT / "maps"
    if args.only_scaling:
        engine = inference.candidates(model, len(spec.names), threads=1, engines=(args.only_scaling,))[0]
        scaling = run_scaling(layers, spec, engine, grid_for(args.size, rows=args.scaling_rows), out)
        print("scaling", scaling, flush=True)
        (OUT / "predict-scaling.json").write_text(json.dumps(scaling, indent=2))
        return
    grid = grid_for(args.size)
    X = in_memory_sample(layers, spec, grid)
    mem_rows = []
    for threads in (1, 2):
        for r in inference.compare(model, X, threads=threads, repeat=1):
            mem_rows.append(
                {
                    "engine": r["engine"],
                    "threads": threads,
                    "pixels_per_s": r["pixels_per_s"],
                    "max_rel_diff": r["max_rel_diff"],
                    "matches": r["matches"],
                }
            )
            print("in memory", mem_rows[-1], flush=True)
    results["in_memory"] = {"pixels": len(X), "engines": mem_rows}
    del X
    best = max((r for r in mem_rows if r["threads"] == 1 and r["matches"]), key=lambda r: r["pixels_per_s"])
    results["engine"] = best["engine"]
    engine = next(e for e in inference.candidates(model, len(spec.names), threads=1) if e.name == best["engine"])
    full = pipeline_against_memory(layers, spec, model, engine.name, grid, out / f"full-{args.size}")
    results["pipeline_2_workers"] = full
    print("pipeline, 2 workers", full, flush=True)
    results["scaling"] = run_scaling(layers, spec, engine, grid_for(args.size, rows=args.scaling_rows), out)
    print("scaling", results["scaling"], flush=True)
    if not args.skip_large:
        layers_l = layers_for(build(args.large))
        large = pipeline_against_memory(
            layers_l,
            build_features(layers_l, FEATURES),
            model,
            engine.name,
            grid_for(args.large, rows=args.large_rows),
            out / f"full-{args.large}",
        )
        large["rows"] = args.large_rows or args.large
        results["pipeline_large"] = large
        print("pipeline, 4x larger", large, flush=True)
    (OUT / "predict.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    t0 = time.perf_counter()
    main()
    print(f"benchmark took {time.perf_counter() - t0:.0f} s")
