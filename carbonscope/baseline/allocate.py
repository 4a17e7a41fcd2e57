"""Allocating a jurisdictional baseline to a project area.

- historical share: the project's share of the jurisdiction's deforestation over the historical
  periods;
- risk map, after VT0007 (the tool behind VM0048): the deforestation density of the last historical
  period in classes of distance to the forest edge and to the deforestation of the period before (equal-
  area quantile classes, ``bins`` per factor), calibrated at the start of that period and applied to
  the forest at the last date. The project's share is the sum of its forest pixels' densities over the
  jurisdiction's. With three or more dates the model is also checked on the last period after
  calibration on the one before it (edge distance only): the project's predicted share against the share
  it then had.

The check passes when the predicted share is within ``CHECK_TOLERANCE`` (a factor of 1.5) of the
observed one; CarbonScope's own threshold, stated with the result: a plausibility check, and a failed
one is reported as a warning. VT0007 as written (its benchmark map by sub-jurisdiction, the
weighted-RMSE confirmation and the choice between models) is :mod:`carbonscope.baseline.vt0007`,
run beside this map with three dates or more (``allocation.use = "vt0007"`` lets it drive crediting).
Classes that hold no forest (quantile ties, empty joint classes of the two factors) are left out of
the table and the count.

The risk map is computed in memory over the raster (one float per pixel).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from rasterio.windows import Window

from carbonscope.baseline import vt0007 as tool
from carbonscope.baseline.landcover import Product
from carbonscope.baseline.vt0007 import distance_to as _distance
from carbonscope.baseline.zones import ZoneSet

CHECK_TOLERANCE = 1.5  # predicted / observed share within [1/1.5, 1.5] passes


@dataclass
class RiskMap:
    density: np.ndarray  # float32, nan outside forest at the last date
    classes: np.ndarray  # class per pixel (-1 outside forest)
    table: list[dict]  # per class: distance ranges, forest ha, deforested ha, density
    share: float
    validation: dict | None
    factors: list[str]


def _edges(values: np.ndarray, bins: int) -> np.ndarray:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return np.array([])
    q = np.unique(np.quantile(finite, np.linspace(0, 1, bins + 1)[1:-1]))
    return q


def _classify(d_edge, d_past, e_edge, e_past) -> np.ndarray:
    c = np.searchsorted(e_edge, d_edge, side="right")
    if d_past is not None:
        p = np.searchsorted(e_past, np.where(np.isfinite(d_past), d_past, np.finfo(np.float32).max), side="right")
        c = c * (len(e_past) + 1) + p
    return c


def _model(forest0, lost, d_edge, d_past, inside, bins):
    """Density per class from one period: forest0 at its start, lost during it, inside the jurisdiction."""
    sel = forest0 & inside
    e_edge = _edges(d_edge[sel], bins)
    e_past = _edges(d_past[sel], bins) if d_past is not None else None
    n = (len(e_edge) + 1) * ((len(e_past) + 1) if e_past is not None else 1)
    cls = _classify(d_edge, d_past, e_edge, e_past)
    forest_n = np.bincount(cls[sel], minlength=n)
    lost_n = np.bincount(cls[sel & lost], minlength=n)
    dens = np.divide(lost_n, forest_n, out=np.zeros(n), where=forest_n > 0)
    return e_edge, e_past, dens, forest_n, lost_n


def risk_map(product: Product, inside: np.ndarray, project: np.ndarray, bins: int = 5) -> RiskMap:
    """``inside``/``project``: boolean masks of the jurisdiction and the project on the product's grid."""
    g = product.grid
    cats = product.read(Window(0, 0, g.width, g.height))
    forest_idx = np.array(product.forest)
    is_forest = np.isin(cats, forest_idx)
    nodata = cats >= product.legend.nodata
    res = abs(g.transform.a)
    n = cats.shape[0]
    if n < 2:
        raise ValueError("a risk map needs at least two dates")
    # calibration on the last period
    f0, f1 = is_forest[n - 2], is_forest[n - 1]
    lost = f0 & ~f1 & ~nodata[n - 1]
    d_edge0 = _distance(~f0 & ~nodata[n - 2], res)
    d_past0 = _distance(is_forest[n - 3] & ~is_forest[n - 2] & ~nodata[n - 2], res) if n >= 3 else None
    e_edge, e_past, dens, forest_n, lost_n = _model(f0, lost, d_edge0, d_past0, inside, bins)
    # application at the last date
    d_edge1 = _distance(~f1 & ~nodata[n - 1], res)
    d_past1 = _distance(lost, res) if n >= 3 else None
    cls1 = _classify(d_edge1, d_past1, e_edge, e_past)
    density = np.where(f1, dens[np.clip(cls1, 0, len(dens) - 1)], np.nan).astype(np.float32)
    classes = np.where(f1, cls1, -1)
    juris = np.nansum(np.where(inside, density, 0))
    share = float(np.nansum(np.where(project & inside, density, 0)) / juris) if juris > 0 else float("nan")
    px_ha = float(abs(g.transform.a * g.transform.e)) / 10_000 if not g.crs.is_geographic else float("nan")
    table = []
    n_past = (len(e_past) + 1) if e_past is not None else 1
    for k in range(len(dens)):
        ke, kp = divmod(k, n_past)
        row = {
            "class": k,
            "edge_from_m": float(([0.0] + list(e_edge))[ke]),
            "edge_to_m": float((list(e_edge) + [np.inf])[ke]),
            "forest_ha": float(forest_n[k]) * px_ha,
            "deforested_ha": float(lost_n[k]) * px_ha,
            "density": float(dens[k]),
        }
        if e_past is not None:
            row |= {"past_from_m": float(([0.0] + list(e_past))[kp]), "past_to_m": float((list(e_past) + [np.inf])[kp])}
        if forest_n[k] > 0:  # a class without forest takes no share: not a class of the map
            table.append(row)
    validation = None
    if n >= 3:
        fa, fb = is_forest[n - 3], is_forest[n - 2]
        lost_a = fa & ~fb & ~nodata[n - 2]
        ea, _, dens_a, _, _ = _model(fa, lost_a, _distance(~fa & ~nodata[n - 3], res), None, inside, bins)
        c_b = _classify(d_edge0, None, ea, None)
        pred = np.where(f0, dens_a[np.clip(c_b, 0, len(dens_a) - 1)], 0.0)
        tot = pred[inside].sum()
        pred_share = float(pred[inside & project].sum() / tot) if tot > 0 else float("nan")
        obs_tot = (lost & inside).sum()
        obs_share = float((lost & inside & project).sum() / obs_tot) if obs_tot else float("nan")
        ratio = pred_share / obs_share if obs_share and np.isfinite(obs_share) else float("nan")
        passed = bool(np.isfinite(ratio) and 1 / CHECK_TOLERANCE <= ratio <= CHECK_TOLERANCE)
        validation = {
            "calibrated_on": f"{product.dates[n - 3]}/{product.dates[n - 2]}",
            "tested_on": f"{product.dates[n - 2]}/{product.dates[n - 1]}",
            "predicted_share": pred_share,
            "observed_share": obs_share,
            "ratio": ratio,
            "tolerance": CHECK_TOLERANCE,
            "passed": passed,
        }
    factors = ["distance to forest edge"] + (["distance to past deforestation"] if n >= 3 else [])
    return RiskMap(density, classes, table, share, validation, factors)


