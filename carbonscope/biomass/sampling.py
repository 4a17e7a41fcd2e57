"""Samples: features under labelled points and plots, and random or stratified points in the domain.

A plot's features are the mean of the pixels under its circle, each weighted by the area it
shares with the circle (as exactextractr's area-weighted mean); radius 0 takes the pixel under the
point. Reading goes block by block, so memory does not depend on the raster size.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from rasterio.windows import Window

from carbonscope.biomass.domain import Domain
from carbonscope.biomass.features import FeatureSpec
from carbonscope.biomass.layers import LayerReader
from carbonscope.errors import InputError
from carbonscope.geo import metric
from carbonscope.geo.grid import Grid
from carbonscope.progress import NullProgress, Progress

BLOCK = 256
MIN_VALID_WEIGHT = 0.5


def pixel_weights(grid: Grid, x: float, y: float, radius: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows, cols and area weights (summing to 1) of the pixels under a plot of ``radius`` metres
    (a geodesic circle on a geographic grid; a pixel's weight is its share of the plot's area)."""
    (r0,), (c0,) = grid.rowcol(np.array([x]), np.array([y]))
    if radius <= 0:
        return np.array([r0]), np.array([c0]), np.array([1.0])
    plot = metric.circle(x, y, radius, grid.crs)
    t = grid.transform
    left, bottom, right, top = plot.bounds
    (ra, rb), (ca, cb) = grid.rowcol(np.array([left, right]), np.array([top, bottom]))
    r2, c2 = np.meshgrid(np.arange(ra - 1, rb + 2), np.arange(ca - 1, cb + 2), indexing="ij")
    rr, cc = r2.ravel(), c2.ravel()
    px_left = t.c + cc * t.a
    px_top = t.f + rr * t.e
    boxes = shapely.box(px_left, px_top + t.e, px_left + t.a, px_top)
    area = shapely.area(shapely.intersection(boxes, plot))
    keep = area > 0
    w = area[keep] / area[keep].sum()
    return rr[keep], cc[keep], w


