"""``project-estimate``: the forest's carbon density (from a ``forest-carbon`` map of the area, an
AGB map source, or a biomass value given as the labelled fallback) feeds the baseline's emission
factors; one summary of stock, baseline, credits and value."""

from __future__ import annotations

from pathlib import Path

from carbonscope.analyses.recipes.base import Plan, parse_params
from carbonscope.analyses.recipes.forest_carbon import PREDICTORS, ForestCarbonParams
from carbonscope.analyses.recipes.forest_carbon import RECIPE as FOREST_CARBON
from carbonscope.analyses.recipes.redd_baseline import RECIPE as REDD_BASELINE
from carbonscope.analyses.recipes.redd_baseline import BaselineParams
from carbonscope.errors import InvalidField
from carbonscope.progress import Progress
from carbonscope.settings import Settings

Z90 = 1.6448536269514722


class ProjectParams(BaselineParams, ForestCarbonParams):
    pass


def _split(doc: dict, density: float | None = None, rel_se: float | None = None) -> tuple[dict, dict | None]:
    """The request as a baseline request and, when plots and a predictor are given, a forest-carbon one."""
    layers = dict(doc.get("layers") or {})
    params = dict(doc.get("params") or {})
    base_keys, carbon_keys = set(BaselineParams.model_fields), set(ForestCarbonParams.model_fields)
    carbon_layers = {r: v for r, v in layers.items() if r in ("plots", *PREDICTORS)}
    baseline_layers = {r: v for r, v in layers.items() if r not in carbon_layers}
    if "landcover" in baseline_layers and "forest" in baseline_layers:
        carbon_layers["landcover"] = baseline_layers.pop("landcover")
    b_params = {k: v for k, v in params.items() if k in base_keys}
    if density is not None:  # measured (or looked up) once here: the baseline takes it as given
        b_params.pop("ipcc_forest", None)
        b_params["agb_t_ha"] = density
        b_params["agb_rel_se"] = rel_se or 0.0
    baseline = {**doc, "layers": baseline_layers, "params": b_params}
    if "plots" not in carbon_layers:
        return baseline, None
    carbon = {**doc, "layers": carbon_layers, "params": {k: v for k, v in params.items() if k in carbon_keys}}
    return baseline, carbon


class ProjectEstimate:
    name = "project-estimate"
    version = "1.0"
    title = "Project estimate: stock, baseline, credits and value"
    description = (
        "Both analyses linked: the forest's carbon density measured for the area (from field plots and "
        "satellite layers, or a biomass map) sets the emissions of each hectare lost in the baseline; "
        "one summary gives the stock, the expected loss without a project, the credits and their value."
    )
    required: tuple[str, ...] = ("forest",)
    optional: tuple[str, ...] = ("jurisdiction", "agb", "landcover", "plots", *PREDICTORS)
    Params = ProjectParams

    def plan(self, settings: Settings, doc: dict, uploads: dict[str, Path] | None = None) -> Plan:
        params, given = parse_params(ProjectParams, doc.get("params") or {})
        baseline, carbon = _split(doc, density=1.0 if "plots" in (doc.get("layers") or {}) else None)
        b = REDD_BASELINE.plan(settings, baseline, uploads)
        sources, pixels = dict(b.sources), dict(b.pixels)
        if carbon is not None:
            c = FOREST_CARBON.plan(settings, carbon, uploads)
            sources.update(c.sources)
            pixels.update(c.pixels)
        return Plan(sources=sources, params=params, given=given, pixels=pixels)

    def run(self, settings: Settings, doc: dict, work: Path, out: Path, progress: Progress) -> dict:
        plan = self.plan(settings, doc)
        _, carbon = _split(doc, density=1.0)
        density_note: dict
        stock = None
        if carbon is not None:
            stock = FOREST_CARBON.run(settings, carbon, work, out, progress)
            s = stock["stock"]
            agb, area = s["agb_t"], s["area_ha"]
            if not agb or not area:
                raise InvalidField("layers.plots", "the forest-carbon map gave no biomass inside the area")
            density = agb["estimate"] / area
            rel_se = (agb["upper"] - agb["lower"]) / (2 * Z90 * agb["estimate"]) if agb.get("upper") else 0.0
            density_note = {
                "source": "forest-carbon map of the area",
                "agb_t_ha": density,
                "rel_se": rel_se,
                "scope": s["scope"],
            }
        elif "agb" in (doc.get("layers") or {}):
            density, rel_se = None, None
            density_note = {"source": "AGB map layer", "layer": doc["layers"]["agb"]}
        else:
            p = plan.params
            assert isinstance(p, ProjectParams)
            given = p.density()
            if given is None:
                raise InvalidField(
                    "params.agb_t_ha",
                    "give plots and a satellite layer (to map the forest's biomass), an agb layer, the forest's "
                    "above-ground biomass (agb_t_ha, t/ha), or the IPCC default of its ecological zone (ipcc_forest)",
                )
            density, rel_se, density_note = given
        baseline, _ = _split(doc, density, rel_se)
        base = REDD_BASELINE.run(settings, baseline, work, out, progress)
        base["carbon_density"] = density_note
        if stock is not None:
            base["stock"] = stock["stock"]
            base["validation"] = stock["validation"]
            base["map"] = stock["map"]
        base["parameters"] = plan.parameters()
        return base


RECIPE = ProjectEstimate()
