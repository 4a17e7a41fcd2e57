"""Figures of a baseline run (matplotlib, no display): PNG files plus base64 for the report."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.colors import ListedColormap
from rasterio.windows import Window

from carbonscope.run_report import plt, save_png

if TYPE_CHECKING:
    from carbonscope.baseline.run import Run

MAX_QUICKLOOK = 1000
COLORS = {
    "forest": "#1b7837",
    "cropland": "#e6ab02",
    "grassland": "#a6d854",
    "wetland": "#4eb3d3",
    "settlement": "#d95f02",
    "other": "#bdbdbd",
    "non_forest": "#d9c9a3",
    "no_data": "#ffffff",
}


def _decimated(product, step: int) -> np.ndarray:
    g = product.grid
    rows = []
    block = max(step, (2048 // step) * step)
    for r0 in range(0, g.height, block):
        cats = product.read(Window(0, r0, g.width, min(block, g.height - r0)))
        rows.append(cats[:, ::step, ::step])
    return np.concatenate(rows, axis=1)


def change_map(r: Run, path: Path) -> str:
    """Stable forest, stable non-forest, and forest lost in each consecutive period."""
    from carbonscope.baseline import landcover

    product = landcover.open_product(r.cfg.landcover)
    try:
        g = product.grid
        step = max(1, int(np.ceil(max(g.width, g.height) / MAX_QUICKLOOK)))
        cats = _decimated(product, step)
        forest = np.isin(cats, r.change.forest)
        nodata = cats >= product.legend.nodata
        n = cats.shape[0]
        img = np.where(forest[0], 1, 2).astype(np.int16)
        for k in range(n - 1):
            img = np.where(forest[k] & ~forest[k + 1] & ~nodata[k + 1] & (img == 1), 3 + k, img)
        img = np.where(nodata.all(axis=0), 0, img)
        lost_colors = plt.get_cmap("autumn")(np.linspace(0, 0.85, max(n - 1, 1)))
        cmap = ListedColormap(["#ffffff", COLORS["forest"], "#eeeeee"] + [tuple(c) for c in lost_colors])
        b = g.bounds
        fig, ax = plt.subplots(figsize=(6.5, 6.5))
        ax.imshow(
            img, cmap=cmap, vmin=0, vmax=2 + max(n - 1, 1), extent=(b[0], b[2], b[1], b[3]), interpolation="nearest"
        )
        for s in r.tally.sets:
            for geom in s.geometries:
                for poly in getattr(geom, "geoms", [geom]):
                    x, y = poly.exterior.xy
                    ax.plot(x, y, color="black", lw=0.6)
        from matplotlib.patches import Patch

        handles = [
            Patch(color=COLORS["forest"], label=f"forest {r.tally.dates[-1]}"),
            Patch(color="#eeeeee", label=f"non-forest {r.tally.dates[0]}"),
        ]
        handles += [
            Patch(color=lost_colors[k], label=f"lost {r.tally.dates[k]}–{r.tally.dates[k + 1]}") for k in range(n - 1)
        ]
        ax.legend(handles=handles, loc="lower left", fontsize=7, framealpha=0.9)
        ax.set_title(f"Forest change ({g.crs.to_string()})", fontsize=10)
        ax.tick_params(labelsize=7)
        return save_png(fig, path)
    finally:
        product.close()


def area_bars(r: Run, path: Path) -> str:
    areas = r.results["areas_ha"]
    key = r.results["baseline_zone"]
    if key in r.results["zones"]:
        areas = r.results["zones"][key]["areas_ha"]
    dates = list(areas)
    cats = [c for c in r.results["categories"] if any(areas[d].get(c, 0) > 0 for d in dates)]
    fig, ax = plt.subplots(figsize=(7, 3.8))
    w = 0.8 / max(len(dates), 1)
    x = np.arange(len(cats))
    for k, d in enumerate(dates):
        ax.bar(
            x + k * w,
            [areas[d].get(c, 0) / 1000 for c in cats],
            w,
            label=d,
            alpha=0.6 + 0.4 * k / max(len(dates) - 1, 1),
            color=[COLORS.get(c, "#888888") for c in cats],
            edgecolor="black",
            lw=0.4,
        )
        for xi, c in zip(x, cats):
            ax.text(xi + k * w, areas[d].get(c, 0) / 1000, d, ha="center", va="bottom", fontsize=6, rotation=90)
    ax.set_xticks(x + w * (len(dates) - 1) / 2, cats)
    ax.set_ylabel("thousand ha")
    ax.set_title(f"Area by category and date: {key}", fontsize=10)
    return save_png(fig, path)


def baseline_fits(r: Run, path: Path) -> str:
    s = r.results["baseline_series"]
    t, y = np.array(s["t"]), np.array(s["y"])
    c = r.cfg.crediting
    end = (c.start + c.years) if c else t[-1] + 10
    tt = np.linspace(t[0], end, 200)
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.scatter(t, y, color="black", zorder=3, label="observed")
    for m, f in r.fits.items():
        if not f.params:
            continue
        style = "-" if m == r.chosen.method else "--"
        ax.plot(
            tt,
            f.predict(tt),
            style,
            lw=1.6 if style == "-" else 1,
            label=f"{m}  R² {f.r2:.3f}" + ("" if f.allowed and f.supported else " (cannot be chosen)"),
        )
    if c:
        ax.axvspan(c.start - 1, end - 1, color="#e8f4e8", zorder=0, label="crediting period")
    ax.set_xlabel("year")
    ax.set_ylabel(f"{s['series'].replace('_', ' ')} ({s['unit']})")
    ax.legend(fontsize=7)
    ax.set_title(f"Reference level fits (VMD0007): {r.results['baseline_zone']}", fontsize=10)
    return save_png(fig, path)


def crediting(r: Run, path: Path) -> str:
    rows = r.results["crediting"]["years"]
    years = [row["year"] for row in rows]
    fig, ax = plt.subplots(figsize=(7, 3.8))
    ax.bar(years, [row["baseline_tco2e"] / 1000 for row in rows], color="#d9c9a3", label="baseline emissions")
    ax.bar(years, [row["project_tco2e"] / 1000 for row in rows], color="#b2182b", label="project emissions", width=0.5)
    ax.plot(years, [row["creditable_tco2e"] / 1000 for row in rows], "o-", color="#1b7837", label="creditable")
    ax.set_ylabel("thousand tCO2e / yr")
    ax.legend(fontsize=8)
    ax.set_title("Emission reductions and credits", fontsize=10)
    return save_png(fig, path)


def risk_map(r: Run, path: Path) -> str:
    assert r.risk is not None  # drawn only for runs that made a risk map
    b = r.grid.bounds
    d = r.risk.density
    step = max(1, int(np.ceil(max(d.shape) / MAX_QUICKLOOK)))
    fig, ax = plt.subplots(figsize=(6.5, 6.5))
    im = ax.imshow(d[::step, ::step], cmap="inferno_r", extent=(b[0], b[2], b[1], b[3]), interpolation="nearest")
    fig.colorbar(im, ax=ax, shrink=0.7, label="deforestation density of the class (share of forest lost per period)")
    ax.set_title("Deforestation risk (VT0007-style)", fontsize=10)
    ax.tick_params(labelsize=7)
    return save_png(fig, path)


def all_figures(r: Run, folder: Path) -> dict[str, str]:
    folder.mkdir(parents=True, exist_ok=True)
    figs = {
        "change": change_map(r, folder / "change_map.png"),
        "areas": area_bars(r, folder / "areas.png"),
        "fits": baseline_fits(r, folder / "baseline_fits.png"),
    }
    if "crediting" in r.results:
        figs["crediting"] = crediting(r, folder / "crediting.png")
    if r.risk is not None:
        figs["risk"] = risk_map(r, folder / "risk_map.png")
    return figs
