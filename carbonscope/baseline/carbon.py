"""Forest carbon per date and zone, and emission factors of deforestation, from per-category
defaults or from AGB maps.

Carbon density (tCO2e/ha) = (AGB + BGB) x carbon fraction x 44/12, BGB from the root-to-shoot
ratio (:mod:`carbonscope.ipcc`). The emission factor of a period is
``EF = (C before - C after) x 44/12`` per hectare deforested: with defaults, the forest density less
that of the category the land became; with maps, the map of the period's start over the pixels that
were deforested, less the map of its end over the same pixels (or the defaults where there is no
map at the end). A difference of two independent maps carries both maps' errors; the uncertainty
analysis draws the two independently.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from carbonscope.baseline.change import Change
from carbonscope.baseline.config import CarbonConfig
from carbonscope.ipcc import CARBON_FRACTION, RootShoot, agb_to_co2e

ASSUMED_REL_SE = 0.3


@dataclass
class CarbonSource:
    """One way to put carbon on the change tables: ``defaults`` or ``maps``."""

    name: str
    change: Change
    cfg: CarbonConfig
    root_shoot: RootShoot | float
    notes: list[str] = field(default_factory=list)

    def density(self) -> np.ndarray:
        """tCO2e/ha by category index from the defaults (0 where a category has none)."""
        cats = self.change.t.categories
        agb = np.array([self.cfg.defaults.get(c, 0.0) for c in cats], dtype=float)
        return agb_to_co2e(agb, self.root_shoot, self.cfg.carbon_fraction)

    def agb_density(self) -> np.ndarray:
        return np.array([self.cfg.defaults.get(c, 0.0) for c in self.change.t.categories], dtype=float)

    # -- maps ---------------------------------------------------------------------------------
    def _map_sums(self, key, zone: int, date: int):
        """(AGB*ha, CO2e*ha, valid ha) by category at a date from the map of that date, or None."""
        t = self.change.t
        d = t.dates[date]
        for p, (i, j) in enumerate(t.pairs):
            if (d, p) in t.carbon and date in (i, j):
                arr = t.carbon[(d, p)][key][:, zone]
                return arr.sum(axis=2) if i == date else arr.sum(axis=1)
        return None

    def stock(self, key: str | None = None, zone: int = 0, date: int = 0, what: str = "co2e") -> float:
        """Forest carbon (tCO2e) or AGB (t) at a date; nan when a map source has no map then."""
        forest = list(self.change.forest)
        area = self.change.t.area(key, zone, date)[forest]
        if self.name == "defaults":
            dens = self.density() if what == "co2e" else self.agb_density()
            return float((area * dens[forest]).sum())
        sums = self._map_sums(key, zone, date)
        if sums is None:
            return float("nan")
        k = 1 if what == "co2e" else 0
        valid = sums[2][forest]
        mean = np.divide(sums[k][forest], valid, out=np.zeros(len(forest)), where=valid > 0)
        return float((mean * area).sum())

    def emission_factor(self, key: str | None = None, zone: int = 0, start: int = 0) -> float:
        """tCO2e per hectare deforested between dates ``start`` and ``start + 1``."""
        t, ch = self.change.t, self.change
        p = t.pair_index(start, start + 1)
        m = t.matrix(key, zone, p)
        f, nf = list(ch.forest), list(ch.nonforest)
        moved = m[np.ix_(f, nf)]
        if moved.sum() == 0:
            moved = np.ones_like(moved)  # no deforestation here: an area-neutral mean
        if self.name == "defaults":
            dens = self.density()
            return float((moved * (dens[f][:, None] - dens[nf][None, :])).sum() / moved.sum())
        before = t.carbon.get((t.dates[start], p), {}).get(key)
        if before is None:
            return float("nan")
        b = before[:, zone][:, f][:, :, nf]
        c_before = b[1].sum() / b[2].sum() if b[2].sum() > 0 else float("nan")
        after = t.carbon.get((t.dates[start + 1], p), {}).get(key)
        if after is not None and after[2, zone][np.ix_(f, nf)].sum() > 0:
            a = after[:, zone][:, f][:, :, nf]
            c_after = a[1].sum() / a[2].sum()
        else:
            dens = self.density() if self.cfg.defaults else np.zeros(t.K)
            c_after = float((moved * dens[nf][None, :]).sum() / moved.sum())
        return float(c_before - c_after)

    def ef_rel_se(self) -> float:
        """Relative standard error of an emission factor (for the Monte Carlo)."""
        if self.name == "maps":
            # two independent maps (before and after): errors add in quadrature
            return float(np.sqrt(2) * self.cfg.map_rel_se)
        se = self.cfg.defaults_rel_se.get("forest")
        if se is None:
            return ASSUMED_REL_SE
        return float(se)


def sources(change: Change, cfg: CarbonConfig | None) -> dict[str, CarbonSource]:
    if cfg is None:
        return {}
    rs = (
        RootShoot.parse(cfg.root_shoot, cfg.root_shoot_table)
        if not isinstance(cfg.root_shoot, (int, float))
        else float(cfg.root_shoot)
    )
    out = {}
    if cfg.defaults:
        s = CarbonSource("defaults", change, cfg, rs)
        if "forest" not in cfg.defaults and not any(
            c in cfg.defaults for c in (change.t.categories[k] for k in change.forest)
        ):
            s.notes.append("no default for the forest categories: forest carbon is 0")
        missing = [change.t.categories[k] for k in change.nonforest if change.t.categories[k] not in cfg.defaults]
        if missing:
            s.notes.append(
                f"no default for {', '.join(missing)}: land that becomes these holds no carbon after deforestation, "
                "which makes emissions an upper bound"
            )
        if "forest" not in cfg.defaults_rel_se:
            s.notes.append(
                f"no standard error given for the forest default: {ASSUMED_REL_SE:.0%} assumed in the uncertainty analysis"
            )
        out["defaults"] = s
    if cfg.maps:
        s = CarbonSource("maps", change, cfg, rs)
        s.notes.append(
            "emission factors from the difference of two independent biomass maps mix both maps' errors into the change; "
            f"each map's mean is drawn with {cfg.map_rel_se:.0%} relative error, independently"
        )
        out["maps"] = s
    return out


def primary(srcs: dict[str, CarbonSource], cfg: CarbonConfig | None) -> CarbonSource | None:
    if not srcs:
        return None
    if cfg is not None and cfg.primary and cfg.primary in srcs:
        return srcs[cfg.primary]
    return srcs.get("maps") or srcs.get("defaults")


__all__ = ["CarbonSource", "sources", "primary", "CARBON_FRACTION"]
