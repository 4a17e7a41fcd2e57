"""The recipes an analysis can run: named, versioned, each a thin layer over an engine.

A recipe ``plan``s a request (every layer resolved, every parameter validated, the size estimated)
before a job is queued, so a missing layer fails at once with a message naming it; ``run`` then
builds the engine's configuration, runs the engine into the job's result folder and returns the
``results.json`` document."""

from __future__ import annotations

from carbonscope.analyses.recipes.base import AnalysisRecipe, Plan
from carbonscope.analyses.recipes.forest_carbon import RECIPE as FOREST_CARBON
from carbonscope.analyses.recipes.project_estimate import RECIPE as PROJECT_ESTIMATE
from carbonscope.analyses.recipes.redd_baseline import RECIPE as REDD_BASELINE
from carbonscope.errors import InvalidField

RECIPES: dict[str, AnalysisRecipe] = {r.name: r for r in (FOREST_CARBON, REDD_BASELINE, PROJECT_ESTIMATE)}

__all__ = ["RECIPES", "AnalysisRecipe", "Plan", "get"]


def get(name: str) -> AnalysisRecipe:
    if name not in RECIPES:
        raise InvalidField("recipe", f"unknown recipe {name!r}; recipes: {', '.join(RECIPES)}")
    return RECIPES[name]
