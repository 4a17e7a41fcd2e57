"""Named data sources: where a layer of a role comes from (a local file, a STAC collection, or a
URL or path template of COG tiles on a latitude/longitude grid, see :mod:`carbonscope.analyses.tiled`).

Built-in sources point at public keyless catalogs; a TOML file (``CARBONSCOPE_DATA_SOURCES_FILE``)
adds more::

    [sources.martinique-forest]
    roles = ["forest"]
    path = "redd/martinique/forest-MTQ-2000-2010-2020.tif"   # relative to the file
    dates = "2000,2010,2020"
    title = "Forest / non-forest of Martinique, 30 m"
    coverage = "Martinique"
    licence = "CC BY 4.0"

    [sources.esa-cci-agb-2020]
    roles = ["agb"]
    template = "https://dap.ceda.ac.uk/neodc/esacci/biomass/data/agb/maps/v5.01/geotiff/2020/{ns}{lat:02d}{ew}{lon:03d}_ESACCI-BIOMASS-L4-AGB-MERGED-100m-2020-fv5.01.tif"
    tile_degrees = 10      # {lat}, {lon}: the tile's upper-left corner in whole degrees; {ns}, {ew}: N/S, E/W

A layer value that is not a source's name is a path, accepted only inside ``CARBONSCOPE_DATA_FOLDERS``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from carbonscope.errors import InputError, InvalidField, first_problem, read_toml
from carbonscope.geo import rasterpath
from carbonscope.settings import Settings

log = logging.getLogger(__name__)

ROLES: dict[str, str] = {
    "forest": "forest (1) / non-forest (0), one band per date (give the dates)",
    "landcover": "land cover classes, one band per date, with a legend",
    "agb": "above-ground biomass (t/ha)",
    "plots": "field plots: a table of plot coordinates and measured biomass or volume",
    "jurisdiction": "the reference region's boundary (a vector file)",
    "hh": "L-band radar HH (ALOS PALSAR)",
    "hv": "L-band radar HV (ALOS PALSAR)",
    "vv": "C-band radar VV (Sentinel-1)",
    "vh": "C-band radar VH (Sentinel-1)",
    "blue": "optical blue",
    "green": "optical green",
    "red": "optical red",
    "nir": "optical near infrared",
    "swir1": "optical short-wave infrared 1",
    "swir2": "optical short-wave infrared 2",
    "coastal": "optical coastal aerosol",
    "rededge1": "optical red edge 1",
    "rededge2": "optical red edge 2",
    "rededge3": "optical red edge 3",
    "elevation": "elevation (m), a digital elevation model",
}


# what a source's ``stac`` table may hold (the catalog is its ``stac_url``); see carbonscope.biomass.stac
STAC_KEYS = {"product", "collection", "datetime", "max_cloud", "asset"}


class Source(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")
    roles: list[str]
    title: str = ""
    path: Path | None = Field(None, description="a local file (relative paths: to the sources file)")
    layer: str | None = Field(None, description="a vector file's layer")
    stac: dict[str, Any] | None = Field(None, description="a STAC search (collection, asset, ...) at stac_url")
    stac_url: str | None = None
    template: str | None = Field(
        None, description="a URL or path template of COG tiles: {lat} {lon} {ns} {ew} name a tile's upper-left corner"
    )
    tile_degrees: float = Field(10.0, gt=0, le=90, description="the template's tiles: their size in degrees")
    dates: str | None = Field(None, description="the bands' dates, e.g. '2000,2010,2020'")
    options: dict[str, Any] = Field(default_factory=dict, description="what the engine needs besides the file")
    coverage: str = ""
    licence: str = ""

    @model_validator(mode="after")
    def _one_origin(self):
        if sum(v is not None for v in (self.path, self.stac, self.template)) != 1:
            raise ValueError(f"source {self.name!r}: give exactly one of path, stac or template")
        unknown_keys = set(self.stac or {}) - STAC_KEYS
        if unknown_keys:
            raise ValueError(
                f"source {self.name!r}: unknown stac key {sorted(unknown_keys)[0]!r}; keys: {', '.join(sorted(STAC_KEYS))}"
            )
        if self.template is not None:
            from carbonscope.analyses.tiled import check_template

            check_template(self.template, f"source {self.name!r}")
        unknown = [r for r in self.roles if r not in ROLES]
        if unknown:
            raise ValueError(f"source {self.name!r}: unknown role {unknown[0]!r}; roles: {', '.join(ROLES)}")
        return self

    def describe(self) -> dict:
        """What a person choosing data needs: name, title, roles, coverage, licence, origin (no paths)."""
        return {
            "name": self.name,
            "title": self.title or self.name,
            "roles": self.roles,
            "coverage": self.coverage,
            "licence": self.licence,
            "origin": "STAC catalog" if self.stac else "tiles" if self.template else "file",
            "dates": self.dates,
        }


# Public keyless catalogs (Element 84's Earth Search on AWS).
BUILT_IN: list[dict[str, Any]] = [
    {
        "name": "sentinel-2-l2a",
        "roles": ["blue", "green", "red", "nir", "swir1", "swir2"],
        "title": "Sentinel-2 surface reflectance (Earth Search, cloud-masked median)",
        "stac": {"product": "sentinel-2-l2a", "collection": "sentinel-2-l2a", "max_cloud": 30},
        "stac_url": "https://earth-search.aws.element84.com/v1",
        "coverage": "global land, 2015 to now, 10-20 m",
        "licence": "Copernicus Sentinel data terms (free, open)",
    },
    {
        "name": "cop-dem-glo-30",
        "roles": ["elevation"],
        "title": "Copernicus DEM GLO-30 (Earth Search)",
        "stac": {"product": "cop-dem-glo-30", "collection": "cop-dem-glo-30"},
        "stac_url": "https://earth-search.aws.element84.com/v1",
        "coverage": "global land, 30 m",
        "licence": "Copernicus DEM licence (free, attribution)",
    },
]


def _from_file(path: Path) -> list[Source]:
    doc = read_toml(path, "data sources file (CARBONSCOPE_DATA_SOURCES_FILE)")
    out = []
    for name, entry in (doc.get("sources") or {}).items():
        try:
            src = Source.model_validate({"name": name, **entry})
        except ValidationError as exc:
            where, msg, _ = first_problem(exc)
            raise InputError(f"sources.{name}.{where}: {msg}", file=str(path)) from exc
        if src.path is not None and not src.path.is_absolute():
            src.path = (path.parent / src.path).resolve()
        if src.template is not None and "://" not in src.template and not Path(src.template).is_absolute():
            src.template = str((path.parent / src.template).resolve())
        if src.path is not None and not src.path.exists():
            log.warning("data source %r left out: no file %s (%s)", name, src.path, path)
            continue
        out.append(src)
    return out


def catalog(settings: Settings) -> dict[str, Source]:
    """Every data source by name: the built-in ones, then the settings' file (which may replace them)."""
    found = {s["name"]: Source.model_validate(s) for s in BUILT_IN}
    if settings.data_sources_file is not None:
        found.update({s.name: s for s in _from_file(settings.data_sources_file)})
    return found