def point_features(
    reader: LayerReader,
    spec: FeatureSpec,
    domain: Domain,
    xs: np.ndarray,
    ys: np.ndarray,
    radii: np.ndarray,
    progress: Progress | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Features (n, n_features) under each point or plot, and whether each lies in the domain.

    A feature is NaN when pixels holding less than half the plot's area have it.
    """
    progress = progress or NullProgress()
    grid = domain.grid
    xs, ys, radii = (np.asarray(a, dtype=float) for a in (xs, ys, radii))
    n, f = len(xs), len(spec.names)
    out = np.full((n, f), np.nan, dtype="float64")
    inside = np.zeros(n, dtype=bool)
    parts = [pixel_weights(grid, x, y, r) for x, y, r in zip(xs, ys, radii)]
    centre_r, centre_c = grid.rowcol(xs, ys)
    on_grid = (centre_r >= 0) & (centre_r < grid.height) & (centre_c >= 0) & (centre_c < grid.width)
    keys = (centre_r // BLOCK) * 1_000_003 + (centre_c // BLOCK)
    task = progress.task("features under labels", total=int(on_grid.sum()))
    for key in np.unique(keys[on_grid]):
        sel = np.flatnonzero((keys == key) & on_grid)
        rows = np.concatenate([parts[i][0] for i in sel])
        cols = np.concatenate([parts[i][1] for i in sel])
        r0, c0 = int(rows.min()), int(cols.min())
        win = Window(c0, r0, int(cols.max()) - c0 + 1, int(rows.max()) - r0 + 1)
        arrays = reader.read(win, halo=spec.halo)
        stack = spec.stack(arrays, grid.resolution, crop=spec.halo)
        valid = domain.valid(win, arrays, halo=spec.halo)
        for i in sel:
            pr, pc, w = parts[i]
            vals = stack[:, pr - r0, pc - c0]  # (f, k)
            ok = ~np.isnan(vals)
            wsum = (ok * w).sum(axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                mean = np.nansum(vals * w, axis=1) / wsum
            mean[wsum < MIN_VALID_WEIGHT] = np.nan
            out[i] = mean
            inside[i] = bool(valid[centre_r[i] - r0, centre_c[i] - c0])
        progress.advance(task, len(sel))
    return out, inside


def sample_table(
    labels: pd.DataFrame, reader: LayerReader, spec: FeatureSpec, domain: Domain, progress: Progress | None = None
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Labels joined with their features; rows outside the grid, the AOI or the mask, or without features, dropped and counted."""
    feats, inside = point_features(reader, spec, domain, labels.x, labels.y, labels.radius, progress)
    table = labels.copy()
    for j, name in enumerate(spec.names):
        table[name] = feats[:, j]
    complete = ~np.isnan(feats).any(axis=1)
    r, c = domain.grid.rowcol(labels.x.to_numpy(), labels.y.to_numpy())
    on_grid = (r >= 0) & (r < domain.grid.height) & (c >= 0) & (c < domain.grid.width)
    dropped = {}
    if (~on_grid).any():
        dropped["outside the grid"] = int((~on_grid).sum())
    if (on_grid & ~inside).any():
        dropped["outside the AOI or the mask"] = int((on_grid & ~inside).sum())
    if (inside & ~complete).any():
        dropped["missing features (no data under the plot)"] = int((inside & ~complete).sum())
    keep = inside & complete
    if not keep.any():
        why = "; ".join(f"{v} {k}" for k, v in dropped.items()) or "no labels"
        raise InputError(
            f"no usable samples of {len(labels)} labels ({why}); check the labels' CRS, the AOI and the mask"
        )
    return table[keep].reset_index(drop=True), dropped


def _thin(xs: np.ndarray, ys: np.ndarray, min_distance: float, rng: np.random.Generator) -> np.ndarray:
    """Indices of a subset with no two points closer than ``min_distance`` (greedy, random order)."""
    if min_distance <= 0 or len(xs) < 2:
        return np.arange(len(xs))
    order = rng.permutation(len(xs))
    cell: dict[tuple[int, int], list[int]] = {}
    kept = []
    for i in order:
        gx, gy = int(xs[i] // min_distance), int(ys[i] // min_distance)
        ok = True
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                for j in cell.get((gx + dx, gy + dy), ()):
                    if (xs[i] - xs[j]) ** 2 + (ys[i] - ys[j]) ** 2 < min_distance**2:
                        ok = False
                        break
                if not ok:
                    break
            if not ok:
                break
        if ok:
            kept.append(i)
            cell.setdefault((gx, gy), []).append(i)
    return np.sort(np.array(kept, dtype=int))


def random_points(
    reader: LayerReader,
    domain: Domain,
    n: int,
    *,
    seed: int = 0,
    min_distance: float = 0.0,
    strata_layer: str | None = None,
    window: int = 1024,
    progress: Progress | None = None,
) -> pd.DataFrame:
    """N pixel-centre points drawn uniformly (or equally per stratum) from the domain's valid pixels.

    Two passes over windows: count valid pixels (per stratum), then draw in each window its share.
    With ``min_distance``, three times as many candidates are drawn and thinned greedily.
    """
    progress = progress or NullProgress()
    rng = np.random.default_rng(seed)
    grid = domain.grid
    wins = list(grid.windows(window))
    counts: list[dict] = []
    task = progress.task("counting valid pixels", total=len(wins))
    for win in wins:
        arrays = reader.read(win)
        ok = domain.valid(win, arrays)
        for a in arrays.values():
            ok &= ~np.isnan(a)
        if strata_layer:
            s = arrays[strata_layer][ok]
            vals, cnt = np.unique(s, return_counts=True)
            counts.append(dict(zip(vals.tolist(), cnt.tolist())))
        else:
            counts.append({0: int(ok.sum())})
        progress.advance(task)
    strata = sorted({k for c in counts for k in c})
    total_by_stratum = {s: sum(c.get(s, 0) for c in counts) for s in strata}
    if sum(total_by_stratum.values()) == 0:
        raise InputError("no valid pixels to sample: the AOI, the mask and the layers' data do not overlap")
    want = n * (3 if min_distance > 0 else 1)
    per_stratum = {s: (want // len(strata) if strata_layer else want) for s in strata}
    draws = []  # (window index, stratum, count)
    for s in strata:
        k = min(per_stratum[s], total_by_stratum[s])
        p = np.array([c.get(s, 0) for c in counts], dtype=float)
        alloc = rng.multinomial(k, p / p.sum()) if k else np.zeros(len(counts), int)
        draws += [(i, s, int(a)) for i, a in enumerate(alloc) if a]
    rows, cols, strat = [], [], []
    task = progress.task("drawing points", total=len(draws))
    for i, s, k in draws:
        win = wins[i]
        arrays = reader.read(win)
        ok = domain.valid(win, arrays)
        for a in arrays.values():
            ok &= ~np.isnan(a)
        if strata_layer:
            ok &= arrays[strata_layer] == s
        idx = np.flatnonzero(ok.ravel())
        pick = rng.choice(idx, size=min(k, len(idx)), replace=False)
        r, c = np.unravel_index(pick, ok.shape)
        rows.append(r + int(win.row_off))
        cols.append(c + int(win.col_off))
        strat.append(np.full(len(pick), s))
        progress.advance(task)
    all_rows, all_cols, all_strata = np.concatenate(rows), np.concatenate(cols), np.concatenate(strat)
    xs, ys = grid.xy(all_rows, all_cols)
    keep = _thin(*metric.to_metres(xs, ys, grid.crs), min_distance, rng)  # min_distance in metres
    if min_distance > 0:
        take = []
        for s in strata:  # keep the allocation per stratum after thinning
            ks = keep[all_strata[keep] == s]
            take.append(ks[: (n // len(strata) if strata_layer else n)])
        keep = np.sort(np.concatenate(take))
    df = pd.DataFrame({"x": xs[keep], "y": ys[keep], "row": all_rows[keep], "col": all_cols[keep]})
    if strata_layer:
        df["stratum"] = all_strata[keep]
    return df.reset_index(drop=True)


def alignment_check(
    reader: LayerReader, spec: FeatureSpec, domain: Domain, labels: pd.DataFrame, max_shift: int = 3
) -> dict:
    """How well labels correlate with each feature when the points move by whole pixels.

    Misregistration between plots and rasters is common (mosaic geolocation, a wrong CRS, pixel
    corner vs centre). If the strongest correlation sits at a shift other than zero, the report
    says so; the shift is never applied on its own (choosing it on the same labels would flatter
    the validation): set the layer's ``shift`` after checking the data.
    """
    grid = domain.grid
    res = grid.resolution
    y = labels.agb.to_numpy(float)
    r, c = grid.rowcol(labels.x.to_numpy(), labels.y.to_numpy())
    shifts = [(dy, dx) for dy in range(-max_shift, max_shift + 1) for dx in range(-max_shift, max_shift + 1)]
    values = np.full((len(shifts), len(spec.names), len(y)), np.nan)
    keys = (r // BLOCK) * 1_000_003 + (c // BLOCK)
    for key in np.unique(keys):
        sel = np.flatnonzero(keys == key)
        r0, c0 = int(r[sel].min()) - max_shift, int(c[sel].min()) - max_shift
        win = Window(c0, r0, int(c[sel].max()) + max_shift - c0 + 1, int(r[sel].max()) + max_shift - r0 + 1)
        stack = spec.stack(reader.read(win, halo=spec.halo), res, crop=spec.halo)
        for k, (dy, dx) in enumerate(shifts):  # moving a point north (dy > 0) means a smaller row
            values[k][:, sel] = stack[:, r[sel] - dy - r0, c[sel] + dx - c0]
    rows = []
    for k, (dy, dx) in enumerate(shifts):
        for j, name in enumerate(spec.names):
            v = values[k, j]
            ok = np.isfinite(v) & np.isfinite(y)
            if ok.sum() > 10 and np.std(v[ok]) > 0:
                rows.append(
                    {"dx_m": dx * res, "dy_m": dy * res, "feature": name, "r": float(np.corrcoef(v[ok], y[ok])[0, 1])}
                )
    t = pd.DataFrame(rows)
    if t.empty:
        return {}
    t["abs_r"] = t.r.abs()
    best = t.loc[t.abs_r.idxmax()]
    zero = t[(t.dx_m == 0) & (t.dy_m == 0) & (t.feature == best.feature)]
    r0_ = float(zero.r.iloc[0]) if len(zero) else float("nan")
    return {
        "feature": best.feature,
        "r_at_zero": r0_,
        "best_r": float(best.r),
        "best_dx_m": float(best.dx_m),
        "best_dy_m": float(best.dy_m),
        "suspicious": bool((best.dx_m != 0 or best.dy_m != 0) and abs(best.r) - abs(r0_) > 0.1),
    }
