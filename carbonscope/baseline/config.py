"""The baseline run configuration (TOML), validated at the boundary; paths are relative to the file."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from carbonscope.baseline.fit import METHODS, R2_MARGIN, Method
from carbonscope.errors import InputError, first_problem, read_toml
from carbonscope.geo import rasterpath


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DateFile(Strict):
    date: str
    path: Path
    band: int = Field(1, ge=1)


class LandCoverConfig(Strict):
    type: Literal["landcover", "forest_mask", "prodes", "loss_year", "fcc"] = Field(
        "landcover",
        description="fcc: one band of forest cover change over N dates (forestatrisk's fcc123): code k in 1..N-1 "
        "lost in period k, N forest at the end, 0 not forest",
    )
    path: Path | None = Field(None, description="one raster; with dates, one band per date (or bands=)")
    dates: list[str] = Field(
        default_factory=list,
        description="dates of the bands, e.g. ['2000', '2010', '2020']; prodes/loss_year: the years to report, or 'FIRST-LAST'",
    )
    bands: list[int] | None = None
    files: list[DateFile] = Field(default_factory=list, description="one file per date instead of bands of one file")
    mapping: str | dict[str, str] | None = Field(
        None, description="esa_cci, worldcover, modis_igbp, forest_nonforest, a CSV path, or an inline table"
    )
    nodata: float | list[float] | None = Field(
        None, description="values that mean no data, added to the rasters' own nodata value"
    )
    align: bool = Field(
        False, description="resample rasters on other grids to the first one's (nearest); default: refuse them"
    )
    forest: list[str] = Field(default_factory=lambda: ["forest"], description="categories that count as forest")
    legend: Path | None = Field(
        None, description="prodes: a legend CSV (value, label, kind, year) other than the packaged one"
    )
    forest_path: Path | None = Field(None, description="loss_year: forest at the start (tree cover %, or a 1/0 mask)")
    forest_threshold: float = Field(30.0, description="loss_year: tree cover (%) at or above which a pixel is forest")
    loss_base_year: int = Field(2000, description="loss_year: a pixel value k means loss in loss_base_year + k")

    @field_validator("dates", mode="before")
    @classmethod
    def _range(cls, v):
        if isinstance(v, str):
            m = re.fullmatch(r"\s*(\d{4})\s*-\s*(\d{4})\s*", v)
            if not m:
                raise ValueError("give a list of dates or a year range 'FIRST-LAST'")
            return [str(y) for y in range(int(m.group(1)), int(m.group(2)) + 1)]
        return [str(d) for d in v]

    @model_validator(mode="after")
    def _source(self):
        if (self.path is None) == (not self.files):
            raise ValueError("give either path (with dates) or files")
        if self.files and self.dates:
            raise ValueError("files carry their own dates; leave dates out")
        if self.path is not None and not self.dates:
            raise ValueError("dates are required with path")
        if self.bands is not None and len(self.bands) != len(self.dates):
            raise ValueError(f"{len(self.bands)} bands for {len(self.dates)} dates")
        if self.type == "loss_year" and self.forest_path is None:
            raise ValueError("loss_year needs forest_path (the forest at the start)")
        return self


class ZoneConfig(Strict):
    name: str = Field(..., description="the zone set, e.g. jurisdiction, subjurisdictions, project")
    path: Path
    layer: str | None = None
    field: str | None = Field(
        None, description="the column naming each zone; without it the set is one zone named after the set"
    )


class CarbonMap(Strict):
    date: str
    path: Path
    band: int = Field(1, ge=1)
    se_band: int | None = Field(None, description="band with the per-pixel standard error (Mg/ha)")


class CarbonConfig(Strict):
    defaults: dict[str, float] = Field(
        default_factory=dict, description="AGB (t dry matter/ha) by category, e.g. forest = 300"
    )
    defaults_rel_se: dict[str, float] = Field(
        default_factory=dict, description="relative standard error of each default (0.3 = 30%)"
    )
    maps: list[CarbonMap] = Field(default_factory=list, description="AGB maps (Mg/ha) by date")
    maps_from: Path | None = Field(
        None,
        description="a `biomass run` folder whose maps.json lists AGB maps by date (its [[maps]]): added to maps",
    )
    map_rel_se: float = Field(
        0.2, ge=0, description="relative standard error of a map's mean where the map has no SE band"
    )
    root_shoot: float | str = Field(
        0.0,
        description="a ratio, 'ipcc2006:<zone>' (Table 4.4), or 'table:<zone>' with root_shoot_table (e.g. the 2019 Refinement's values)",
    )
    root_shoot_table: Path | None = None
    carbon_fraction: float = Field(0.47, gt=0, le=1)
    primary: Literal["defaults", "maps"] | None = Field(
        None, description="which carbon source drives emissions when both are given"
    )

    @model_validator(mode="after")
    def _any(self):
        if self.maps_from is not None:
            self.maps = [*self.maps, *_maps_of_run(self.maps_from)]
            self.maps_from = None
        if not self.defaults and not self.maps:
            raise ValueError("give defaults (AGB per category) or maps (AGB rasters by date)")
        return self


def _maps_of_run(folder: Path) -> list[CarbonMap]:
    """The dated AGB maps a `biomass run` with [[maps]] wrote (its maps.json), as carbon maps."""
    import json

    index = Path(folder) / "maps.json"
    if not index.is_file():
        raise ValueError(f"maps_from {str(folder)!r}: no maps.json (a biomass run with [[maps]] writes one)")
    return [CarbonMap(date=m["date"], path=Path(folder) / m["path"]) for m in json.loads(index.read_text())]


class BaselineConfig(Strict):
    series: Literal["deforestation", "forest_area", "forest_carbon"] = Field(
        "forest_carbon", description="what the VMD0007 methods fit over time"
    )
    zone: str | None = Field(
        None, description="the zone whose history is fitted (e.g. the jurisdiction); default: the whole raster"
    )
    methods: list[Method] = Field(default_factory=lambda: list(METHODS))
    r2_threshold: float = 0.75
    use: Literal["auto", "average", "linear", "exponential", "logarithmic"] = Field(
        "auto",
        description="the method that drives crediting; auto: the simplest eligible method (allowed by VMD0007, two "
        "degrees of freedom, R² at the threshold) unless a less simple one beats its R² by choice_margin",
    )
    choice_margin: float = Field(
        R2_MARGIN, ge=0, le=1, description="how much better a less simple method's R² must be for auto to take it"
    )


class AllocationConfig(Strict):
    project: str = Field(..., description="the project zone's name")
    method: Literal["historical_share", "risk_map", "both"] = "both"
    risk_bins: int = Field(10, ge=2, le=100, description="classes of the risk map (equal-area quantiles of distance)")
    use: Literal["historical_share", "risk_map", "vt0007"] = Field(
        "risk_map",
        description="which allocation drives crediting when both run: the historical share, CarbonScope's risk "
        "map, or VT0007 (its benchmark map or the alternative, whichever confirms better)",
    )
    subjurisdictions: str | None = Field(
        None, description="VT0007: the zone set whose zones are the jurisdiction's sub-jurisdictions"
    )
    cell_m: float = Field(1000.0, gt=0, description="VT0007: side of the confirmation's square cells (m)")


class AccuracyConfig(Strict):
    path: Path = Field(..., description="reference sample: CSV with coordinates or a vector file of points")
    period: str = Field(..., description="'D1/D2': the change map the sample assesses")
    reference: str = Field(..., description="column with the observed class: deforestation, forest, non_forest")
    x: str = "x"
    y: str = "y"
    crs: str | None = Field(None, description="CRS of x/y (CSV); default: the raster's")
    zone: str | None = Field(
        None,
        description="the zone the sample was drawn in (its strata's areas weigh the estimate); "
        "default: the baseline zone, else the whole raster",
    )


class CreditingConfig(Strict):
    start: int = Field(..., description="first year of the crediting period")
    years: int = Field(10, ge=1, le=100)
    monitored_deforestation_ha: float | list[float] | None = Field(
        None, description="project-area deforestation per year in the crediting period (ha/yr); default: none (ex-ante)"
    )
    effectiveness_percent: float = Field(
        100.0,
        ge=0,
        le=100,
        description="ex ante, without monitored data: the share of baseline deforestation the project avoids",
    )
    leakage_percent: float = Field(0.0, ge=0, le=100)
    buffer_percent: float = Field(10.0, ge=0, le=100)
    price: float | list[float] = Field(10.0, description="price per tCO2e, or one per crediting year")
    currency: str = "USD"
    discount_rate_percent: float = Field(5.0, ge=0)


class InvestConfig(Strict):
    price_per_tc: float = Field(..., description="V: price per tonne of carbon (not CO2)")
    currency: str = Field("USD", description="the currency of the price and the value")
    discount_rate_percent: float = Field(..., description="r")
    price_change_percent: float = Field(0.0, description="c")
    start_year: int | None = Field(None, description="p; default: the first historical date")
    end_year: int | None = Field(None, description="q; default: the last historical date")


class UncertaintyConfig(Strict):
    draws: int = Field(10_000, ge=100, le=1_000_000)
    seed: int = 42
    area_rel_se: float = Field(0.1, ge=0, description="relative SE of mapped areas when no reference sample is given")
    level: float = Field(0.90, gt=0, lt=1)


class RunConfig(Strict):
    name: str = "baseline"
    output: Path = Path("runs/baseline")
    landcover: LandCoverConfig
    zones: list[ZoneConfig] = Field(default_factory=list)
    carbon: CarbonConfig | None = None
    baseline: BaselineConfig = Field(default_factory=BaselineConfig)
    allocation: AllocationConfig | None = None
    accuracy: AccuracyConfig | None = None
    crediting: CreditingConfig | None = None
    invest: InvestConfig | None = None
    uncertainty: UncertaintyConfig = Field(default_factory=UncertaintyConfig)
    workers: int = Field(2, ge=1, le=64)
    source: Path | None = Field(None, exclude=True)

    @model_validator(mode="after")
    def _zone_names(self):
        names = [z.name for z in self.zones]
        if len(set(names)) != len(names):
            raise ValueError(f"zone set names must be unique: {names}")
        if self.baseline.series == "forest_carbon" and self.carbon is None:
            raise ValueError(
                "baseline.series = 'forest_carbon' needs a [carbon] section (or use forest_area / deforestation)"
            )
        return self


def _resolve(data: dict, base: Path) -> dict:
    """Make every path relative to the config file's folder."""

    def fix(v):
        if isinstance(v, str) and rasterpath.is_subdataset(v):  # NETCDF:"file.nc":var: the file part
            return str(rasterpath.resolve(v, base))
        return str((base / v).resolve()) if isinstance(v, str) and not Path(v).is_absolute() else v

    data = dict(data)
    if "output" in data:
        data["output"] = fix(data["output"])
    lc = data.get("landcover")
    if isinstance(lc, dict):
        lc = dict(lc)
        for key in ("path", "legend", "forest_path"):
            if key in lc:
                lc[key] = fix(lc[key])
        if isinstance(lc.get("mapping"), str) and lc["mapping"].endswith(".csv"):
            lc["mapping"] = fix(lc["mapping"])
        if isinstance(lc.get("files"), list):
            lc["files"] = [{**f, "path": fix(f.get("path"))} if isinstance(f, dict) else f for f in lc["files"]]
        data["landcover"] = lc
    if isinstance(data.get("zones"), list):
        data["zones"] = [{**z, "path": fix(z.get("path"))} if isinstance(z, dict) else z for z in data["zones"]]
    c = data.get("carbon")
    if isinstance(c, dict):
        c = dict(c)
        for key in ("root_shoot_table", "maps_from"):
            if key in c:
                c[key] = fix(c[key])
        if isinstance(c.get("maps"), list):
            c["maps"] = [{**m, "path": fix(m.get("path"))} if isinstance(m, dict) else m for m in c["maps"]]
        data["carbon"] = c
    a = data.get("accuracy")
    if isinstance(a, dict) and "path" in a:
        data["accuracy"] = {**a, "path": fix(a["path"])}
    return data


def parse(data: dict, source: str = "config", base: Path | None = None) -> RunConfig:
    try:
        cfg = RunConfig.model_validate(_resolve(data, base) if base else data)
    except ValidationError as exc:
        where, msg, _ = first_problem(exc)
        raise InputError(
            f"{where}: {msg}" + (f" ({len(exc.errors()) - 1} more problems)" if len(exc.errors()) > 1 else ""),
            file=source,
        ) from None
    return cfg


def load(path: Path) -> RunConfig:
    path = Path(path)
    data = read_toml(path, "config file")
    cfg = parse(data, str(path), path.resolve().parent)
    return cfg.model_copy(update={"source": path.resolve()})
