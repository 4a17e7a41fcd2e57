"""One run from a configuration: each step is a function usable on its own from Python.

    cfg = config.load("examples/juupajoki.toml")
    ctx = prepare(cfg)                      # grid, AOI, layers, features
    samples = build_samples(cfg, ctx)       # labels with their features
    validated = validate(cfg, samples, ctx)  # random split, k-fold, spatial CV side by side
    fitted = train_final(cfg, samples, ctx, validated)
    mapped = map_area(cfg, ctx, fitted, out_dir)
    totals = stock_totals(cfg, ctx, mapped, validated)

``run(cfg)`` does all of it and writes the run folder.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
from shapely.geometry.base import BaseGeometry

from carbonscope.biomass import aoa as aoa_mod
from carbonscope.biomass import features, inference, models, validation
from carbonscope.biomass.aoa import AOA
from carbonscope.biomass.config import GridConfig, RunConfig
from carbonscope.biomass.design import sample_design
from carbonscope.biomass.domain import Domain
from carbonscope.biomass.labels import (
    Labels,
    gedi_l4b_labels,
    gedi_labels,
    raster_support_note,
    raster_values,
    read_plots,
)
from carbonscope.biomass.layers import LayerReader, inspect
from carbonscope.biomass.predict import MapJob, MapResult, predict_map
from carbonscope.biomass.sampling import alignment_check, random_points, sample_table
from carbonscope.biomass.stock import account
from carbonscope.biomass.uncertainty import Conformal, calibrate
from carbonscope.errors import InputError
from carbonscope.geo import metric
from carbonscope.geo.grid import Grid
from carbonscope.geo.vector import read_vector
from carbonscope.ipcc import RootShoot
from carbonscope.progress import NullProgress, Progress
from carbonscope.recipe import RunFolder, execute


@dataclass
class Context:
    cfg: RunConfig
    domain: Domain
    infos: list
    spec: features.FeatureSpec
    notes: list[str] = field(default_factory=list)

    @property
    def grid(self) -> Grid:
        return self.domain.grid


def prepare(cfg: RunConfig, workdir: Path | None = None, progress: Progress | None = None) -> Context:
    """Target grid, AOI, layers (STAC layers composited to files first) and the feature spec."""
    domain = Domain.from_config(cfg)
    layers = list(cfg.layers)
    if any(layer.stac for layer in layers):
        from carbonscope.biomass import stac

        layers = stac.materialize(layers, domain.grid, Path(workdir or cfg.output) / "layers", progress=progress)
        cfg = cfg.model_copy(update={"layers": layers})
    infos = inspect(layers, domain.grid)
    spec = features.build(layers, cfg.features)
    return Context(cfg, domain, infos, spec)


def load_labels(cfg: RunConfig, ctx: Context, reader: LayerReader, progress: Progress | None = None) -> Labels:
    lc = cfg.labels
    if lc.type == "plots":
        return read_plots(lc, ctx.grid.crs)
    if lc.type == "gedi_l4a":
        return gedi_labels(lc, ctx.grid.crs)
    if lc.type == "gedi_l4b":
        return gedi_l4b_labels(lc, ctx.grid)
    note = raster_support_note(lc.path, ctx.grid)
    pts = random_points(
        reader,
        ctx.domain,
        cfg.sampling.n,
        seed=cfg.seed,
        min_distance=cfg.sampling.min_distance,
        strata_layer=cfg.sampling.strata_layer if cfg.sampling.method == "stratified" else None,
        progress=progress,
    )
    agb, se = raster_values(lc, ctx.grid, pts.row.to_numpy(), pts.col.to_numpy())
    table = pd.DataFrame({"id": np.arange(len(pts)).astype(str), "x": pts.x, "y": pts.y, "radius": 0.0, "agb": agb})
    if se is not None:
        table["agb_se"] = se
    keep = np.isfinite(table.agb)
    notes = [f"{len(pts)} points drawn ({cfg.sampling.method}) in the domain; labels from {Path(lc.path).name}"]
    if note:
        notes.append(note)
    return Labels(
        table[keep].reset_index(drop=True),
        "raster",
        notes,
        {"no label value (nodata or failed quality)": int((~keep).sum())},
    )


def build_samples(cfg: RunConfig, ctx: Context, progress: Progress | None = None) -> tuple[pd.DataFrame, Labels, dict]:
    with LayerReader(ctx.infos, ctx.grid) as reader:
        labels = load_labels(cfg, ctx, reader, progress)
        samples, dropped = sample_table(labels.table, reader, ctx.spec, ctx.domain, progress)
        if cfg.labels.type != "raster" and len(samples) >= 20:
            check = alignment_check(reader, ctx.spec, ctx.domain, samples)
            if check.get("suspicious"):
                labels.notes.append(
                    f"co-registration: labels correlate with {check['feature']} at r = {check['best_r']:.2f} when moved by "
                    f"dx = {check['best_dx_m']:+g} m, dy = {check['best_dy_m']:+g} m, against r = {check['r_at_zero']:.2f} where they are. "
                    "The rasters and the labels may be misregistered; check them, and if so set the layers' shift. Nothing was moved."
                )
    dropped = {**labels.dropped, **dropped}
    if len(samples) < 10:
        raise InputError(f"only {len(samples)} usable samples (dropped: {dropped}); at least 10 are needed")
    return samples, labels, dropped


@dataclass
class Validated:
    results: dict[str, dict[str, validation.CVResult]]  # model label -> scheme -> result
    main: str
    calibration_scheme: str

    def main_result(self, scheme: str) -> validation.CVResult:
        return self.results[self.main][scheme]


def _label(mc) -> str:
    return mc.preset or mc.type or "rf"


def validate(cfg: RunConfig, samples: pd.DataFrame, ctx: Context, progress: Progress | None = None) -> Validated:
    progress = progress or NullProgress()
    X, y = samples[list(ctx.spec.names)].to_numpy(float), samples.agb.to_numpy(float)
    v = cfg.validation
    schemes: dict[str, dict[str, Any]] = {"split": {"train_fraction": v.random_split}, "kfold": {"k": v.folds}}
    if v.spatial_block:
        mx, my = metric.to_metres(samples.x.to_numpy(), samples.y.to_numpy(), ctx.grid.crs)  # blocks in metres
        schemes["spatial"] = {"k": v.folds, "x": mx, "yc": my, "block": v.spatial_block}
    model_cfgs = [cfg.model, *v.compare]
    task = progress.task("validating", total=len(model_cfgs) * len(schemes))
    results: dict[str, dict] = {}
    for i, mc in enumerate(model_cfgs):
        spec = models.resolve(mc.type, mc.preset, mc.params, mc.grid)
        label = _label(mc) if _label(mc) not in results else f"{_label(mc)}-{i}"
        results[label] = {}
        for scheme, kw in schemes.items():
            results[label][scheme] = validation.cross_validate(
                spec,
                X,
                y,
                scheme=scheme,
                seed=cfg.seed,
                bins=v.bins,
                feature_names=ctx.spec.names,
                importance=v.importance and i == 0 and scheme != "split",
                **kw,
            )
            if scheme == "split" and v.split_repeats > 1:
                results[label][scheme].metrics["repeated"] = _repeated_splits(spec, X, y, cfg, v.split_repeats)
            if scheme == "split" and v.reproduce == "non-nested" and spec.grid:
                results[label][scheme].metrics["non_nested"] = _non_nested(spec, X, y, cfg)
            progress.advance(task)
    main = next(iter(results))
    return Validated(results, main, "spatial" if "spatial" in schemes else "kfold")


def _non_nested(spec: models.ModelSpec, X: np.ndarray, y: np.ndarray, cfg: RunConfig) -> dict:
    """The grid's best setting chosen on the random split's test part and scored on that same part,
    as a published grid that reports its best test score does: optimistic by construction."""
    train, test = validation.random_split(len(y), cfg.validation.random_split, cfg.seed)[0]
    scores = models.grid_scores(spec, X, y, [(train, test)], cfg.seed)
    best, _ = min(scores, key=lambda s: s[1])
    chosen = models.ModelSpec(spec.type, {**spec.params, **best}, {})
    model, _, _ = models.fit(chosen, X[train], y[train], seed=cfg.seed)
    return {
        **validation.metrics(y[test], model.predict(X[test]), cfg.validation.bins),
        "chosen_params": best,
        "optimistic": True,
        "note": f"the best of {spec.n_combinations} settings chosen on the same test plots it is scored on "
        "(not nested): optimistic; the nested result beside it is the honest one",
    }


def _repeated_splits(spec: models.ModelSpec, X: np.ndarray, y: np.ndarray, cfg: RunConfig, repeats: int) -> dict:
    """The random split repeated with ``repeats`` seeds: the spread of its metrics (one split can be lucky)."""
    runs = [
        validation.cross_validate(
            spec, X, y, scheme="split", seed=cfg.seed + k, train_fraction=cfg.validation.random_split
        ).metrics
        for k in range(repeats)
    ]
    out: dict = {"splits": repeats}
    for name in ("rmse", "rrmse", "bias", "r2"):
        vals = np.array([r[name] for r in runs], float)
        out[name] = {
            "mean": float(np.mean(vals)),
            "sd": float(np.std(vals, ddof=1)),
            "min": float(vals.min()),
            "max": float(vals.max()),
        }
    return out


@dataclass
class Fitted:
    model: Any  # a fitted scikit-learn or LightGBM regressor
    params: dict
    grid_table: list | None
    conformal: Conformal | None
    aoa: AOA | None
    engine: inference.Predictor


def train_final(
    cfg: RunConfig, samples: pd.DataFrame, ctx: Context, validated: Validated, progress: Progress | None = None
) -> Fitted:
    X, y = samples[list(ctx.spec.names)].to_numpy(float), samples.agb.to_numpy(float)
    spec = models.resolve(cfg.model.type, cfg.model.preset, cfg.model.params, cfg.model.grid)
    folds = None
    if spec.grid:
        if cfg.validation.spatial_block:
            mx, my = metric.to_metres(samples.x.to_numpy(), samples.y.to_numpy(), ctx.grid.crs)
            folds = validation.group_kfold(validation.spatial_blocks(mx, my, cfg.validation.spatial_block), 3, cfg.seed)
        else:
            folds = validation.kfold(len(y), 3, cfg.seed)
    model, params, table = models.fit(spec, X, y, folds=folds, seed=cfg.seed)
    cal = validated.main_result(validated.calibration_scheme)
    conformal = (
        calibrate(cal.predicted, cal.observed, cfg.predict.level) if cfg.predict.uncertainty == "conformal" else None
    )
    aoa = None
    if cfg.predict.aoa:
        imp = cal.importance or {}
        weights = np.array([max(imp.get(n, 1.0), 0.0) for n in ctx.spec.names]) if imp else None
        fold_of = np.full(len(y), -1)
        fold_of[cal.index] = cal.fold
        aoa = aoa_mod.fit(X, folds=fold_of, importance=weights, seed=cfg.seed)
    sample = X if len(X) >= 2000 else X[np.random.default_rng(cfg.seed).integers(0, len(X), 20000)]
    engine = inference.choose(model, sample, cfg.predict.engine, threads=1)
    return Fitted(model, params, table, conformal, aoa, engine)


def save_model(path: Path, ctx: Context, fitted: Fitted, validated: Validated, samples: pd.DataFrame) -> None:
    """The model with what mapping and stock need later: features, intervals, AOA, held-out residuals."""
    cal = validated.main_result(validated.calibration_scheme)
    joblib.dump(
        {
            "model": fitted.model,
            "features": list(ctx.spec.names),
            "spec": ctx.spec,
            "params": fitted.params,
            "conformal": fitted.conformal,
            "aoa": fitted.aoa,
            "engine": fitted.engine,
            "heldout": pd.DataFrame(
                {
                    "x": samples.x.to_numpy()[cal.index],
                    "y": samples.y.to_numpy()[cal.index],
                    "observed": cal.observed,
                    "predicted": cal.predicted,
                }
            ),
            "heldout_scheme": cal.description,
        },
        path,
    )


def zones(cfg: RunConfig, ctx: Context) -> list[tuple[str, object]]:
    st = cfg.stock
    if not st.polygons:
        return []
    gdf = read_vector(st.polygons, ctx.grid.crs, st.polygon_layer, what="stock polygons")
    if st.polygon_field and st.polygon_field not in gdf.columns:
        raise InputError(
            f"no field {st.polygon_field!r}; fields: {', '.join(c for c in gdf.columns if c != 'geometry')}",
            file=str(st.polygons),
        )
    names = (
        gdf[st.polygon_field].astype(str)
        if st.polygon_field
        else pd.Series([f"polygon {i + 1}" for i in range(len(gdf))])
    )
    return list(zip(names, gdf.geometry))


def map_area(
    cfg: RunConfig, ctx: Context, fitted: Fitted, out_dir: Path, progress: Progress | None = None
) -> MapResult:
    job = MapJob(
        key=f"{cfg.name}:{time.time_ns()}",
        infos=ctx.infos,
        spec=ctx.spec,
        domain=ctx.domain,
        engine=fitted.engine,
        conformal=fitted.conformal,
        aoa=fitted.aoa,
        zones=zones(cfg, ctx),
        root_shoot=RootShoot.parse(cfg.stock.root_shoot, cfg.stock.root_shoot_table),
    )
    p = cfg.predict
    scheduler = "distributed" if p.address else p.scheduler
    return predict_map(
        job, out_dir, window=p.window, scheduler=scheduler, workers=p.workers, address=p.address, progress=progress
    )


def map_dates(
    cfg: RunConfig,
    ctx: Context,
    fitted: Fitted,
    validated: Validated,
    samples: pd.DataFrame,
    out: Path,
    progress: Progress | None = None,
) -> dict:
    """The model trained once, applied to the layers of each of ``cfg.maps``' dates on the same grid:
    ``maps/<date>/agb.tif`` and that date's totals (the interval and area of applicability as the main
    map's; a date's layers far from the training data show as outside the area of applicability)."""
    out_maps: dict = {}
    g = ctx.grid
    fixed = GridConfig(crs=g.crs.to_string(), resolution=g.resolution, bounds=tuple(g.bounds))
    for m in cfg.maps:
        layers = [
            layer.model_copy(update={"path": m.layers[layer.name], "stac": None}) if layer.name in m.layers else layer
            for layer in ctx.cfg.layers
        ]
        cfg_d = ctx.cfg.model_copy(update={"layers": layers, "grid": fixed})
        folder = out / "maps" / m.date
        folder.mkdir(parents=True, exist_ok=True)
        ctx_d = prepare(cfg_d, folder, progress)
        if list(ctx_d.spec.names) != list(ctx.spec.names):
            raise InputError(
                f"maps[{m.date}]: its layers give features {ctx_d.spec.names}, the model's are {ctx.spec.names}"
            )
        mapped = map_area(cfg_d, ctx_d, fitted, folder, progress)
        totals = stock_totals(cfg_d, ctx_d, mapped, validated, samples)
        whole = totals.get("__domain__", {})
        head = whole.get(whole["headline"], whole) if whole.get("headline") else whole
        out_maps[m.date] = {
            "path": mapped.agb_path.name,
            "pixels": mapped.pixels,
            "scope": whole.get("headline") or "the mapped domain",
            "agb_mg": head.get("agb_mg"),
            "co2e_t": head.get("co2e_t"),
            "area_ha": head.get("area_ha"),
        }
    return out_maps


def residuals_by_zone(
    samples: pd.DataFrame, result: validation.CVResult, zone_list: list[tuple[str, BaseGeometry]]
) -> dict[str, np.ndarray]:
    import shapely

    res = result.observed - result.predicted
    out = {"__domain__": res}
    pts = shapely.points(samples.x.to_numpy()[result.index], samples.y.to_numpy()[result.index])
    for name, geom in zone_list:
        inside = shapely.contains(geom, pts)
        out[name] = res[inside]
    return out


def stock_totals(cfg: RunConfig, ctx: Context, mapped: MapResult, validated: Validated, samples: pd.DataFrame) -> dict:
    st = cfg.stock
    rs = RootShoot.parse(st.root_shoot, st.root_shoot_table)
    cal = validated.main_result(validated.calibration_scheme)
    return account(
        mapped.sums,
        residuals_by_zone(samples, cal, zones(cfg, ctx)),
        carbon_fraction=st.carbon_fraction,
        root_shoot_label=rs.label,
        level=cfg.predict.level,
        bootstrap=st.bootstrap,
        price=st.price,
        currency=st.currency,
        seed=cfg.seed,
    )


@dataclass
class RunResult:
    folder: Path
    metrics: dict
    stock: dict
    samples: pd.DataFrame
    map: MapResult
    seconds: float


class BiomassRecipe:
    """The carbon analyst's run on the recipe contract (carbonscope.recipe)."""

    name: str = "biomass"
    keep: tuple[str, ...] = ("layers",)  # STAC composites of the previous run: a new run reads them instead of fetching

    def load(self, path: Path) -> RunConfig:
        from carbonscope.biomass.config import load

        return load(path)

    def output(self, cfg: RunConfig) -> Path:
        return Path(cfg.output)

    def run(self, cfg: RunConfig, folder: RunFolder, progress: Progress) -> RunResult:
        return _run(cfg, folder, progress)

    def moved(self, result: RunResult, folder: RunFolder) -> RunResult:
        m = result.map
        mapped = replace(m, agb_path=folder.final(m.agb_path), aoa_path=m.aoa_path and folder.final(m.aoa_path))
        return replace(result, folder=folder.out, map=mapped)


