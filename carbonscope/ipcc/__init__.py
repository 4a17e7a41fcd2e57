"""IPCC conversion factors shared by the carbon analyst and the REDD+ baseline engine.

- Carbon fraction of dry matter: 0.47 (IPCC 2006 Vol. 4 Table 4.3, default for all forest).
- CO2 per carbon: 44/12 (molecular weights).
- Root-to-shoot ratios: IPCC 2006 Vol. 4 Table 4.4 by ecological zone and AGB class
  (``factors/root_shoot_2006.csv``), or any table with the columns ``zone, agb_min, agb_max, ratio``.
- Biomass conversion and expansion factors for growing stock: Table 4.5 (``factors/bcef_2006.csv``).
"""

from __future__ import annotations

from dataclasses import dataclass
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
