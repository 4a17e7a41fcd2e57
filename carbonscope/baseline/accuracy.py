"""Stratified, bias-adjusted area estimates from a reference sample (Olofsson et al. 2014,
Remote Sensing of Environment 148: 42-57, eqs. 2-11).

The map classes are the strata. With ``W_i`` the share of the map in stratum ``i`` and ``n_ij`` the
sample counts (map ``i``, reference ``j``): ``p_ij = W_i n_ij / n_i``; the area of class ``j`` is
``A p_.j``; its standard error ``A sqrt(sum_i W_i^2 (n_ij/n_i)(1 - n_ij/n_i)/(n_i - 1))``; the 95%
interval is ±1.96 standard errors. User's accuracy ``p_jj / p_j.``, producer's ``p_jj / p_.j``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from carbonscope.errors import InputError
from carbonscope.geo.vector import read_vector


def estimate(map_area: dict[str, float], counts: pd.DataFrame) -> dict:
    """``map_area``: mapped area by class; ``counts``: sample counts, map classes as rows and
    reference classes as columns (both over the same class names)."""
    classes = list(map_area)
    counts = counts.reindex(index=classes, columns=classes, fill_value=0).astype(float)
    n_i = counts.sum(axis=1).to_numpy()
    if (n_i < 2).any():
        thin = [c for c, n in zip(classes, n_i) if n < 2]
        raise InputError(f"every map class needs at least two sample points; too few in {thin}")
    total = float(sum(map_area.values()))
    w = np.array([map_area[c] for c in classes]) / total
    frac = counts.to_numpy() / n_i[:, None]
    p = w[:, None] * frac
    p_j = p.sum(axis=0)
    se = np.sqrt(((w[:, None] ** 2) * frac * (1 - frac) / (n_i[:, None] - 1)).sum(axis=0))
    users = np.diag(p) / p.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        producers = np.diag(p) / p_j
    per_class: dict = {}
    out = {"total_area": total, "overall_accuracy": float(np.trace(p)), "n": int(n_i.sum()), "classes": per_class}
    for k, c in enumerate(classes):
        area = total * float(p_j[k])
        per_class[c] = {
            "mapped_area": float(map_area[c]),
            "area": area,
            "se": total * float(se[k]),
            "ci95": 1.96 * total * float(se[k]),
            "users_accuracy": float(users[k]),
            "producers_accuracy": float(producers[k]) if np.isfinite(producers[k]) else None,
            "n": int(n_i[k]),
        }
    out["error_matrix"] = {r: {c: float(v) for c, v in zip(classes, row)} for r, row in zip(classes, p)}
    return out


def read_sample(
    path: str | Path, x: str, y: str, reference: str, crs_default: object, target_crs: object
) -> pd.DataFrame:
    """A reference sample as x, y (in the raster's CRS) and the observed class."""
    from pyproj import Transformer

    path = str(path)
    if path.lower().endswith(".csv"):
        try:
            t = pd.read_csv(path)
        except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError, FileNotFoundError) as exc:
            raise InputError(f"cannot read the reference sample ({exc})", file=path) from None
        for col in (x, y, reference):
            if col not in t.columns:
                raise InputError(f"no column {col!r}; columns: {', '.join(t.columns)}", file=path, column=col)
        xs, ys = pd.to_numeric(t[x], errors="coerce"), pd.to_numeric(t[y], errors="coerce")
        bad = xs.isna() | ys.isna()
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0]) + 2
            raise InputError(
                "coordinates must be numbers", file=path, row=row, column=x if xs.isna().iloc[row - 2] else y
            )
        xs, ys = Transformer.from_crs(crs_default, target_crs, always_xy=True).transform(xs.to_numpy(), ys.to_numpy())
        return pd.DataFrame({"x": xs, "y": ys, "reference": t[reference].astype(str).str.strip().str.lower()})
    g = read_vector(Path(path), target_crs, what="reference sample")
    if reference not in g.columns:
        raise InputError(f"no column {reference!r}", file=path, column=reference)
    return pd.DataFrame(
        {"x": g.geometry.x, "y": g.geometry.y, "reference": g[reference].astype(str).str.strip().str.lower()}
    )
