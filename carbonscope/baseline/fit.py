"""Baseline projection methods of VCS module VMD0007 (REDD-MF): historical average, linear
regression, exponential and logarithmic models, fitted to a historical series y(t).

Time is counted from the first observation, ``x = t - t0``:

- average: a stock series continues its average annual change, ``y = y0 + b x`` with
  ``b = (y_last - y_first) / (t_last - t_first)`` (the line through the first and last points); a
  rate series (annual deforestation) continues its mean, ``y = mean``;
- linear: ordinary least squares, ``y = a + b x``;
- exponential: ``y = a exp(b x)``, least squares on the original scale (started from the log-linear fit);
- logarithmic: ``y = a + b ln(x + 1)``, least squares.

R² is ``1 - SS_res / SS_tot`` on the original scale for every method; an R² below CarbonScope's
threshold (0.75 by default, ``r2_threshold``: a stated choice of this project, not a figure quoted
from the module) is flagged. No rule of the module on how many observations each method needs is
applied, because none could be cited; instead a fit needs at least two degrees of freedom
(observations minus parameters) to be chosen: a two-parameter curve through three points fits
almost any three numbers (R² near 1 says nothing). ``allowed`` says whether a method can be fitted
to the series at all (the exponential model needs positive values).

The choice (:func:`choose`, when the method is not forced): the simplest eligible method, in the
order average, linear, exponential, logarithmic (fewest parameters and the plainest form first),
unless a later one explains the series better by more than a stated R² margin (0.05 by default).
A difference in the third decimal does not decide a baseline: on a real eight-point series the
four methods projected 272k, 248k, 195k and 64k ha/yr, with R² 0.9706 and 0.9766 for the top two.
The rule and every method's projection are reported side by side.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

Method = Literal["average", "linear", "exponential", "logarithmic"]
METHODS: tuple[Method, ...] = ("average", "linear", "exponential", "logarithmic")  # simplest first: the choice's order
MIN_DOF = 2  # degrees of freedom a fit needs to be chosen
R2_MARGIN = 0.05  # by how much a less simple method's R² must beat the current choice


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

    @property
    def supported(self) -> bool:
        """Enough observations for its parameters to be chosen (the average needs two points)."""
        return self.dof >= MIN_DOF or (self.method == "average" and self.n >= 2)

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
            "supported": self.supported,
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
    method: str,
    t: np.ndarray,
    y: np.ndarray,
    kind: str = "stock",
    r2_threshold: float = 0.75,
    t0: float | None = None,
    weights: np.ndarray | None = None,
) -> Fit:
    """Fit one method to observations (t in decimal years). ``weights``: the years each rate covers,
    so a rate series' historical average is total loss over total years, not a mean of unequal periods."""
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
            w = np.ones_like(y) if weights is None else np.asarray(weights, float)
            if w.shape != y.shape or (w <= 0).any():
                raise ValueError("weights must be one positive duration per observation")
            params = {"mean": float((y * w).sum() / w.sum())}
            eq = f"y = {params['mean']:,.4g}"
            if weights is not None and np.ptp(w) > 0:
                notes.append("the mean of the periods' rates weighted by their years (total loss over total years)")
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
    f.allowed = True  # it could be fitted; whether it can be chosen is ``supported`` (degrees of freedom)
    f.r2_ok = bool(np.isfinite(f.r2) and f.r2 >= r2_threshold)
    if np.isfinite(f.r2) and f.r2 < r2_threshold:
        f.notes.append(f"R² {f.r2:.3f} is below {r2_threshold}")
    if not f.supported:
        f.notes.append(
            f"{n} observations leave {f.dof} degree(s) of freedom, fewer than {MIN_DOF}: "
            "R² says little and this fit is not chosen"
        )
    return f


def fit_all(
    t: np.ndarray,
    y: np.ndarray,
    methods: Sequence[str] = METHODS,
    kind: str = "stock",
    r2_threshold: float = 0.75,
    weights: np.ndarray | None = None,
) -> dict[str, Fit]:
    return {m: fit(m, t, y, kind, r2_threshold, weights=weights) for m in methods}


def projections(fits: dict[str, Fit], years: Sequence[int]) -> dict[str, dict[int, float]]:
    """Every method's projected value in each of ``years`` (empty for a fit that has no parameters)."""
    t = np.asarray(years, float)
    return {m: dict(zip(years, (float(v) for v in f.predict(t)))) if f.params else {} for m, f in fits.items()}


@dataclass(frozen=True)
class Choice:
    fit: Fit
    rule: str  # why this method, in words for the report
    forced: bool = False


def _r2_for_choice(f: Fit) -> float:
    # a constant mean explains none of a rate series' variation: R² 0 (undefined, strictly)
    return 0.0 if f.method == "average" and f.kind == "rate" else f.r2


def _eligible(f: Fit) -> bool:
    return f.allowed and f.supported and bool(f.params) and (f.method == "average" or f.r2_ok)


def choose(fits: dict[str, Fit], margin: float = R2_MARGIN, use: str = "auto") -> Choice:
    """The method that drives the baseline, and why (see the module's docstring for the rule)."""
    if use != "auto":
        f = fits[use]
        rule = f"{use}: chosen in the configuration"
        if not _eligible(f):
            why = "; ".join(f.notes) or "not eligible"
            rule += f" although the automatic rule would not take it ({why})"
        return Choice(f, rule, forced=True)
    order = [fits[m] for m in METHODS if m in fits] + [f for m, f in fits.items() if m not in METHODS]
    eligible = [f for f in order if _eligible(f)]
    if not eligible:
        avg = fits.get("average") or order[0]
        return Choice(avg, f"{avg.method}: no method is eligible (two degrees of freedom and R² at the threshold)")
    best = eligible[0]
    rule = f"{best.method}: the simplest eligible method"
    passed: list[str] = []
    for f in eligible[1:]:
        if _r2_for_choice(f) > _r2_for_choice(best) + margin:
            rule = (
                f"{f.method}: its R² {f.r2:.4f} beats {best.method}'s {_r2_for_choice(best):.4f} "
                f"by more than the margin {margin:g}"
            )
            best = f
        else:
            passed.append(f"{f.method} (R² {f.r2:.4f})")
    if passed:
        rule += f"; not better by more than {margin:g}: " + ", ".join(passed)
    dropped = [f.method for f in order if f.allowed and f.params and not f.supported]
    if dropped:
        rule += f"; too few observations for {', '.join(dropped)}"
    return Choice(best, rule)