RECIPE = BiomassRecipe()


def run(cfg: RunConfig, config_path: Path | None = None, progress: Progress | None = None) -> RunResult:
    """The whole chain into the run folder (written whole or not at all): config copy, samples, model,
    metrics.json, stock.json, COG maps, figures and report.html."""
    return execute(RECIPE, cfg, config_path=config_path, progress=progress)


def _run(cfg: RunConfig, folder: RunFolder, progress: Progress) -> RunResult:
    from carbonscope.biomass import report

    t0 = time.perf_counter()
    out = folder.path
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        ctx = prepare(cfg, out, progress)
        cfg = ctx.cfg
        samples, labels, dropped = build_samples(cfg, ctx, progress)
        folder.table("samples", samples)
        validated = validate(cfg, samples, ctx, progress)
        fitted = train_final(cfg, samples, ctx, validated, progress)
        save_model(folder.file("model.joblib"), ctx, fitted, validated, samples)
        mapped = map_area(cfg, ctx, fitted, out, progress)
        totals = stock_totals(cfg, ctx, mapped, validated, samples)
        dated = map_dates(cfg, ctx, fitted, validated, samples, out, progress)
    notes = labels.notes + [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
    whole = totals.get("__domain__", {})
    mx, my = metric.to_metres(samples.x.to_numpy(), samples.y.to_numpy(), ctx.grid.crs)
    design = sample_design(mx, my, whole.get("area_ha", 0.0) * 10_000)
    if "__domain__" in totals:
        totals["__domain__"]["sample_design"] = design
    if "warning" in design:
        notes.append(design["warning"])
    metrics = {
        "name": cfg.name,
        "n_samples": len(samples),
        "dropped": dropped,
        "features": list(ctx.spec.names),
        "label_range": [float(samples.agb.min()), float(samples.agb.max())],
        "model": {
            "type": models.resolve(cfg.model.type, cfg.model.preset).type,
            "preset": cfg.model.preset,
            "params": fitted.params,
            "engine": fitted.engine.name,
            "engine_timings": fitted.engine.timings,
        },
        "validation": {m: {s: r.summary() for s, r in by.items()} for m, by in validated.results.items()},
        "main_model": validated.main,
        "conformal": fitted.conformal.to_dict() if fitted.conformal else None,
        "aoa": fitted.aoa.to_dict() if fitted.aoa else None,
        "map": {
            "path": mapped.agb_path.name,
            "aoa_path": mapped.aoa_path.name if mapped.aoa_path else None,
            "pixels": mapped.pixels,
            "seconds": mapped.seconds,
            "scheduler": mapped.scheduler,
            "workers": mapped.workers,
            "grid": {
                "crs": ctx.grid.crs.to_string(),
                "resolution": ctx.grid.resolution,
                "width": ctx.grid.width,
                "height": ctx.grid.height,
            },
        },
        "notes": notes,
    }
    if dated:
        metrics["maps"] = dated
        folder.json("maps.json", [{"date": d, "path": f"maps/{d}/{v['path']}"} for d, v in dated.items()])
    folder.json("metrics.json", metrics)
    folder.json("stock.json", totals)
    if fitted.grid_table:
        folder.table("grid_search", pd.DataFrame(fitted.grid_table), formats=("csv",))
    report.write(out, cfg, metrics, totals, samples, validated, mapped)
    return RunResult(out, metrics, totals, samples, mapped, time.perf_counter() - t0)
