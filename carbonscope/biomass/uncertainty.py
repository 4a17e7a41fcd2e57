"""Per-pixel prediction intervals and the interval of a total.

Pixels: Mondrian split-conformal intervals. Held-out residuals (from spatial cross-validation when
there is one) are grouped into bins of the predicted value, because errors grow with biomass; the
half-width of a bin is the finite-sample conformal quantile of its absolute residuals. A pixel's
interval is its prediction plus or minus its bin's half-width, cut at zero.

Totals: pixel errors are spatially correlated, so summing pixel variances would understate the
uncertainty of a total. The total comes from the model-assisted difference estimator (Saerndal et
al. 1992; McRoberts et al. 2013): map total plus area times the mean held-out residual of the
sample plots, with variance A^2 s_e^2 / n, valid when the plots are a probability sample of the
area; a bootstrap of the plots gives the same interval without the normal approximation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from carbonscope.errors import InputError


@dataclass(frozen=True)
class Conformal:
    level: float
    edges: tuple[float, ...]  # inner bin edges over predicted values
    half_width: tuple[float, ...]
    n: tuple[int, ...]

    def interval(self, pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        hw = np.asarray(self.half_width)[np.searchsorted(np.asarray(self.edges), pred, side="right")]
        lo = np.maximum(pred - hw, 0.0)
        return lo.astype("float32"), (pred + hw).astype("float32")

    def to_dict(self) -> dict:
        return {
            "level": self.level,
            "bin_edges": list(self.edges),
            "half_width": list(self.half_width),
            "n": list(self.n),
        }


def calibrate(
    predicted: np.ndarray, observed: np.ndarray, level: float = 0.9, min_per_bin: int = 30, max_bins: int = 5
) -> Conformal:
    """Conformal half-widths by bins of the predicted value from held-out (prediction, observation) pairs."""
    predicted, observed = np.asarray(predicted, float), np.asarray(observed, float)
    n = len(predicted)
    if n < 10:
        raise InputError(f"too few held-out samples ({n}) to calibrate prediction intervals")
    k = int(max(1, min(max_bins, n // min_per_bin)))
    edges = np.unique(np.quantile(predicted, np.linspace(0, 1, k + 1)[1:-1])) if k > 1 else np.array([])
    which = np.searchsorted(edges, predicted, side="right")
    half, counts = [], []
    for b in range(len(edges) + 1):
        r = np.sort(np.abs(observed[which == b] - predicted[which == b]))
        m = len(r)
        rank = int(np.ceil((m + 1) * level))
        half.append(float(r[min(rank, m) - 1]) if m else float("nan"))
        counts.append(m)
    return Conformal(level, tuple(float(e) for e in edges), tuple(half), tuple(counts))


@dataclass
class TotalEstimate:
    total: float
    map_total: float
    correction: float
    se: float
    lower: float
    upper: float
    level: float
    n: int
    method: str
    bootstrap_lower: float | None = None
    bootstrap_upper: float | None = None

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def model_assisted_total(
    map_total: float, area: float, residuals: np.ndarray, level: float = 0.9, bootstrap: int = 0, seed: int = 0
) -> TotalEstimate:
    """Difference estimator of a total: map total + area x mean(observed - predicted) over the sample.

    ``map_total`` and ``area`` in matching units (e.g. Mg and ha, residuals in Mg/ha).
    """
    e = np.asarray(residuals, float)
    n = len(e)
    if n < 2:
        raise InputError(f"too few held-out residuals ({n}) for the interval of a total")
    correction = area * float(e.mean())
    total = map_total + correction
    se = area * float(e.std(ddof=1)) / np.sqrt(n)
    z = stats.norm.ppf(0.5 + level / 2)
    est = TotalEstimate(
        total,
        map_total,
        correction,
        se,
        total - z * se,
        total + z * se,
        level,
        n,
        "model-assisted difference estimator",
    )
    if bootstrap:
        rng = np.random.default_rng(seed)
        means = e[rng.integers(0, n, size=(bootstrap, n))].mean(axis=1)
        lo, hi = np.quantile(map_total + area * means, [0.5 - level / 2, 0.5 + level / 2])
        est.bootstrap_lower, est.bootstrap_upper = float(lo), float(hi)
    return est
