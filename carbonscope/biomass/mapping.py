"""Maps and totals from a saved model or an existing biomass raster (``biomass predict`` and ``biomass stock``)."""

from __future__ import annotations

import time
from pathlib import Path

import joblib
import numpy as np
import rasterio
from shapely.geometry.base import BaseGeometry

from carbonscope.biomass.config import RunConfig
from carbonscope.biomass.predict import MapJob, MapResult, empty_sums, predict_map
from carbonscope.biomass.stock import account
from carbonscope.errors import InputError
from carbonscope.geo.areas import row_areas_ha
from carbonscope.geo.grid import Grid
from carbonscope.geo.vector import read_vector
from carbonscope.ipcc import RootShoot
from carbonscope.progress import Progress


def load_bundle(path: Path) -> dict:
    path = Path(path)
    if not path.exists():
        raise InputError("no such model file", file=str(path))
    try:
        bundle = joblib.load(path)
    except Exception as exc:  # unpickling errors come in many types
        raise InputError(f"not a CarbonScope model ({exc})", file=str(path)) from exc
    if not isinstance(bundle, dict) or "model" not in bundle or "features" not in bundle:
        raise InputError("not a CarbonScope model (expected the model.joblib of a run)", file=str(path))
    return bundle


def map_with_saved_model(
    cfg: RunConfig,
    model_path: Path,
    out: Path,
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    address: str | None = None,
    progress: Progress | None = None,
) -> MapResult:
    from carbonscope.biomass import inference
    from carbonscope.biomass.run import prepare, zones

    bundle = load_bundle(model_path)
    ctx = prepare(cfg, Path(out), progress)
    if list(ctx.spec.names) != list(bundle["features"]):
        raise InputError(
            f"the configuration gives features {list(ctx.spec.names)}, the model was trained on {bundle['features']}",
            file=str(model_path),
        )
    engine = bundle.get("engine") or inference.choose(
        bundle["model"], np.zeros((10, len(bundle["features"])), dtype="float32"), "sklearn"
    )
    job = MapJob(
        key=f"{cfg.name}:{time.time_ns()}",
        infos=ctx.infos,
        spec=ctx.spec,
        domain=ctx.domain,
        engine=engine,
        conformal=bundle.get("conformal"),
        aoa=bundle.get("aoa"),
        zones=zones(ctx.cfg, ctx),
        root_shoot=RootShoot.parse(cfg.stock.root_shoot, cfg.stock.root_shoot_table),
    )
    p = cfg.predict
    sched = scheduler or ("distributed" if (address or p.address) else p.scheduler)
    return predict_map(
        job,
        Path(out),
        window=p.window,
        scheduler=sched,
        workers=workers or p.workers,
        address=address or p.address,
        progress=progress,
    )


def raster_sums(
    path: Path, zones: list[tuple[str, BaseGeometry]], root_shoot: RootShoot, window: int = 1024
) -> tuple[dict[str, dict], Grid]:
    """Area-weighted AGB and BGB sums of a biomass raster (Mg/ha), over valid pixels, whole and per zone."""
    from rasterio.features import geometry_mask
    from shapely.geometry import box

    path = Path(path)
    if not path.exists():
        raise InputError("no such raster", file=str(path))
    with rasterio.open(path) as src:
        if src.crs is None:
            raise InputError("the raster has no CRS", file=str(path))
        grid = Grid.of_raster(path)
        sums: dict[str, dict] = {}
        for win in grid.windows(window):
            a = np.ma.filled(src.read(1, window=win, masked=True).astype("float64"), np.nan)
            valid = np.isfinite(a)
            if not valid.any():
                continue
            h, w = a.shape
            area = np.broadcast_to(row_areas_ha(grid.crs, grid.window_transform(win), h)[:, None], (h, w))
            parts = {"__domain__": valid}
            wbox = box(*rasterio.windows.bounds(win, grid.transform))
            for name, geom in zones:
                if geom.intersects(wbox):
                    parts[name] = valid & geometry_mask(
                        [geom], out_shape=(h, w), transform=grid.window_transform(win), invert=True
                    )
            for name, m in parts.items():
                agb = a[m]
                s = sums.setdefault(name, empty_sums())
                s["pixels"] += int(m.sum())
                s["area_ha"] += float(area[m].sum())
                s["agb_mg"] += float((agb * area[m]).sum())
                s["bgb_mg"] += float((agb * root_shoot(agb) * area[m]).sum())
                s["aoa_area_ha"] += float(area[m].sum())
                s["agb_mg_in_aoa"] += float((agb * area[m]).sum())
                s["bgb_mg_in_aoa"] += float((agb * root_shoot(agb) * area[m]).sum())
    return sums, grid


def stock_of_raster(
    agb_path: Path,
    *,
    polygons: Path | None = None,
    field: str | None = None,
    model: Path | None = None,
    root_shoot: float | str = 0.24,
    carbon_fraction: float = 0.47,
    price: float | None = None,
    level: float = 0.9,
) -> dict:
    import pandas as pd
    import shapely

    with rasterio.open(agb_path) as src:
        crs = src.crs
    zone_list = []
    if polygons:
        gdf = read_vector(polygons, crs, what="polygons")
        if field and field not in gdf.columns:
            raise InputError(f"no field {field!r}", file=str(polygons))
        names = gdf[field].astype(str) if field else pd.Series([f"polygon {i + 1}" for i in range(len(gdf))])
        zone_list = list(zip(names, gdf.geometry))
    rs = RootShoot.parse(root_shoot)
    sums, _ = raster_sums(agb_path, zone_list, rs)
    if not sums:
        raise InputError(
            "the raster has no valid pixels" + (" inside the polygons" if polygons else ""), file=str(agb_path)
        )
    residuals = None
    if model:
        held = load_bundle(model).get("heldout")
        if held is not None:
            res = (held.observed - held.predicted).to_numpy()
            residuals = {"__domain__": res}
            if "x" in held:
                pts = shapely.points(held.x.to_numpy(), held.y.to_numpy())
                for name, geom in zone_list:
                    residuals[name] = res[shapely.contains(geom, pts)]
    return account(
        sums, residuals, carbon_fraction=carbon_fraction, root_shoot_label=rs.label, level=level, price=price
    )
