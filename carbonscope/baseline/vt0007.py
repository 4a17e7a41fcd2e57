"""VT0007's benchmark risk map and its confirmation by weighted RMSE (VCS Tool VT0007, Unplanned
Deforestation Allocation v1.0, 2024), as the deforisk QGIS plugin's ``riskmapjnr`` computes it.

Benchmark model, calibrated on a period (t_a, t_b):

1. Distance of every forest pixel at t_a to the forest edge (the nearest non-forest pixel).
2. The **distance threshold**: the distance within which 99.5% of the period's deforestation lay.
3. **Vulnerability classes**: 29 geometric distance bins from one pixel to the threshold (class 30
   nearest the edge, class 2 farthest inside the threshold) and class 1 beyond it, crossed with the
   **sub-jurisdiction**: class code = 1000 x distance class + sub-jurisdiction number.
4. The period's deforestation rate of each class: pixels lost over forest pixels.

Confirmation on the next period (t_b, t_c): the classes recomputed on the forest at t_b (the same
bins), the calibration rates applied and scaled so their total equals the deforestation observed
in the period (the quantity is VMD0007's business; the map only allocates), and predicted against
observed deforestation compared in square cells: **wRMSE** = sqrt(sum w_i (pred_i - obs_i)^2) in
hectares, w_i the cell's share of the forest at t_b. An alternative model is used instead of the
benchmark only when its wRMSE on the same cells is lower (VT0007's model selection).

The map used for allocation is the chosen model calibrated on the whole historical period
(t_first, t_last) and applied to the forest at t_last; the project's share is the sum of its
pixels' expected deforestation over the jurisdiction's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

THRESHOLD_SHARE = 0.995
DISTANCE_BINS = 29  # + class 1 beyond the threshold: 30 distance classes
CELL_M = 1000.0
MIN_CELLS = 1000  # riskmapjnr refuses fewer cells with forest; here a warning


def distance_to(mask_from: np.ndarray, res: float) -> np.ndarray:
    """Distance (m) of every pixel to the nearest True pixel of ``mask_from`` (inf when none)."""
    if not mask_from.any():
        return np.full(mask_from.shape, np.inf, dtype=np.float32)
    return (ndimage.distance_transform_edt(~mask_from) * res).astype(np.float32)


def edge_distance(forest: np.ndarray, valid: np.ndarray, res: float) -> np.ndarray:
    """Metres from every pixel to the nearest valid non-forest pixel (inf when there is none)."""
    return distance_to(~forest & valid, res)


def threshold(d_edge: np.ndarray, lost: np.ndarray, share: float = THRESHOLD_SHARE) -> float:
    """The distance within which ``share`` of the lost pixels lay (the empirical quantile)."""
    d = d_edge[lost]
    if d.size == 0:
        raise ValueError("no deforestation in the calibration period: the distance threshold is undefined")
    return float(np.quantile(d, share, method="inverted_cdf"))


def distance_bins(res: float, limit: float, n: int = DISTANCE_BINS) -> np.ndarray:
    """``n`` geometric bins from one pixel to ``limit``: n + 1 edges, the first the pixel size."""
    limit = max(limit, res * (1 + 1e-6))
    ratio = (res / limit) ** (1 / n)
    edges = np.array([limit * ratio ** (n - i) for i in range(n + 1)])
    edges[0] = res
    return edges


def classes(forest: np.ndarray, d_edge: np.ndarray, bins: np.ndarray, subj: np.ndarray) -> np.ndarray:
    """Class codes (1000 x distance class + sub-jurisdiction); 0 outside forest or sub-jurisdictions."""
    n = len(bins) - 1
    k = np.clip(np.searchsorted(bins, d_edge, side="left"), 1, n) - 1  # bins (e_i, e_i+1], the first closed
    dist_class = (n + 1 - k).astype(np.int32)  # nearest the edge: n + 1 (30)
    dist_class[d_edge > bins[-1]] = 1
    code = dist_class * 1000 + subj.astype(np.int32)
    return np.where(forest & (subj > 0), code, 0)


def rates(cls: np.ndarray, lost: np.ndarray) -> dict[int, tuple[int, int, float]]:
    """Per class: forest pixels, lost pixels, and their ratio (the period's rate)."""
    codes, forest_n = np.unique(cls[cls > 0], return_counts=True)
    lost_codes, lost_n = np.unique(cls[(cls > 0) & lost], return_counts=True)
    lost_by = dict(zip(lost_codes.tolist(), lost_n.tolist(), strict=True))
    return {
        int(c): (int(f), int(lost_by.get(c, 0)), lost_by.get(c, 0) / f) for c, f in zip(codes, forest_n, strict=True)
    }


def expected(cls: np.ndarray, table: dict[int, tuple[int, int, float]], total: float | None = None) -> np.ndarray:
    """Each pixel's expected loss (0..1) from its class's rate; scaled to ``total`` pixels when given.
    A class the calibration never saw (no forest then) takes the rate 0."""
    lut_codes = np.array(sorted(table), dtype=np.int64)
    lut = np.array([table[c][2] for c in lut_codes])
    idx = np.searchsorted(lut_codes, cls)
    hit = (cls > 0) & (idx < len(lut_codes)) & (lut_codes[np.clip(idx, 0, len(lut_codes) - 1)] == cls)
    p = np.where(hit, lut[np.clip(idx, 0, len(lut) - 1)], 0.0)
    if total is not None and p.sum() > 0:
        p = p * (total / p.sum())
    return p


def cell_sums(values: np.ndarray, cell_px: int) -> np.ndarray:
    """Sums of ``values`` over square cells of ``cell_px`` pixels (edge cells smaller)."""
    h, w = values.shape
    ny, nx = -(-h // cell_px), -(-w // cell_px)
    padded = np.zeros((ny * cell_px, nx * cell_px), dtype=float)
    padded[:h, :w] = values
    return padded.reshape(ny, cell_px, nx, cell_px).sum(axis=(1, 3))


def wrmse(pred: np.ndarray, lost: np.ndarray, forest: np.ndarray, cell_px: int, px_ha: float) -> dict:
    """Weighted RMSE (ha) of predicted against observed loss in cells, weights the cells' forest shares."""
    f = cell_sums(forest.astype(float), cell_px)
    keep = f > 0
    p = cell_sums(pred, cell_px)[keep] * px_ha
    o = cell_sums(lost.astype(float), cell_px)[keep] * px_ha
    w = f[keep] / f[keep].sum()
    return {"wrmse_ha": float(np.sqrt(np.sum(w * (p - o) ** 2))), "cells": int(keep.sum())}


@dataclass
class Benchmark:
    threshold_m: float
    bins_m: list[float]
    rates: dict[int, tuple[int, int, float]]

    @classmethod
    def calibrate(cls, forest_a, forest_b, valid, subj, res) -> Benchmark:
        lost = forest_a & ~forest_b & valid & (subj > 0)
        d = edge_distance(forest_a, valid, res)
        t = threshold(d, lost)
        bins = distance_bins(res, t)
        return cls(t, bins.tolist(), rates(classes(forest_a, d, bins, subj), lost))

    def expected(self, forest, valid, subj, res, total: float | None = None) -> np.ndarray:
        d = edge_distance(forest, valid, res)
        return expected(classes(forest, d, np.asarray(self.bins_m), subj), self.rates, total)


def assess(
    is_forest: np.ndarray,
    valid: np.ndarray,
    dates: list[str],
    subj: np.ndarray,
    project: np.ndarray,
    res: float,
    px_ha: float,
    alternative=None,
    cell_m: float = CELL_M,
) -> dict:
    """VT0007 on a stack of forest masks (date, row, col): the benchmark calibrated on the first
    period and confirmed on the next, an ``alternative(forest_a, forest_b, forest_apply) -> expected``
    confirmed on the same cells, the model with the lower wRMSE chosen, and the chosen model
    calibrated on the whole historical period to give the project's share. ``subj``: sub-jurisdiction
    number per pixel (0 outside the jurisdiction)."""
    n = is_forest.shape[0]
    if n < 3:
        raise ValueError("VT0007 needs three dates: a calibration and a confirmation period")
    inside = subj > 0
    f = [is_forest[k] & valid[k] for k in range(n)]
    ok = np.logical_and.reduce(list(valid))
    cell_px = max(1, round(cell_m / res))
    lost_conf = f[n - 2] & ~f[n - 1] & ok & inside
    bench = Benchmark.calibrate(f[0], f[n - 2], ok, subj, res)
    observed = float(lost_conf.sum())
    pred_b = bench.expected(f[n - 2], ok, subj, res, total=observed)
    scores = {"benchmark": wrmse(pred_b, lost_conf, f[n - 2] & inside, cell_px, px_ha)}
    if alternative is not None:
        pred_a = np.where(inside, alternative(f[0], f[n - 2], f[n - 2]), 0.0)
        pred_a = pred_a * (observed / pred_a.sum()) if pred_a.sum() > 0 else pred_a
        scores["alternative"] = wrmse(pred_a, lost_conf, f[n - 2] & inside, cell_px, px_ha)
    chosen = min(scores, key=lambda k: scores[k]["wrmse_ha"])
    final = Benchmark.calibrate(f[0], f[n - 1], ok, subj, res)
    p_final = final.expected(f[n - 1], ok, subj, res)
    shares = {"benchmark": float(p_final[project & inside].sum() / p_final[inside].sum())}
    if alternative is not None:
        p_alt = np.where(inside, alternative(f[0], f[n - 1], f[n - 1]), 0.0)
        shares["alternative"] = float(p_alt[project & inside].sum() / p_alt[inside].sum())
    lost_all = f[0] & ~f[n - 1] & ok & inside
    warnings = []
    if scores["benchmark"]["cells"] < MIN_CELLS:
        warnings.append(
            f"only {scores['benchmark']['cells']} cells of {cell_m / 1000:g} km hold forest; VT0007's confirmation "
            f"asks for at least {MIN_CELLS} (smaller cells give more)"
        )
    return {
        "calibration_period": f"{dates[0]}/{dates[n - 2]}",
        "confirmation_period": f"{dates[n - 2]}/{dates[n - 1]}",
        "historical_period": f"{dates[0]}/{dates[n - 1]}",
        "distance_threshold_m": bench.threshold_m,
        "final_distance_threshold_m": final.threshold_m,
        "classes": len(final.rates),
        "subjurisdictions": int(len(np.unique(subj[subj > 0]))),
        "cell_km": cell_px * res / 1000,
        "wrmse_ha": {k: v["wrmse_ha"] for k, v in scores.items()},
        "cells": scores["benchmark"]["cells"],
        "chosen": chosen,
        "rule": "the model with the lower weighted RMSE on the confirmation period (VT0007 model selection)"
        if alternative is not None
        else "the benchmark model (no alternative given)",
        "project_share": shares,
        "share": shares[chosen],
        "historical_share": float(lost_all[project].sum() / lost_all.sum()) if lost_all.any() else float("nan"),
        "warnings": warnings,
    }
