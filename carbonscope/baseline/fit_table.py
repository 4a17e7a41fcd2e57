"""The VMD0007 methods on a table of yearly values (forest area, forest carbon or loss per year),
without rasters: ``carbonscope baseline fit TABLE --x year --y forest_ha [--zone region]``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from carbonscope.baseline import fit
from carbonscope.columns import numeric_column
from carbonscope.errors import InputError


def read_table(path: Path) -> pd.DataFrame:
    """A CSV, Parquet or Excel table; InputError naming the file when it cannot be read."""
    path = Path(path)
    if not path.exists():
        raise InputError("no such table", file=str(path))
    try:
        if path.suffix.lower() == ".parquet":
            return pd.read_parquet(path)
        if path.suffix.lower() in (".xlsx", ".xls"):
            return pd.read_excel(path)
        return pd.read_csv(path)
    except Exception as exc:  # the readers raise many kinds; the message names the problem
        raise InputError(f"cannot read the table ({exc})", file=str(path)) from exc


@dataclass(frozen=True)
class FitOptions:
    kind: str = "stock"  # stock (a level such as forest area) or rate (loss per year)
    method: str = "auto"  # or one of fit.METHODS, forced
    r2_threshold: float = 0.75  # VMD0007
    margin: float = fit.R2_MARGIN
    years_ahead: int = 10  # projected after the last year

    def check(self) -> None:
        if self.method != "auto" and self.method not in fit.METHODS:
            raise InputError(f"unknown method {self.method!r}; methods: auto, {', '.join(fit.METHODS)}")
        if self.kind not in ("stock", "rate"):
            raise InputError(f"kind {self.kind!r}: stock (a level such as forest area) or rate (loss per year)")


def fit_series(t: np.ndarray, y: np.ndarray, options: FitOptions = FitOptions()) -> dict:
    """Every method's fit, the chosen one with its rule, and each method's projection."""
    o = options
    ok = np.isfinite(t) & np.isfinite(y)
    t, y = t[ok], y[ok]
    order = np.argsort(t)
    t, y = t[order], y[order]
    if len(t) < 2:
        raise InputError(f"{len(t)} observation(s): a baseline fit needs at least two")
    if len(np.unique(t)) != len(t):
        raise InputError("a year appears twice in the series")
    fits = fit.fit_all(t, y, fit.METHODS, o.kind, o.r2_threshold)
    choice = fit.choose(fits, o.margin, o.method)
    last = int(np.floor(t.max()))
    horizon = list(range(last + 1, last + 1 + o.years_ahead))
    return {
        "n": len(t),
        "baseline": {
            m: {"r2": f.r2, "params": f.params, "allowed": f.allowed, "dof": f.dof, "supported": f.supported}
            | {"equation": f.equation, "notes": f.notes}
            for m, f in fits.items()
        },
        "chosen": choice.fit.method,
        "rule": choice.rule,
        "projection": fit.projections(fits, horizon),
    }


def fit_table(path: Path, x: str, y: str, *, zone: str | None = None, options: FitOptions = FitOptions()) -> dict:
    """The fits of a table's ``y`` over ``x`` (years), for the whole table or per ``zone`` value."""
    options.check()
    df = read_table(path)
    t, v = numeric_column(df, x, path), numeric_column(df, y, path)
    if zone is None:
        return fit_series(t, v, options)
    if zone not in df.columns:
        raise InputError(f"no column {zone!r}; columns: {', '.join(map(str, df.columns))}", file=str(path), column=zone)
    out = {}
    for name, rows in df.groupby(zone, sort=True).indices.items():
        try:
            out[str(name)] = fit_series(t[rows], v[rows], options)
        except InputError as exc:
            raise InputError(f"zone {name!r}: {exc.reason}", file=str(path), column=zone) from exc
    return {"zones": out}
