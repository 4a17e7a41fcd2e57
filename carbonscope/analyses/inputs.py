"""An analysis request, validated at the boundary: recipe, boundary, layers by role, parameters,
and the limits that keep one person's analysis from exhausting the machine."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from carbonscope.community.boundaries import Boundary
from carbonscope.community.boundaries import read as read_boundary
from carbonscope.errors import InvalidField, Throttled
from carbonscope.settings import Settings


class Request(BaseModel):
    """The JSON body of ``POST /api/v1/analyses`` (and what the page and the CLI build)."""

    model_config = ConfigDict(extra="forbid")

    recipe: str = Field(description="forest-carbon, redd-baseline or project-estimate")
    boundary: dict[str, Any] | None = Field(None, description="GeoJSON geometry, Feature or FeatureCollection (WGS84)")
    proposal: int | None = Field(None, description="a proposal's ID: analyse its site boundary")
    layers: dict[str, str] = Field(default_factory=dict, description="role -> data source name or file path")
    params: dict[str, Any] = Field(default_factory=dict, description="the recipe's parameters")


@dataclass
class Checked:
    """A request that passed every check: what a job row and a runner need."""

    recipe: str
    boundary: Boundary
    layers: dict[str, str]
    params: dict[str, Any]
    proposal_id: int | None = None
    uploads: dict[str, str] = field(default_factory=dict)  # uploaded file name -> path in the job's inputs

    def document(self) -> dict:
        return {
            "boundary": self.boundary.geometry,
            "boundary_crs": self.boundary.source_crs,
            "layers": self.layers,
            "params": self.params,
            "uploads": self.uploads,
        }


def boundary_of(geojson: dict | None, settings: Settings) -> Boundary:
    """A GeoJSON boundary through the same checks as a proposal's upload (type, CRS, validity, size)."""
    if not geojson:
        raise InvalidField("boundary", "draw or upload a boundary, or name a proposal")
    data = json.dumps(geojson).encode()
    return read_boundary("boundary.geojson", data, settings.max_boundary_bytes)


def boundary_file(path: Path, settings: Settings) -> Boundary:
    """A boundary from a file a person names (GeoJSON, GeoPackage or a zipped/plain Shapefile)."""
    suffix = path.suffix.lower()
    if suffix in (".shp", ".zip"):
        import geopandas as gpd

        try:
            gdf = gpd.read_file(path)
        except Exception as exc:  # pyogrio raises its own errors for every bad file
            raise InvalidField("boundary", f"{path.name!r} could not be read as a Shapefile ({exc})") from exc
        if gdf.crs is None:
            raise InvalidField("boundary", f"{path.name!r} has no CRS (.prj missing): cannot place it on the map")
        data = gdf.to_crs(4326).to_json().encode()
        return read_boundary(path.with_suffix(".geojson").name, data, settings.max_boundary_bytes)
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise InvalidField("boundary", f"no such file {str(path)!r}") from exc
    return read_boundary(path.name, data, settings.max_boundary_bytes)


def boundary_upload(filename: str, data: bytes, settings: Settings) -> Boundary:
    """An uploaded boundary: GeoJSON or GeoPackage (the proposals' checks), or a zipped Shapefile."""
    if not filename.lower().endswith(".zip"):
        return read_boundary(filename, data, settings.max_boundary_bytes)
    import tempfile

    if len(data) > settings.max_boundary_bytes:
        raise InvalidField(
            "boundary", f"{filename!r} is {len(data):,} bytes; the limit is {settings.max_boundary_bytes:,}"
        )
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "boundary.zip"
        p.write_bytes(data)
        return boundary_file(p, settings)


def check_limits(settings: Settings, boundary: Boundary, active: int, upload_bytes: int = 0) -> None:
    """Refuse what would exhaust the machine; each message names the limit and its setting."""
    if boundary.area_ha > settings.analysis_max_area_ha:
        raise InvalidField(
            "boundary",
            f"the area is {boundary.area_ha:,.0f} ha; one analysis may cover at most "
            f"{settings.analysis_max_area_ha:,.0f} ha (limit CARBONSCOPE_ANALYSIS_MAX_AREA_HA)",
        )
    if upload_bytes > settings.analysis_max_upload_bytes:
        raise InvalidField(
            "files",
            f"the uploads are {upload_bytes:,} bytes; one analysis may upload at most "
            f"{settings.analysis_max_upload_bytes:,} (limit CARBONSCOPE_ANALYSIS_MAX_UPLOAD_BYTES)",
        )
    if active >= settings.analysis_max_active_per_user:
        raise Throttled(
            f"you have {active} analyses queued or running; at most {settings.analysis_max_active_per_user} at once "
            "(limit CARBONSCOPE_ANALYSIS_MAX_ACTIVE_PER_USER): wait for one to finish or cancel it",
            retry_after=30,
        )