def zone_mask(zs: ZoneSet, name: str, product: Product) -> np.ndarray:
    g = product.grid
    ids = zs.rasterize(g, Window(0, 0, g.width, g.height))
    return ids == (zs.names.index(name) + 1)


def historical_share(project_deforestation: float, jurisdiction_deforestation: float) -> float:
    return project_deforestation / jurisdiction_deforestation if jurisdiction_deforestation > 0 else float("nan")


def vt0007(product: Product, subj: np.ndarray, project: np.ndarray, bins: int, cell_m: float) -> dict:
    """VT0007's benchmark map confirmed against CarbonScope's edge-distance quantile model (the
    alternative) by weighted RMSE; ``subj``: sub-jurisdiction number per pixel, 0 outside."""
    g = product.grid
    cats = product.read(Window(0, 0, g.width, g.height))
    is_forest = np.isin(cats, np.array(product.forest))
    valid = cats < product.legend.nodata
    res = abs(g.transform.a)
    px_ha = float(abs(g.transform.a * g.transform.e)) / 10_000
    ok = np.logical_and.reduce(list(valid))
    inside = subj > 0

    def alternative(fa, fb, f_apply):
        lost = fa & ~fb & ok
        e, _, dens, _, _ = _model(fa, lost, _distance(~fa & ok, res), None, inside, bins)
        c = _classify(_distance(~f_apply & ok, res), None, e, None)
        return np.where(f_apply, dens[np.clip(c, 0, len(dens) - 1)], 0.0)

    out = tool.assess(is_forest, valid, list(product.dates), subj, project, res, px_ha, alternative, cell_m)
    out["alternative"] = f"CarbonScope's map: {bins} equal-area classes of distance to the forest edge"
    return out
