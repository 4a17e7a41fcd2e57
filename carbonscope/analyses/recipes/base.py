"""What every recipe shares: its description, its plan of a request, parameters checked by pydantic."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, ValidationError

from carbonscope.analyses.sources import ROLES, Source, resolve
from carbonscope.errors import InvalidField, first_problem
from carbonscope.progress import Progress
from carbonscope.settings import Settings


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")


@dataclass
class Plan:
    """A request a recipe accepted: its sources by role, its parameters, and what it will read."""

    sources: dict[str, Source]
    params: BaseModel
    given: list[str]  # parameters the person set; the others are the recipe's stated defaults
    pixels: dict[str, int] = field(default_factory=dict)  # raster cells each layer reads inside the boundary

    def describe(self) -> dict:
        return {
            "layers": {role: s.describe() for role, s in self.sources.items()},
            "parameters": self.parameters(),
            "pixels": self.pixels,
        }

    def parameters(self) -> dict:
        values = self.params.model_dump(mode="json")
        return {k: {"value": v, "given": k in self.given} for k, v in values.items()}


def parse_params(model: type[Params], raw: dict[str, Any]) -> tuple[Params, list[str]]:
    """Parameters from JSON or ``K=V`` strings (the CLI and forms), every error naming the parameter."""
    clean: dict[str, Any] = {}
    for k, v in raw.items():
        if isinstance(v, str) and v.strip() == "":
            continue  # an empty form field means "use the default"
        clean[k] = v
    try:
        params = model.model_validate(clean)
    except ValidationError as exc:
        where, msg, _ = first_problem(exc)
        raise InvalidField(f"params.{where}" if where else "params", msg.removeprefix("Value error, ")) from exc
    return params, sorted(clean)


def resolve_layers(
    settings: Settings,
    layers: dict[str, str],
    required: tuple[str, ...],
    optional: tuple[str, ...],
    uploads: dict[str, Path] | None = None,
) -> dict[str, Source]:
    allowed = set(required) | set(optional)
    for role in layers:
        if role not in allowed:
            raise InvalidField(
                f"layers.{role}", f"this recipe takes no {role!r} layer; it takes {', '.join(sorted(allowed))}"
            )
    for role in required:
        if role not in layers:
            raise InvalidField(
                f"layers.{role}",
                f"the {role} layer ({ROLES[role]}) is required: name a data source (GET /api/v1/analyses/sources), "
                "upload the file, or give a path inside CARBONSCOPE_DATA_FOLDERS",
            )
    return {role: resolve(settings, role, value, uploads) for role, value in layers.items()}


def with_tiles(
    settings: Settings, sources: dict[str, Source], bounds: tuple[float, float, float, float]
) -> dict[str, Source]:
    """Sources given as a template of tiles, each as the virtual mosaic of its tiles over ``bounds``
    (WGS84 west, south, east, north), so the engines read them like files."""
    from carbonscope.analyses.tiled import mosaic
    from carbonscope.errors import InputError

    out = {}
    for role, s in sources.items():
        if s.template is not None and s.path is None:
            try:
                vrt = mosaic(s.name, s.template, s.tile_degrees, bounds, settings.data_dir / "tiles")
            except InputError as exc:
                raise InvalidField(f"layers.{role}", str(exc)) from exc
            s = s.model_copy(update={"path": vrt})
        out[role] = s
    return out


def cells_inside(path: Path, geometry: dict) -> int:
    """Raster cells of ``path`` in the boundary's bounding box (what a run reads), or 0 for a vector."""
    import rasterio
    from rasterio.errors import RasterioIOError
    from rasterio.warp import transform_bounds
    from rasterio.windows import from_bounds
    from shapely.geometry import shape

    try:
        with rasterio.open(path) as src:
            if src.crs is None:
                raise InvalidField("layers", f"{path.name}: the raster has no CRS, so it cannot be placed")
            b = transform_bounds("EPSG:4326", src.crs, *shape(geometry).bounds, densify_pts=21)
            w = from_bounds(*b, transform=src.transform).intersection(
                rasterio.windows.Window(0, 0, src.width, src.height)
            )
            return int(w.width * w.height) * src.count
    except RasterioIOError:
        return 0
    except rasterio.errors.WindowError:
        raise InvalidField(
            "boundary",
            f"the boundary does not overlap the layer {path.name}: upload a layer that covers the area, "
            "or pick a data source whose coverage includes it (GET /api/v1/analyses/sources)",
        ) from None


def cells_checked(settings: Settings, sources: dict[str, Source], geometry: dict, skip: tuple[str, ...] = ()) -> dict:
    """Raster cells each layer reads around the boundary, refusing a layer above the setting's limit."""
    pixels = {r: cells_inside(s.path, geometry) for r, s in sources.items() if s.path and r not in skip}
    for role, n in pixels.items():
        if n > settings.analysis_max_pixels:
            raise InvalidField(
                f"layers.{role}",
                f"the {role} layer has {n:,} cells around the boundary; at most {settings.analysis_max_pixels:,} "
                "(limit CARBONSCOPE_ANALYSIS_MAX_PIXELS)",
            )
    return pixels


def write_geojson(path: Path, geometry: dict, name: str) -> Path:
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [{"type": "Feature", "properties": {"name": name}, "geometry": geometry}],
            }
        )
    )
    return path


class AnalysisRecipe(Protocol):
    name: str
    version: str
    title: str
    description: str
    required: tuple[str, ...]
    optional: tuple[str, ...]

    def plan(self, settings: Settings, doc: dict, uploads: dict[str, Path] | None = None) -> Plan: ...

    def run(self, settings: Settings, doc: dict, work: Path, out: Path, progress: Progress) -> dict: ...
