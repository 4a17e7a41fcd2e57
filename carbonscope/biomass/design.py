"""Is the sample a probability sample of the area? The interval of a total (the model-assisted
difference estimator) assumes the labelled plots are a random sample of the mapped area; plots at a
few sites, or footprints along a few orbits, are not, and their interval is too narrow. This says
how clustered the sample is and how much of the area it spans, and warns when it is clearly not."""

from __future__ import annotations

import numpy as np
from scipy.sparse.csgraph import connected_components
from scipy.spatial import ConvexHull, QhullError, cKDTree

LINK_M = 2_000.0  # plots closer than this (chained) form one site
MIN_SITES = 5
MIN_HULL_SHARE = 0.10


def sample_design(x_m: np.ndarray, y_m: np.ndarray, area_m2: float) -> dict:
    """Sites (groups of plots within ``LINK_M`` of each other), the share of the area the sample's
    convex hull covers, and a warning when the sample cannot be taken for a probability sample."""
    pts = np.column_stack([np.asarray(x_m, float), np.asarray(y_m, float)])
    pts = pts[np.isfinite(pts).all(axis=1)]
    n = len(pts)
    out: dict = {"n": n, "link_m": LINK_M, "interval_assumes": "a simple random sample of the mapped area"}
    if n == 0:
        return out
    pairs = cKDTree(pts).sparse_distance_matrix(cKDTree(pts), LINK_M, output_type="coo_matrix")
    sites, _ = connected_components(pairs, directed=False)
    try:
        hull = ConvexHull(pts).volume if n >= 3 else 0.0  # in 2-D, volume is the area
    except QhullError:  # all plots on a line
        hull = 0.0
    share = hull / area_m2 if area_m2 > 0 else float("nan")
    out |= {"sites": int(sites), "hull_share_of_area": float(share)}
    reasons = []
    if sites < MIN_SITES:
        reasons.append(f"the {n} labels lie at {sites} site(s) (plots within {LINK_M / 1000:g} km of each other)")
    if np.isfinite(share) and share < MIN_HULL_SHARE:
        reasons.append(f"they span {share:.1%} of the mapped area")
    if reasons:
        out["warning"] = (
            "not a probability sample of the area: "
            + " and ".join(reasons)
            + "; the interval of the totals treats them as a random sample and is likely too narrow"
        )
    return out