def allowed_path(settings: Settings, value: str, field: str) -> Path:
    """``value`` as a file inside one of the data folders, else a refusal naming the setting (a
    subdataset such as ``NETCDF:"file.nc":agb`` is checked by its file)."""
    driver, p, variable = rasterpath.split(value)
    try:
        p = p.expanduser().resolve(strict=True)
    except (FileNotFoundError, OSError) as exc:
        raise InvalidField(field, f"{value!r} is neither a data source's name nor a file") from exc
    for folder in settings.data_folders:
        if p.is_relative_to(Path(folder).resolve()):
            return Path(rasterpath.join(driver, p, variable))
    raise InvalidField(
        field,
        f"{value!r} is outside the folders analyses may read (setting CARBONSCOPE_DATA_FOLDERS); "
        "give a data source's name, upload the file, or ask an administrator to add its folder",
    )


def resolve(settings: Settings, role: str, value: str, uploaded: dict[str, Path] | None = None) -> Source:
    """The source of one layer: an uploaded file, a named source (which must serve the role), or a
    path inside the data folders (a file source made for this analysis)."""
    field = f"layers.{role}"
    if role not in ROLES:
        raise InvalidField(field, f"unknown role {role!r}; roles: {', '.join(ROLES)}")
    if uploaded and value in uploaded:
        return Source(name="upload", roles=[role], title=f"uploaded file {value}", path=uploaded[value])
    known = catalog(settings)
    if value in known:
        src = known[value]
        if role not in src.roles:
            raise InvalidField(field, f"data source {value!r} serves {', '.join(src.roles)}, not {role}")
        return src
    return Source(name="file", roles=[role], title=Path(value).name, path=allowed_path(settings, value, field))
