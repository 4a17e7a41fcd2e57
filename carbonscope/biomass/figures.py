"""Figures of a run (matplotlib, no display): PNG files and base64 strings for the self-contained report."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import rasterio
from rasterio.enums import Resampling

from carbonscope.run_report import plt, save_png

MAX_QUICKLOOK = 900


def observed_vs_predicted(results: dict, path: Path) -> str:
    """One panel per validation scheme: held-out predictions against observations, 1:1 line, metrics."""
    n = len(results)
    fig, axes = plt.subplots(1, n, figsize=(4.2 * n, 4.2), squeeze=False)
    hi = max(max(r.observed.max(), r.predicted.max()) for r in results.values()) * 1.05
    for ax, (scheme, r) in zip(axes[0], results.items()):
        ax.scatter(r.predicted, r.observed, s=10, alpha=0.6, color="#1b7837")
        ax.plot([0, hi], [0, hi], color="grey", lw=1)
        ax.set_xlim(0, hi)
        ax.set_ylim(0, hi)
        ax.set_xlabel("predicted AGB (Mg/ha)")
        ax.set_ylabel("observed AGB (Mg/ha)")
        m = r.metrics
        ax.set_title(
            f"{scheme}\nRMSE {m['rmse']:.1f} ({m['rrmse']:.0f}%)  R² {m['r2']:.2f}  r {m['r']:.2f}", fontsize=9
        )
    return save_png(fig, path)


def _quicklook(path: Path, band: int = 1):
    with rasterio.open(path) as src:
        f = max(1, int(np.ceil(max(src.width, src.height) / MAX_QUICKLOOK)))
        data = src.read(
            band, out_shape=(src.height // f or 1, src.width // f or 1), resampling=Resampling.nearest, masked=True
        )
        b = src.bounds
    return np.ma.filled(data.astype(float), np.nan), (b.left, b.right, b.bottom, b.top)


def agb_map(agb_path: Path, aoa_path: Path | None, path: Path) -> str:
    data, extent = _quicklook(agb_path)
    fig, ax = plt.subplots(figsize=(6.5, 6))
    im = ax.imshow(
        data, extent=extent, cmap="YlGn", vmin=0, vmax=np.nanpercentile(data, 99) if np.isfinite(data).any() else 1
    )
    if aoa_path is not None:
        flag, _ = _quicklook(aoa_path)
        outside = np.where(flag == 0, 1.0, np.nan)
        ax.imshow(outside, extent=extent, cmap="Reds", vmin=0, vmax=1.5, alpha=0.7)
    fig.colorbar(im, ax=ax, shrink=0.8, label="AGB (Mg/ha)")
    ax.set_title("Above-ground biomass" + (" (red: outside the area of applicability)" if aoa_path else ""), fontsize=9)
    ax.ticklabel_format(useOffset=False, style="plain")
    ax.tick_params(labelsize=7)
    return save_png(fig, path)


def residual_map(x: np.ndarray, y: np.ndarray, residual: np.ndarray, agb_path: Path, path: Path) -> str:
    data, extent = _quicklook(agb_path)
    fig, ax = plt.subplots(figsize=(6.5, 6))
    ax.imshow(data, extent=extent, cmap="Greys", alpha=0.5)
    lim = np.nanpercentile(np.abs(residual), 95) or 1
    sc = ax.scatter(x, y, c=residual, cmap="RdBu", vmin=-lim, vmax=lim, s=18, edgecolor="k", linewidth=0.3)
    fig.colorbar(sc, ax=ax, shrink=0.8, label="observed - predicted (Mg/ha), held out")
    ax.set_title("Residuals of the spatial cross-validation", fontsize=9)
    ax.ticklabel_format(useOffset=False, style="plain")
    ax.tick_params(labelsize=7)
    return save_png(fig, path)


def importance(imp: dict, path: Path) -> str:
    names = list(imp)[::-1]
    fig, ax = plt.subplots(figsize=(6, 0.3 * len(names) + 1))
    ax.barh(names, [imp[n] for n in names], color="#5aae61")
    ax.set_xlabel("increase of RMSE when permuted (Mg/ha), held-out folds")
    return save_png(fig, path)
