"""Baseline projection methods of VCS module VMD0007 (REDD-MF): historical average, linear
regression, exponential and logarithmic models, fitted to a historical series y(t).

Time is counted from the first observation, ``x = t - t0``:

- average: a stock series continues its average annual change, ``y = y0 + b x`` with
  ``b = (y_last - y_first) / (t_last - t_first)`` (the line through the first and last points); a
  rate series (annual deforestation) continues its mean, ``y = mean``;
- linear: ordinary least squares, ``y = a + b x``;
- exponential: ``y = a exp(b x)``, least squares on the original scale (started from the log-linear fit);
- logarithmic: ``y = a + b ln(x + 1)``, least squares.

R² is ``1 - SS_res / SS_tot`` on the original scale for every method. VMD0007 allows only the
average or linear methods with five or fewer observations; an R² below the threshold (0.75) is
flagged. Two-parameter fits to three dates leave one degree of freedom: their R² says little.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

METHODS = ("average", "linear", "exponential", "logarithmic")


@dataclass
class Fit:
    method: str
    params: dict[str, float]
    r2: float
    n: int
    t0: float
    allowed: bool
    r2_ok: bool
    dof: int
    equation: str
    notes: list[str] = field(default_factory=list)
    kind: str = "stock"

    def predict(self, t: np.ndarray | float) -> np.ndarray:
        x = np.asarray(t, dtype=float) - self.t0
        p = self.params
        if self.method == "average":
            return np.full(x.shape, p["mean"]) if self.kind == "rate" else p["a"] + p["b"] * x
        if self.method == "linear":
            return p["a"] + p["b"] * x
        if self.method == "exponential":
            return p["a"] * np.exp(p["b"] * x)
        if self.method == "logarithmic":
            return p["a"] + p["b"] * np.log(np.maximum(x + 1, 1e-12))
        raise ValueError(self.method)

    def as_dict(self) -> dict:
        return {
            "r2": self.r2,
            "params": self.params,
            "allowed": self.allowed,
            "r2_ok": self.r2_ok,
            "n": self.n,
            "dof": self.dof,
            "t0": self.t0,
            "equation": self.equation,
            "notes": self.notes,
        }


def r_squared(y: np.ndarray, yhat: np.ndarray) -> float:
    y, yhat = np.asarray(y, float), np.asarray(yhat, float)
    ss_tot = float(((y - y.mean()) ** 2).sum())
    ss_res = float(((y - yhat) ** 2).sum())
    if ss_tot == 0:
        return 1.0 if ss_res == 0 else float("nan")
    return 1.0 - ss_res / ss_tot


def _ols(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    b, a = np.polyfit(x, y, 1)
    return float(a), float(b)


def fit(
    method: str, t: np.ndarray, y: np.ndarray, kind: str = "stock", r2_threshold: float = 0.75, t0: float | None = None
) -> Fit:
    """Fit one method to observations (t in decimal years)."""
    t, y = np.asarray(t, float), np.asarray(y, float)
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; methods: {', '.join(METHODS)}")
    if t.size != y.size or t.size < 2:
        raise ValueError("a baseline fit needs at least two observations")
    t0 = float(t[0]) if t0 is None else t0
    x = t - t0
    notes: list[str] = []
    n = int(t.size)
    if method == "average":
        if kind == "rate":
            params = {"mean": float(y.mean())}
            eq = f"y = {params['mean']:,.4g}"
        else:
            b = float((y[-1] - y[0]) / (x[-1] - x[0]))
            params = {"a": float(y[0] - b * x[0]), "b": b}
            eq = f"y = {params['a']:,.6g} {'+' if b >= 0 else '-'} {abs(b):,.6g} (t - {t0:g})"
        k = 1
    elif method == "linear":
        a, b = _ols(x, y)
        params = {"a": a, "b": b}
        eq = f"y = {a:,.6g} {'+' if b >= 0 else '-'} {abs(b):,.6g} (t - {t0:g})"
        k = 2
    elif method == "exponential":
        if (y <= 0).any():
            return Fit(
                method,
                {},
                float("nan"),
                n,
                t0,
                False,
                False,
                n - 2,
                "",
                ["the exponential model needs positive values"],
                kind,
            )
        la, b = _ols(x, np.log(y))
        a = math.exp(la)
        try:
            from scipy.optimize import curve_fit

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                (a, b), _ = curve_fit(lambda xx, aa, bb: aa * np.exp(bb * xx), x, y, p0=(a, b), maxfev=10_000)
        except (RuntimeError, ValueError):
            notes.append("least squares did not converge; log-linear estimates kept")
        params = {"a": float(a), "b": float(b)}
        eq = f"y = {a:,.6g} exp({b:.6g} (t - {t0:g}))"
        k = 2
    else:
        a, b = _ols(np.log(x + 1), y)
        params = {"a": a, "b": b}
        eq = f"y = {a:,.6g} {'+' if b >= 0 else '-'} {abs(b):,.6g} ln(t - {t0:g} + 1)"
        k = 2
    f = Fit(method, params, 0.0, n, t0, True, True, n - k, eq, notes, kind)
    f.r2 = r_squared(y, f.predict(t))
    if method == "average" and kind == "rate":
        f.r2 = float("nan") if n > 1 and y.std() > 0 else 1.0
        f.notes.append("R² is not defined for a constant mean")
    f.allowed = n > 5 or method in ("average", "linear")
    if not f.allowed:
        f.notes.append(f"VMD0007 allows only the average or linear methods with {n} observations (five or fewer)")
    f.r2_ok = bool(np.isfinite(f.r2) and f.r2 >= r2_threshold)
    if np.isfinite(f.r2) and f.r2 < r2_threshold:
        f.notes.append(f"R² {f.r2:.3f} is below {r2_threshold}")
    if f.dof <= 1 and method != "average":
        f.notes.append(f"{n} observations leave {f.dof} degree(s) of freedom: R² says little")
    return f


def fit_all(
    t: np.ndarray, y: np.ndarray, methods: Sequence[str] = METHODS, kind: str = "stock", r2_threshold: float = 0.75
) -> dict[str, Fit]:
    return {m: fit(m, t, y, kind, r2_threshold) for m in methods}


def choose(fits: dict[str, Fit]) -> Fit:
    """The allowed fit with the highest R² that meets the threshold, else the historical average."""
    ok = [f for f in fits.values() if f.allowed and f.r2_ok and np.isfinite(f.r2)]
    if ok:
        return max(ok, key=lambda f: f.r2)
    return fits.get("average") or next(iter(fits.values()))
