"""The run configuration (TOML), validated at the boundary; paths are relative to the file."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from carbonscope.errors import InputError, first_problem, read_toml
from carbonscope.geo import rasterpath


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class GridConfig(Strict):
    crs: str | None = Field(None, description="target CRS, e.g. EPSG:32635; default: the reference layer's")
    resolution: float | None = Field(None, gt=0, description="pixel size in CRS units")
    bounds: tuple[float, float, float, float] | None = Field(None, description="left, bottom, right, top")
    reference: str | None = Field(None, description="a layer whose grid to use for what is not given")


class AoiConfig(Strict):
    path: Path
    layer: str | None = None


class LayerConfig(Strict):
    name: str = Field(..., pattern=r"^[a-z][a-z0-9_]*$")
    path: Path | None = None
    band: int = Field(1, ge=1)
    kind: Literal["continuous", "categorical"] = "continuous"
    nodata: float | list[float] | None = Field(
        None, description="values that mean no data, added to the file's own nodata value"
    )
    valid_range: tuple[float, float] | None = Field(
        None,
        description="values outside [min, max] (in the file's units) are no data; also catches a fill value resampling mixed in",
    )
    role: str | None = Field(
        None,
        description="what the layer is: hh, hv (PALSAR DN), vv, vh (S1 linear), blue..swir2, rededge1, elevation, landcover",
    )
    scale: float = 1.0
    offset: float = 0.0
    classes: list[int] | None = Field(None, description="categorical: the classes to one-hot encode")
    stac: dict | None = Field(
        None, description="load from a STAC catalog instead of a file (see carbonscope.biomass.stac)"
    )
    feature: bool = Field(True, description="false: the layer only masks or stratifies, it is not a model input")
    shift: tuple[float, float] = Field(
        (0.0, 0.0), description="move the layer by (dx, dy) in its CRS units to correct a known misregistration"
    )

    @model_validator(mode="after")
    def _source(self):
        if (self.path is None) == (self.stac is None):
            raise ValueError(f"layer {self.name!r}: give exactly one of path or stac")
        return self


class MaskConfig(Strict):
    layer: str
    keep: list[int]


class FeatureConfig(Strict):
    sets: list[str] = Field(
        default_factory=lambda: ["auto"], description="named feature sets, or 'auto' for all the layers allow"
    )
    include: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)
    texture: bool = False
    texture_range: tuple[float, float] = Field((-35.0, 5.0), description="dB range quantised into the GLCM grey levels")


class LabelConfig(Strict):
    type: Literal["plots", "raster", "gedi_l4a", "gedi_l4b"]
    path: Path
    se_path: Path | None = Field(
        None,
        description="gedi_l4b: the standard-error raster (default: the mean's file name with _MU replaced by _SE)",
    )
    value: str | None = Field(None, description="plots: the column with AGB or volume")
    kind: Literal["agb", "volume"] = "agb"
    x: str = "x"
    y: str = "y"
    crs: str | None = None
    plot_radius: float = Field(
        0.0, ge=0, description="metres; pixels under the plot are averaged, weighted by the area they share with it"
    )
    radius_column: str | None = Field(
        None, description="a column with each plot's radius in metres (overrides plot_radius)"
    )
    id: str | None = Field(None, description="the column with plot IDs")
    bcef_zone: str = "boreal"
    species: dict[str, str] = Field(
        default_factory=dict, description="volume columns by forest type, e.g. pine = 'pinevol'"
    )
    bcef_table: Path | None = None
    raster_band: int = 1
    raster_se_band: int | None = None
    raster_quality_band: int | None = None
    raster_quality_keep: list[int] = Field(default_factory=lambda: [1])
    gedi_min_sensitivity: float = 0.9


class SamplingConfig(Strict):
    n: int = Field(2000, ge=10)
    method: Literal["random", "stratified"] = "random"
    strata_layer: str | None = None
    min_distance: float = Field(0.0, ge=0)


class ModelConfig(Strict):
    type: Literal["rf", "knn", "lgbm"] | None = Field(None, description="default: the preset's type, else rf")
    preset: str | None = None
    params: dict = Field(default_factory=dict)
    grid: dict[str, list] = Field(default_factory=dict)


class ValidationConfig(Strict):
    random_split: float = Field(0.7, gt=0, lt=1)
    split_repeats: int = Field(
        5, ge=1, le=100, description="random splits repeated with other seeds: their spread is reported, not one split"
    )
    folds: int = Field(5, ge=2)
    spatial_block: float | None = Field(1000.0, gt=0, description="metres; None skips spatial CV")
    bins: list[float] | None = None
    compare: list[ModelConfig] = Field(
        default_factory=list, description="more models validated the same way, side by side (not mapped)"
    )
    importance: bool = True
    reproduce: Literal["nested", "non-nested"] = Field(
        "nested",
        description="non-nested: also report a grid's best setting chosen on the split's own test part, as some "
        "published grids do (labelled optimistic, beside the nested result)",
    )


class PredictConfig(Strict):
    window: int = Field(
        1024, ge=32, description="pixels per side of a map window (memory per worker grows with its square)"
    )
    workers: int = Field(2, ge=1)
    scheduler: Literal["auto", "threads", "processes", "distributed", "sync"] = "auto"
    address: str | None = Field(
        None, description="a dask.distributed scheduler (tcp://host:8786); implies scheduler = distributed"
    )
    aoa: bool = True
    uncertainty: Literal["conformal", "none"] = "conformal"
    level: float = Field(0.9, gt=0, lt=1)
    engine: Literal["auto", "sklearn", "treelite", "onnx"] = "auto"


class StockConfig(Strict):
    carbon_fraction: float = Field(0.47, gt=0, le=1)
    root_shoot: float | str = Field(
        0.24, description="a ratio, or 'ipcc2006:<zone>' to take it from the table by AGB class"
    )
    price: float | None = Field(None, ge=0, description="per tCO2e")
    currency: str = "USD"
    polygons: Path | None = None
    polygon_layer: str | None = None
    polygon_field: str | None = None
    bootstrap: int = Field(1000, ge=0)
    root_shoot_table: Path | None = None


class DateMapConfig(Strict):
    date: str = Field(..., description="the date of these layers, e.g. 2010")
    layers: dict[str, Path] = Field(
        ..., description="the layers of that date by name (the others keep the run's): hh = 'hh-2010.tif'"
    )


class RunConfig(Strict):
    name: str
    output: Path
    seed: int = 42
    grid: GridConfig = Field(default_factory=GridConfig)
    aoi: AoiConfig | None = None
    layers: list[LayerConfig]
    mask: MaskConfig | None = None
    features: FeatureConfig = Field(default_factory=FeatureConfig)
    labels: LabelConfig
    sampling: SamplingConfig = Field(default_factory=SamplingConfig)
    model: ModelConfig = Field(default_factory=ModelConfig)
    validation: ValidationConfig = Field(default_factory=ValidationConfig)
    predict: PredictConfig = Field(default_factory=PredictConfig)
    stock: StockConfig = Field(default_factory=StockConfig)
    maps: list[DateMapConfig] = Field(
        default_factory=list,
        description="more dates mapped with the model trained once: each a date and its layers (maps/<date>/agb.tif)",
    )

    @model_validator(mode="after")
    def _names(self):
        names = [layer.name for layer in self.layers]
        if len(set(names)) != len(names):
            raise ValueError("layer names must be unique")
        for m in self.maps:
            unknown = sorted(set(m.layers) - set(names))
            if unknown:
                raise ValueError(f"maps[{m.date}].layers: {unknown[0]!r} is not a layer; layers: {', '.join(names)}")
        dates = [m.date for m in self.maps]
        if len(set(dates)) != len(dates):
            raise ValueError("maps: each date once")
        if self.mask and self.mask.layer not in names:
            raise ValueError(f"mask.layer {self.mask.layer!r} is not a layer")
        if self.grid.reference and self.grid.reference not in names:
            raise ValueError(f"grid.reference {self.grid.reference!r} is not a layer")
        return self

    def layer(self, name: str) -> LayerConfig:
        return next(layer for layer in self.layers if layer.name == name)


def _resolve(obj, base: Path):
    if isinstance(obj, BaseModel):
        for name, value in list(obj):
            if isinstance(value, Path) and rasterpath.is_subdataset(value):  # NETCDF:"file.nc":var
                setattr(obj, name, Path(rasterpath.resolve(value, base)))
            elif isinstance(value, Path) and not value.is_absolute():
                setattr(obj, name, (base / value).resolve())
            else:
                _resolve(value, base)
    elif isinstance(obj, list):
        for v in obj:
            _resolve(v, base)
    return obj


def load(path: Path | str) -> RunConfig:
    """Read and validate a run configuration; errors name the file and the field."""
    path = Path(path)
    raw = read_toml(path, "configuration file")
    try:
        cfg = RunConfig.model_validate(raw)
    except ValidationError as exc:
        where, msg, _ = first_problem(exc)
        raise InputError(f"{where}: {msg}", file=str(path)) from exc
    return _resolve(cfg, path.parent)
