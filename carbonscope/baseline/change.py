"""Areas, transition matrices, deforestation and its rates from a :class:`Tally`.

Deforestation between D1 and D2 is the area that is forest at D1 and a non-forest category at D2
(pixels with no data at either date are left out). Annual rates:

- simple: ``(A1 - A2) / (A1 * (t2 - t1))``;
- compound (Puyravaud 2003): ``r = ln(A1 / A2) / (t2 - t1)``, i.e. ``-(1/(t2-t1)) ln(A2/A1)``, given as a
  positive number for a loss. Both are percent per year in the outputs.
"""

from __future__ import annotations

import math

import numpy as np

from carbonscope.baseline.landcover import decimal_year
from carbonscope.baseline.legend import NO_DATA, UNMAPPED
from carbonscope.baseline.tabulate import Tally


def simple_rate(a1: float, a2: float, years: float) -> float:
    """Fraction of the first date's forest lost per year (positive for a loss)."""
    if a1 <= 0 or years <= 0:
        return float("nan")
    return (a1 - a2) / (a1 * years)


def compound_rate(a1: float, a2: float, years: float) -> float:
    """Puyravaud's annual rate, ln(A1/A2)/(t2-t1) (positive for a loss)."""
    if a1 <= 0 or a2 <= 0 or years <= 0:
        return float("nan")
    return math.log(a1 / a2) / years


def pair_label(t: Tally, p: int) -> str:
    i, j = t.pairs[p]
    return f"{t.dates[i]}/{t.dates[j]}"


def _reported(t: Tally) -> list[int]:
    """Category indices to report: every category, no data only where present."""
    keep = [k for k, n in enumerate(t.categories) if n not in (NO_DATA, UNMAPPED)]
    nd = t.categories.index(NO_DATA)
    whole = t.trans[None][0]
    if whole[:, nd, :].sum() + whole[:, :, nd].sum() > 0:
        keep.append(nd)
    return keep


class Change:
    """Tables of a tally for the whole raster (key None, zone 0) or one zone of a set."""

    def __init__(self, tally: Tally, forest: tuple[int, ...]):
        self.t, self.forest = tally, tuple(forest)
        self.keep = _reported(tally)
        nd, un = tally.categories.index(NO_DATA), tally.categories.index(UNMAPPED)
        self.nonforest = tuple(k for k in range(tally.K) if k not in self.forest and k not in (nd, un))
        self.years = [decimal_year(d) for d in tally.dates]

    def zones(self) -> list[tuple[str, str, int]]:
        """(set name, zone name, zone number) of every zone."""
        return [(s.name, n, i + 1) for s in self.t.sets for i, n in enumerate(s.names)]

    def areas(self, key: str | None = None, zone: int = 0) -> dict[str, dict[str, float]]:
        return {
            d: {self.t.categories[k]: float(a[k]) for k in self.keep}
            for d, a in ((d, self.t.area(key, zone, i)) for i, d in enumerate(self.t.dates))
        }

    def forest_area(self, key: str | None = None, zone: int = 0) -> list[float]:
        return [float(self.t.area(key, zone, i)[list(self.forest)].sum()) for i in range(len(self.t.dates))]

    def transitions(self, key: str | None = None, zone: int = 0) -> dict[str, dict[str, dict[str, float]]]:
        out = {}
        for p, (i, j) in enumerate(self.t.pairs):
            if i == j:
                continue
            m = self.t.matrix(key, zone, p)
            out[pair_label(self.t, p)] = {
                self.t.categories[a]: {self.t.categories[b]: float(m[a, b]) for b in self.keep} for a in self.keep
            }
        return out

    def deforestation(self, key: str | None = None, zone: int = 0) -> dict[str, float]:
        out = {}
        for p, (i, j) in enumerate(self.t.pairs):
            if i == j:
                continue
            m = self.t.matrix(key, zone, p)
            out[pair_label(self.t, p)] = float(m[np.ix_(self.forest, self.nonforest)].sum())
        return out

    def periods(self, key: str | None = None, zone: int = 0) -> list[dict]:
        """Consecutive periods: deforestation, gain, annual deforestation and both rates."""
        fa = self.forest_area(key, zone)
        rows = []
        for i in range(len(self.t.dates) - 1):
            if (i, i + 1) not in self.t.pairs:
                continue
            p = self.t.pair_index(i, i + 1)
            m = self.t.matrix(key, zone, p)
            years = self.years[i + 1] - self.years[i]
            loss = float(m[np.ix_(self.forest, self.nonforest)].sum())
            gain = float(m[np.ix_(self.nonforest, self.forest)].sum())
            rows.append(
                {
                    "period": pair_label(self.t, p),
                    "start": self.t.dates[i],
                    "end": self.t.dates[i + 1],
                    "years": years,
                    "forest_start_ha": fa[i],
                    "forest_end_ha": fa[i + 1],
                    "deforestation_ha": loss,
                    "gain_ha": gain,
                    "annual_deforestation_ha": loss / years if years > 0 else float("nan"),
                    "rate_simple_pct": 100 * simple_rate(fa[i], fa[i + 1], years),
                    "rate_compound_pct": 100 * compound_rate(fa[i], fa[i + 1], years),
                }
            )
        return rows
