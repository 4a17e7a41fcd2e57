"""``forest-carbon``: the carbon analyst on a boundary: layers by role, field plots (or a biomass
map) as labels, a model with honest validation, an AGB map with its interval and area of
applicability, and the stock in t AGB, tC and tCO2e with 90% intervals and its value."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from carbonscope.analyses.recipes.base import (
    Params,
    Plan,
    cells_checked,
    parse_params,
    resolve_layers,
    with_tiles,
    write_geojson,
)
from carbonscope.analyses.sources import Source
from carbonscope.errors import InvalidField
from carbonscope.progress import Progress
from carbonscope.settings import Settings

PREDICTORS = (
    "hh",
    "hv",
    "vv",
    "vh",
    "coastal",
    "blue",
    "green",
    "red",
    "nir",
    "swir1",
    "swir2",
    "rededge1",
    "rededge2",
    "rededge3",
    "elevation",
)


class ForestCarbonParams(Params):
    model: Literal["gee", "published-knn", "lgbm-default"] = Field(
        "gee", description="the model preset: Earth Engine's random forest, kNN, or LightGBM"
    )
    texture: bool = Field(False, description="add radar texture (GLCM) features")
    plot_radius: float | None = Field(None, gt=0, le=200, description="plots: the radius (m) their values average")
    spatial_block_m: float = Field(2000.0, gt=0, description="block size of spatial cross-validation (m)")
    root_shoot: float | str = Field(0.24, description="below- to above-ground ratio, or 'ipcc2006:<zone>'")
    carbon_fraction: float = Field(0.47, gt=0, le=1)
    price: float = Field(10.0, ge=0, description="price per tCO2e (USD)")
    level: float = Field(0.9, gt=0.5, lt=1, description="the intervals' coverage")
    seed: int = 42
    resolution_m: float = Field(
        20.0, ge=5, le=1000, description="the map's pixel size (m) when every satellite layer comes from a catalog"
    )
    imagery_dates: str | None = Field(
        None,
        pattern=r"^\d{4}-\d{2}-\d{2}/\d{4}-\d{2}-\d{2}$",
        description="layers from STAC catalogs: the dates whose imagery is composited, e.g. 2021-06-01/2021-08-31",
    )
    plots_x: str | None = Field(None, description="plots: the column of x coordinates (default: the source's, or x)")
    plots_y: str | None = Field(None, description="plots: the column of y coordinates")
    plots_crs: str | None = Field(None, description="plots: the coordinates' CRS, e.g. EPSG:3067")
    plots_value: str | None = Field(None, description="plots: the column of AGB (t/ha) or stem volume (m3/ha)")
    plots_kind: Literal["agb", "volume"] | None = Field(None, description="plots: what the value column holds")
    plots_id: str | None = Field(None, description="plots: the column of plot IDs")


class ForestCarbon:
    name = "forest-carbon"
    version = "1.0"
    title = "Forest carbon stock"
    description = (
        "How much carbon the forest inside the area holds: a model learns biomass from field plots and "
        "satellite layers, is tested on plots it has not seen, and maps biomass pixel by pixel; the stock is "
        "given in tonnes of biomass, carbon and CO2 equivalent with 90% intervals, and its value at a price."
    )
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ("plots", "agb", "landcover", *PREDICTORS)
    Params = ForestCarbonParams

    def plan(self, settings: Settings, doc: dict, uploads: dict[str, Path] | None = None) -> Plan:
        sources = resolve_layers(settings, dict(doc.get("layers") or {}), self.required, self.optional, uploads)
        if "plots" not in sources and "agb" not in sources:
            raise InvalidField(
                "layers.plots",
                "give what the model learns from: field plots (a table of coordinates and measured biomass or "
                "volume) or a biomass map (agb, such as ESA CCI Biomass or GEDI L4B)",
            )
        if not any(r in sources for r in PREDICTORS):
            raise InvalidField(
                "layers",
                "give at least one satellite layer to predict from: radar (hh, hv, vv, vh), optical "
                "(red, nir, ...) or elevation",
            )
        params, given = parse_params(ForestCarbonParams, doc.get("params") or {})
        assert isinstance(params, ForestCarbonParams)
        for role, s in sources.items():
            if s.stac is not None and _timed(s) and not s.stac.get("datetime") and not params.imagery_dates:
                raise InvalidField(
                    "params.imagery_dates",
                    f"the {role} layer is searched in a STAC catalog ({s.title or s.name}): give the dates of the "
                    "imagery to composite, e.g. 2021-06-01/2021-08-31 (a leaf-on season of the year mapped)",
                )
        from shapely.geometry import shape

        sources = with_tiles(settings, sources, shape(doc["boundary"]).bounds)
        pixels = cells_checked(settings, sources, doc["boundary"], skip=("plots",))
        grid = _grid(Plan(sources=sources, params=params, given=given), doc["boundary"], params.resolution_m)
        if "crs" in grid:  # every predictor comes from a catalog: the map's own grid, one cell per pixel and layer
            b = grid["bounds"]
            n = round((b[2] - b[0]) / grid["resolution"]) * round((b[3] - b[1]) / grid["resolution"])
            pixels["catalog layers"] = n = n * sum(r in sources for r in PREDICTORS)
            if n > settings.analysis_max_pixels:
                raise InvalidField(
                    "params.resolution_m",
                    f"the catalog layers make {n:,} cells over the area at {params.resolution_m:g} m pixels; at most "
                    f"{settings.analysis_max_pixels:,} (limit CARBONSCOPE_ANALYSIS_MAX_PIXELS): draw a smaller area "
                    "or choose larger pixels",
                )
        return Plan(sources=sources, params=params, given=given, pixels=pixels)

    def config(self, settings: Settings, doc: dict, work: Path, out: Path) -> tuple[dict, Plan]:
        plan = self.plan(settings, doc)
        p = plan.params
        assert isinstance(p, ForestCarbonParams)
        boundary = write_geojson(work / "boundary.geojson", doc["boundary"], "area")
        layers = [
            _layer(role, s, settings, p.imagery_dates)
            for role, s in plan.sources.items()
            if role not in ("plots", "agb")
        ]
        if "plots" in plan.sources:
            plots = plan.sources["plots"]
            labels = {"type": "plots", "path": str(plots.path), **plots.options.get("labels", {})}
        else:  # a biomass map's cells as labels: the engine notes the change of support
            agb = plan.sources["agb"]
            labels = {"type": "raster", "path": str(agb.path), **agb.options.get("labels", {})}
        if p.plot_radius is not None:
            labels["plot_radius"] = p.plot_radius
        for key in ("x", "y", "crs", "value", "kind", "id"):
            if getattr(p, f"plots_{key}") is not None:
                labels[key] = getattr(p, f"plots_{key}")
        cfg: dict = {
            "name": doc.get("name") or "analysis",
            "output": str(out),
            "seed": p.seed,
            "grid": _grid(plan, doc["boundary"], p.resolution_m),
            "aoi": {"path": str(boundary)},
            "layers": layers,
            "features": {"sets": _sets(plan.sources), "texture": p.texture},
            "labels": labels,
            "model": {"preset": p.model},
            "validation": {"random_split": 0.7, "folds": 5, "spatial_block": p.spatial_block_m},
            "predict": {"level": p.level, "scheduler": "distributed", "address": settings.dask_address}
            if settings.dask_address
            else {"level": p.level},
            "stock": {
                "root_shoot": p.root_shoot,
                "carbon_fraction": p.carbon_fraction,
                "price": p.price,
                "currency": "USD",
            },
        }
        lc = plan.sources.get("landcover")
        if lc is not None and lc.options.get("forest_classes"):
            cfg["mask"] = {"layer": "landcover", "keep": lc.options["forest_classes"]}
        return cfg, plan

    def run(self, settings: Settings, doc: dict, work: Path, out: Path, progress: Progress) -> dict:
        from carbonscope.biomass.config import RunConfig
        from carbonscope.biomass.run import RECIPE
        from carbonscope.recipe import execute

        raw, plan = self.config(settings, doc, work, out / "biomass")
        cfg = RunConfig.model_validate(raw)
        r = execute(RECIPE, cfg, out / "biomass", progress=progress)
        return results_of(r.stock, r.metrics, r.map, plan, raw)


def _layer(role: str, s: Source, settings: Settings, dates: str | None) -> dict:
    layer: dict = {"name": role, "role": role, **s.options.get("layer", {})}
    if s.path is not None:
        layer["path"] = str(s.path)
    else:
        layer["stac"] = {"catalog": s.stac_url or settings.stac_url, **(s.stac or {})}
        if dates and _timed(s):
            layer["stac"]["datetime"] = dates
    if role == "landcover":
        layer.setdefault("kind", "categorical")
        layer.setdefault("feature", False)
    return layer


def _grid(plan: Plan, boundary: dict, resolution_m: float) -> dict:
    """The run's grid: a file predictor's, else (every predictor from a catalog) the boundary's local
    UTM zone at ``resolution_m``, its bounds snapped outward to whole pixels."""
    import math

    import geopandas as gpd
    from shapely.geometry import shape

    for role in PREDICTORS:
        if role in plan.sources and plan.sources[role].stac is None:
            return {"reference": role}
    g = gpd.GeoSeries([shape(boundary)], crs=4326)
    utm = g.estimate_utm_crs()
    left, bottom, right, top = g.to_crs(utm).total_bounds
    r = resolution_m
    bounds = [math.floor(left / r) * r, math.floor(bottom / r) * r, math.ceil(right / r) * r, math.ceil(top / r) * r]
    return {"crs": utm.to_string(), "resolution": r, "bounds": bounds}


def _timed(s: Source) -> bool:
    """A STAC source of imagery taken again and again (composited over dates), not a one-off map."""
    from carbonscope.biomass.stac import TIMED_PRODUCTS

    return (s.stac or {}).get("product") in TIMED_PRODUCTS


def _sets(sources: dict[str, Source]) -> list[str]:
    roles = set(sources)
    sets = []
    if roles & {"hh", "hv", "vv", "vh"}:
        sets.append("sar")
    if roles & {"coastal", "blue", "green", "red", "nir", "swir1", "swir2", "rededge1", "rededge2", "rededge3"}:
        sets += ["optical", "indices"]
    if "elevation" in roles:
        sets.append("terrain")
    return sets


def results_of(stock: dict, metrics: dict, mapped, plan: Plan, cfg: dict) -> dict:
    """``stock`` with ``agb_t`` and ``tco2e`` (estimate, lower, upper) first, then the engine's own."""
    domain = stock.get("__domain__") or {}
    head: dict = (domain.get(domain["headline"]) or {}) if domain.get("headline") else domain
    agb = head.get("agb_mg") or {}
    co2 = head.get("co2e_t") or {}
    carbon = head.get("carbon_t") or {}
    return {
        "stock": {
            "agb_t": agb,
            "carbon_tc": carbon,
            "tco2e": co2,
            "value": head.get("value"),
            "area_ha": head.get("area_ha"),
            "scope": "inside the area of applicability" if domain.get("headline") else "the mapped forest",
            "outside_aoa": domain.get("outside_aoa"),
            "warning": domain.get("warning"),
            "sample_design": domain.get("sample_design"),
        },
        "engine_stock": stock,
        "validation": metrics,
        "map": {"agb": "biomass/" + Path(mapped.agb_path).name if mapped.agb_path else None},
        "parameters": plan.parameters(),
        "layers": {role: s.describe() for role, s in plan.sources.items()},
        "engine_config": cfg,
    }


RECIPE = ForestCarbon()
