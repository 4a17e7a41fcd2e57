"""``redd-baseline``: forest change inside a boundary and its reference region, VMD0007 fits,
allocation to the boundary, expected creditable tCO2e per year and their NPV (the baseline engine)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from carbonscope.analyses.recipes.base import (
    Params,
    Plan,
    cells_checked,
    parse_params,
    resolve_layers,
    with_tiles,
    write_geojson,
)
from carbonscope.errors import InvalidField
from carbonscope.progress import Progress
from carbonscope.settings import Settings


class BaselineParams(Params):
    dates: str | None = Field(None, description="the dates of the forest layer's bands, e.g. '2000,2010,2020'")
    reference: Literal["jurisdiction", "buffer", "boundary"] | None = Field(
        None,
        description="the reference region: the jurisdiction layer, a buffer around the boundary, or the boundary "
        "itself; default: the jurisdiction when one is given, else a buffer",
    )
    reference_buffer_km: float = Field(20.0, gt=0, le=500, description="width of the buffer reference region (km)")
    mapping: str | None = Field(None, description="landcover: the legend (esa_cci, worldcover, modis_igbp, ...)")
    agb_t_ha: float | None = Field(
        None,
        gt=0,
        le=1500,
        description="above-ground biomass of forest (t dry matter/ha), unless an agb layer is given",
    )
    agb_rel_se: float = Field(0.10, ge=0, le=2, description="relative standard error of that biomass")
    ipcc_forest: str | None = Field(
        None,
        pattern=r"^[a-z_]+(:[a-z_]+)?$",
        description="the IPCC 2006 Table 4.7 default biomass for an ecological zone and continent, e.g. "
        "'tropical_moist_deciduous:americas', when nothing measures the forest's biomass",
    )
    root_shoot: float | str = Field(0.24, description="below- to above-ground ratio, or 'ipcc2006:<zone>'")
    method: Literal["auto", "average", "linear", "exponential", "logarithmic"] = "auto"
    allocation: Literal["historical_share", "risk_map", "vt0007"] = "risk_map"
    start: int | None = Field(None, ge=1990, le=2100, description="first crediting year; default: after the last date")
    years: int = Field(10, ge=1, le=100, description="length of the crediting period")
    effectiveness_percent: float = Field(50.0, ge=0, le=100, description="share of baseline deforestation avoided")
    leakage_percent: float = Field(10.0, ge=0, le=100)
    buffer_percent: float = Field(15.0, ge=0, le=100, description="non-permanence buffer withheld")
    price: float = Field(10.0, ge=0, description="price per tCO2e (USD)")
    discount_rate_percent: float = Field(5.0, ge=0, le=50)
    area_rel_se: float = Field(0.15, ge=0, le=2, description="relative standard error of mapped areas")
    draws: int = Field(10_000, ge=100, le=200_000)
    seed: int = 42

    @model_validator(mode="after")
    def _one_density(self):
        if self.agb_t_ha is not None and self.ipcc_forest is not None:
            raise ValueError("give the forest's biomass (agb_t_ha) or an IPCC default (ipcc_forest), not both")
        return self

    def density(self) -> tuple[float, float, dict] | None:
        """The forest's biomass (t/ha), its relative error, and a note of where they come from."""
        if self.agb_t_ha is not None:
            note = {"source": "value given (fallback: not measured for this area)"}
            return self.agb_t_ha, self.agb_rel_se, {**note, "agb_t_ha": self.agb_t_ha, "rel_se": self.agb_rel_se}
        if self.ipcc_forest is None:
            return None
        from carbonscope.errors import InputError
        from carbonscope.ipcc import natural_forest_agb

        try:
            d = natural_forest_agb(self.ipcc_forest)
        except InputError as exc:
            raise InvalidField("params.ipcc_forest", exc.reason) from exc
        rel, why = d.rel_se(self.agb_rel_se)
        return (
            d.agb,
            rel,
            {
                "source": f"{d.label} (the IPCC Tier 1 default, a labelled fallback: not measured for this area)",
                "agb_t_ha": d.agb,
                "rel_se": rel,
                "rel_se_rule": why,
                "range_t_ha": [d.low, d.high] if d.low is not None else None,
            },
        )

    @model_validator(mode="after")
    def _dates(self):
        if self.dates is not None:
            parts = [d.strip() for d in self.dates.split(",") if d.strip()]
            if len(parts) < 2:
                raise ValueError("give at least two dates, e.g. 2000,2010,2020")
        return self

    def date_list(self) -> list[str]:
        return [d.strip() for d in (self.dates or "").split(",") if d.strip()]


