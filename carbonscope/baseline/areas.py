"""Area per category and date, and deforestation between dates, for a land-cover raster (whole
raster and per zone): the first question of a REDD+ study, without a full run configuration."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from carbonscope.baseline import landcover
from carbonscope.baseline import zones as zmod
from carbonscope.baseline.change import Change
from carbonscope.baseline.config import LandCoverConfig, ZoneConfig
from carbonscope.baseline.tabulate import tabulate
from carbonscope.errors import InvalidField, first_problem
from carbonscope.progress import Progress


def land_cover_areas(
    raster: Path,
    dates: list[str],
    *,
    zones: Path | None = None,
    zone_field: str | None = None,
    zone_layer: str | None = None,
    mapping: str | None = None,
    workers: int = 2,
    progress: Progress | None = None,
) -> dict:
    """``{"areas_ha": {date: {category: ha}}, "deforestation_ha": {period: ha}, "zones": {...}}``:
    a forest / non-forest mask, or land cover reclassified by ``mapping``; zones from a vector file."""
    try:
        lc = LandCoverConfig(
            type="landcover" if mapping else "forest_mask", path=Path(raster).resolve(), mapping=mapping, dates=dates
        )
        zone_cfg = (
            ZoneConfig(name="zones", path=Path(zones).resolve(), layer=zone_layer, field=zone_field) if zones else None
        )
    except ValidationError as exc:
        where, msg, _ = first_problem(exc, "landcover")
        raise InvalidField(where, msg) from exc
    with landcover.open_product(lc) as product:
        grid, forest = product.grid, product.forest
    sets = [zmod.load(zone_cfg, grid)] if zone_cfg else []
    ch = Change(tabulate(lc, sets, workers=workers, progress=progress), forest)
    doc: dict = {"areas_ha": ch.areas(), "deforestation_ha": ch.deforestation()}
    if sets:
        doc["zones"] = {
            name: {"areas_ha": ch.areas("zones", i + 1), "deforestation_ha": ch.deforestation("zones", i + 1)}
            for i, name in enumerate(sets[0].names)
        }
    return doc
