"""IPCC conversion factors shared by the carbon analyst and the REDD+ baseline engine.

- Carbon fraction of dry matter: 0.47 (IPCC 2006 Vol. 4 Table 4.3, default for all forest).
- CO2 per carbon: 44/12 (molecular weights).
- Root-to-shoot ratios: IPCC 2006 Vol. 4 Table 4.4 by ecological zone and AGB class
  (``factors/root_shoot_2006.csv``), or any table with the columns ``zone, agb_min, agb_max, ratio``.
- Biomass conversion and expansion factors for growing stock: Table 4.5 (``factors/bcef_2006.csv``).
- Above-ground biomass of natural forests by ecological zone and continent: Table 4.7, tropical and
  boreal rows (``factors/agb_natural_forest_2006.csv``), the labelled fallback where nothing is measured.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from carbonscope.errors import InputError

CARBON_FRACTION = 0.47
CO2_PER_C = 44.0 / 12.0


def read_table(name: str, path: Path | None, columns: set[str]) -> pd.DataFrame:
    """A packaged table (``factors/<name>``) or a user's CSV with the same columns."""
    if path is None:
        with resources.files("carbonscope.ipcc").joinpath(f"factors/{name}").open() as f:
            t = pd.read_csv(f, comment="#")
    else:
        if not Path(path).exists():
            raise InputError("no such table", file=str(path))
        t = pd.read_csv(path, comment="#")
    missing = columns - set(t.columns)
    if missing:
        raise InputError(
            f"the table lacks columns {sorted(missing)}; it needs {sorted(columns)}", file=str(path or name)
        )
    return t


@dataclass(frozen=True)
class RootShoot:
    """Below-ground biomass from above-ground biomass: one ratio, or a ratio by AGB class of one zone."""

    ratio: float | None = None
    edges: tuple[float, ...] = ()
    ratios: tuple[float, ...] = ()
    label: str = ""

    @classmethod
    def parse(cls, value: float | str, table: Path | None = None) -> RootShoot:
        """``0.24`` or ``"ipcc2006:<zone>"`` (or ``"table:<zone>"`` with a user table)."""
        if isinstance(value, (int, float)):
            if value < 0:
                raise InputError(f"root-to-shoot ratio must be >= 0, got {value}")
            return cls(ratio=float(value), label=f"R = {value:g}")
        kind, _, zone = str(value).partition(":")
        if kind not in ("ipcc2006", "table") or not zone:
            raise InputError(f"root_shoot {value!r}: give a number, 'ipcc2006:<zone>' or 'table:<zone>'")
        t = read_table(
            "root_shoot_2006.csv", table if kind == "table" else None, {"zone", "agb_min", "agb_max", "ratio"}
        )
        rows = t[t.zone == zone].sort_values("agb_min")
        if rows.empty:
            raise InputError(f"root_shoot: no zone {zone!r}; zones: {', '.join(dict.fromkeys(t.zone))}")
        src = "IPCC 2006 Table 4.4" if kind == "ipcc2006" else str(table)
        return cls(
            edges=tuple(float(v) for v in rows.agb_max.iloc[:-1]),
            ratios=tuple(float(v) for v in rows.ratio),
            label=f"{src}, {zone}",
        )

    def __call__(self, agb: np.ndarray) -> np.ndarray:
        """The ratio for each AGB value (Mg/ha)."""
        agb = np.asarray(agb, dtype=float)
        if self.ratio is not None:
            return np.full(agb.shape, self.ratio)
        return np.asarray(self.ratios)[np.searchsorted(np.asarray(self.edges), agb, side="right")]


def agb_to_co2e(
    agb: np.ndarray | float, root_shoot: RootShoot | float = 0.0, carbon_fraction: float = CARBON_FRACTION
) -> np.ndarray:
    """tCO2e per unit for above-ground biomass (Mg): (AGB + BGB) x CF x 44/12."""
    agb = np.asarray(agb, dtype=float)
    r = root_shoot(agb) if isinstance(root_shoot, RootShoot) else root_shoot
    return agb * (1 + r) * carbon_fraction * CO2_PER_C


REGIONS = {
    "africa": "Africa",
    "americas": "North and South America",
    "asia_continental": "Asia (continental)",
    "asia_insular": "Asia (insular)",
    "all": "Asia, Europe and North America",
}


@dataclass(frozen=True)
class ForestDefault:
    """A Tier 1 above-ground biomass of natural forest (t d.m./ha) with the range its table gives."""

    agb: float
    low: float | None
    high: float | None
    label: str

    def rel_se(self, fallback: float) -> tuple[float, str]:
        """The relative standard error to use, and how it was chosen: the table's range read as a 95%
        interval when it gives one (an assumption: the ranges span the studies behind each value), else
        ``fallback``."""
        if self.low is None or self.high is None or self.high <= self.low:
            return fallback, "the table gives no range: the stated relative error is used"
        return (self.high - self.low) / (2 * 1.959964 * self.agb), (
            f"the table's range {self.low:g}-{self.high:g} t/ha read as a 95% interval"
        )


@lru_cache(maxsize=1)
def _packaged_agb_table() -> pd.DataFrame:
    return read_table("agb_natural_forest_2006.csv", None, {"zone", "region", "agb", "low", "high"})


def natural_forest_agb(key: str, table: Path | None = None) -> ForestDefault:
    """``"<zone>:<region>"`` (e.g. ``tropical_moist_deciduous:americas``) in IPCC 2006 Table 4.7
    (``factors/agb_natural_forest_2006.csv``) or a user's table with the columns
    ``zone, region, agb, low, high``."""
    t = (
        _packaged_agb_table()
        if table is None
        else read_table("agb_natural_forest_2006.csv", table, {"zone", "region", "agb", "low", "high"})
    )
    zone, _, region = key.partition(":")
    rows = t[(t.zone == zone) & (t.region == (region or "all"))]
    if rows.empty:
        keys = ", ".join(f"{z}:{r}" for z, r in zip(t.zone, t.region, strict=True))
        raise InputError(f"no IPCC forest default {key!r}; known: {keys}", file=str(table) if table else None)
    row = rows.iloc[0]
    low, high = (None if pd.isna(row[c]) else float(row[c]) for c in ("low", "high"))
    src = "IPCC 2006 Vol. 4 Table 4.7" if table is None else str(table)
    words = f"{zone.replace('_', ' ')}, {REGIONS.get(row.region, row.region)}"
    return ForestDefault(float(row.agb), low, high, f"{src}: {words}")


def forest_defaults() -> list[tuple[str, str]]:
    """Every row of the packaged Table 4.7 as (key, words), for a person choosing one."""
    t = read_table("agb_natural_forest_2006.csv", None, {"zone", "region", "agb"})
    return [
        (f"{z}:{r}", f"{z.replace('_', ' ').capitalize()}, {REGIONS.get(r, r)} ({a:g} t/ha)")
        for z, r, a in zip(t.zone, t.region, t.agb, strict=True)
    ]