class ReddBaseline:
    name = "redd-baseline"
    version = "1.0"
    title = "REDD+ baseline and expected credits"
    description = (
        "How much forest the area lost in the past, how much it would lose without a project (a reference "
        "level fitted by the VCS VMD0007 methods on a reference region and allocated to the area), and the "
        "credits the project could earn per year after leakage and the buffer, with their value."
    )
    required: tuple[str, ...] = ("forest",)
    optional: tuple[str, ...] = ("jurisdiction", "agb", "landcover")
    Params = BaselineParams

    def plan(self, settings: Settings, doc: dict, uploads: dict[str, Path] | None = None) -> Plan:
        layers = dict(doc.get("layers") or {})
        required = ("landcover",) if "landcover" in layers and "forest" not in layers else ("forest",)
        sources = resolve_layers(settings, layers, required, ("jurisdiction", "agb", "forest", "landcover"), uploads)
        params, given = parse_params(BaselineParams, doc.get("params") or {})
        assert isinstance(params, BaselineParams)
        lc = sources.get("forest") or sources["landcover"]
        if not params.dates and not lc.dates:
            raise InvalidField("params.dates", "give the dates of the forest layer's bands, e.g. 2000,2010,2020")
        if params.density() is None and "agb" not in sources:
            raise InvalidField(
                "params.agb_t_ha",
                "give what sets the forest's biomass: an agb layer, the biomass (agb_t_ha, t/ha), or the IPCC "
                "default of its ecological zone (ipcc_forest, e.g. tropical_moist_deciduous:americas)",
            )
        if params.reference == "jurisdiction" and "jurisdiction" not in sources:
            raise InvalidField("layers.jurisdiction", "reference = jurisdiction needs a jurisdiction layer")
        if any(s.template for s in sources.values()):
            sources = with_tiles(settings, sources, _region_bounds(doc["boundary"], params, sources))
        pixels = cells_checked(settings, sources, doc["boundary"], skip=("jurisdiction",))
        return Plan(sources=sources, params=params, given=given, pixels=pixels)

    def config(self, settings: Settings, doc: dict, work: Path, out: Path) -> tuple[dict, Plan]:
        """The baseline engine's configuration (as its TOML would hold it) for this request."""
        plan = self.plan(settings, doc)
        p = plan.params
        assert isinstance(p, BaselineParams)
        boundary = write_geojson(work / "boundary.geojson", doc["boundary"], "project")
        reference = p.reference or ("jurisdiction" if "jurisdiction" in plan.sources else "buffer")
        if reference == "jurisdiction":
            j = plan.sources["jurisdiction"]
            ref_zone = {"name": "reference", "path": str(j.path)}
            if j.layer or j.options.get("layer"):
                ref_zone["layer"] = j.layer or j.options["layer"]
        elif reference == "buffer":
            ref_zone = {"name": "reference", "path": str(_buffer(doc["boundary"], p.reference_buffer_km, work))}
        else:
            ref_zone = {"name": "reference", "path": str(boundary)}
        lc_role = "forest" if "forest" in plan.sources else "landcover"
        lc = plan.sources[lc_role]
        dates = p.date_list() or [d.strip() for d in (lc.dates or "").split(",")]
        landcover: dict = {"type": "forest_mask" if lc_role == "forest" else "landcover", "path": str(lc.path)}
        landcover["dates"] = dates
        if lc_role == "landcover":
            landcover["mapping"] = p.mapping or lc.options.get("mapping")
        carbon: dict = {"root_shoot": p.root_shoot}
        if "agb" in plan.sources:
            carbon["maps"] = [{"date": dates[0], "path": str(plan.sources["agb"].path)}]
        else:
            agb, rel_se, _ = p.density() or (None, None, None)
            carbon["defaults"] = {"forest": agb, "non_forest": 0.0}
            carbon["defaults_rel_se"] = {"forest": rel_se}
        start = p.start or int(str(dates[-1])[:4]) + 1
        cfg = {
            "name": doc.get("name") or "analysis",
            "output": str(out),
            "landcover": landcover,
            "zones": [ref_zone, {"name": "project", "path": str(boundary)}],
            "carbon": carbon,
            "baseline": {"series": "forest_carbon", "zone": "reference", "use": p.method},
            "allocation": {"project": "project", "method": "both", "use": p.allocation, "risk_bins": 5},
            "crediting": {
                "start": start,
                "years": p.years,
                "effectiveness_percent": p.effectiveness_percent,
                "leakage_percent": p.leakage_percent,
                "buffer_percent": p.buffer_percent,
                "price": p.price,
                "discount_rate_percent": p.discount_rate_percent,
            },
            "uncertainty": {"draws": p.draws, "seed": p.seed, "area_rel_se": p.area_rel_se},
        }
        return cfg, plan

    def run(self, settings: Settings, doc: dict, work: Path, out: Path, progress: Progress) -> dict:
        from carbonscope.baseline.config import RunConfig
        from carbonscope.baseline.run import RECIPE
        from carbonscope.recipe import execute

        raw, plan = self.config(settings, doc, work, out / "baseline")
        cfg = RunConfig.model_validate(raw)
        r = execute(RECIPE, cfg, out / "baseline", progress=progress)
        return results_of(r.results, plan, raw)


def results_of(engine: dict, plan: Plan, cfg: dict) -> dict:
    """The engine's results with the boundary's areas first: ``areas_ha`` and ``deforestation_ha``
    are those inside the boundary, the reference region's sit under ``reference``."""
    zones = engine.get("zones") or {}
    project, reference = zones.get("project") or {}, zones.get("reference") or {}
    doc = dict(engine)
    doc["whole_raster"] = {"areas_ha": engine.get("areas_ha"), "deforestation_ha": engine.get("deforestation_ha")}
    doc["areas_ha"] = project.get("areas_ha")
    doc["deforestation_ha"] = project.get("deforestation_ha")
    doc["periods"] = project.get("periods")
    doc["reference"] = {
        "areas_ha": reference.get("areas_ha"),
        "deforestation_ha": reference.get("deforestation_ha"),
        "periods": reference.get("periods"),
    }
    doc["parameters"] = plan.parameters()
    doc["layers"] = {role: s.describe() for role, s in plan.sources.items()}
    doc["engine_config"] = cfg
    p = plan.params
    if "agb" in plan.sources:
        doc["carbon_density"] = {"source": "AGB map layer", "layer": plan.sources["agb"].describe()["title"]}
    elif isinstance(p, BaselineParams) and (given := p.density()) is not None:
        doc["carbon_density"] = given[2]
    return doc


def _ring(geometry: dict, km: float):
    """The boundary and a ``km`` wide ring around it, measured in a local equidistant projection (WGS84)."""
    import geopandas as gpd
    from shapely.geometry import shape

    g = gpd.GeoSeries([shape(geometry)], crs=4326)
    c = g.union_all().centroid
    local = f"+proj=aeqd +lat_0={c.y} +lon_0={c.x} +units=m"
    return g.to_crs(local).buffer(km * 1000).to_crs(4326).iloc[0]


def _buffer(geometry: dict, km: float, work: Path) -> Path:
    from shapely.geometry import mapping

    return write_geojson(work / "reference.geojson", mapping(_ring(geometry, km)), "reference")


def _region_bounds(geometry: dict, p: BaselineParams, sources: dict) -> tuple[float, float, float, float]:
    """WGS84 bounds of the boundary and its reference region: what the forest layer must cover."""
    import geopandas as gpd
    from shapely.geometry import box, shape

    area = shape(geometry)
    reference = p.reference or ("jurisdiction" if "jurisdiction" in sources else "buffer")
    if reference == "jurisdiction":
        j = sources["jurisdiction"]
        region = gpd.read_file(j.path, layer=j.layer or j.options.get("layer")).to_crs(4326)
        area = area.union(box(*region.total_bounds))
    elif reference == "buffer":
        area = area.union(_ring(geometry, p.reference_buffer_km))
    return area.bounds


RECIPE = ReddBaseline()
