"""An existing biomass map checked against field plots (the core of Plot2Map): each plot compared
with the area-weighted mean of the map's pixels under its footprint, plots on no data skipped and
counted, the time between a plot's measurement and the map's date reported, accuracy overall and
by biomass bin. (For a map made by the carbon analyst, its held-out validation is the honest one:
plots used for training cannot validate the map they made.)"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import rasterio
from pyproj import CRS, Transformer
from rasterio.windows import Window

from carbonscope.biomass.sampling import MIN_VALID_WEIGHT, pixel_weights
from carbonscope.biomass.validation import metrics
from carbonscope.columns import numeric_column
from carbonscope.errors import InputError
from carbonscope.geo.grid import Grid
from carbonscope.geo.vector import read_vector

MAX_GAP_YEARS = 5  # a larger gap between plot and map is warned about (forests change)


def read_validation_plots(
    path: Path, *, agb: str, x: str = "x", y: str = "y", crs: str | None = None
) -> tuple[pd.DataFrame, CRS]:
    """Plots as a table with ``x``, ``y`` (in the returned CRS) and ``agb`` (Mg/ha), plus their columns."""
    path = Path(path)
    if not path.exists():
        raise InputError("no such plot file", file=str(path))
    if path.suffix.lower() in (".csv", ".txt"):
        df = pd.read_csv(path)
        if crs is None:
            raise InputError("--crs is needed for a CSV of plots (the CRS of its coordinates)", file=str(path))
        out = df.assign(x=numeric_column(df, x, path), y=numeric_column(df, y, path))
        src_crs = CRS.from_user_input(crs)
    else:
        gdf = read_vector(path, what="plot file")
        pts = gdf.geometry.representative_point()
        out = pd.DataFrame(gdf.drop(columns="geometry")).assign(x=pts.x.to_numpy(), y=pts.y.to_numpy())
        src_crs = CRS.from_user_input(gdf.crs)
    return out.assign(agb=numeric_column(out, agb, path)), src_crs


def validate_map(
    map_path: Path,
    plots_path: Path,
    *,
    agb: str = "agb",
    x: str = "x",
    y: str = "y",
    crs: str | None = None,
    plot_size: str | float = 0.0,
    date: str | None = None,
    map_year: float | None = None,
    band: int = 1,
    bins: list[float] | None = None,
) -> dict:
    """Accuracy of the map at the plots. ``plot_size``: each plot's area in m² (a number, or the
    column holding it); 0 takes the pixel under the plot. ``date``: the column with each plot's
    measurement year (or date), compared with ``map_year``."""
    plots, src_crs = read_validation_plots(plots_path, agb=agb, x=x, y=y, crs=crs)
    grid = Grid.of_raster(map_path)
    tr = Transformer.from_crs(src_crs, grid.crs, always_xy=True)
    gx, gy = tr.transform(plots.x.to_numpy(), plots.y.to_numpy())
    if isinstance(plot_size, str) and not _is_number(plot_size):
        size = numeric_column(plots, plot_size, Path(plots_path))
    else:
        size = np.full(len(plots), float(plot_size))
    if (size < 0).any():
        raise InputError("plot sizes must be areas in m², zero or more", file=str(plots_path))
    radius = np.sqrt(size / math.pi)
    predicted = np.full(len(plots), np.nan)
    skipped = {"outside_the_map": 0, "on_no_data": 0, "no_agb": int(np.isnan(plots.agb).sum())}
    with rasterio.open(map_path) as src:
        for i, (px, py, r) in enumerate(zip(gx, gy, radius)):
            if np.isnan(plots.agb.iloc[i]):
                continue
            rows, cols, w = pixel_weights(grid, float(px), float(py), float(r))
            inside = (rows >= 0) & (rows < grid.height) & (cols >= 0) & (cols < grid.width)
            if not inside.any() or w[inside].sum() < MIN_VALID_WEIGHT:
                skipped["outside_the_map"] += 1
                continue
            r0, c0 = int(rows[inside].min()), int(cols[inside].min())
            block = src.read(
                band,
                window=Window(c0, r0, int(cols[inside].max()) - c0 + 1, int(rows[inside].max()) - r0 + 1),
                masked=True,
            )
            vals = np.ma.filled(block.astype("float64"), np.nan)[rows[inside] - r0, cols[inside] - c0]
            ok = np.isfinite(vals)
            if w[inside][ok].sum() < MIN_VALID_WEIGHT:  # more than half the footprint has no data
                skipped["on_no_data"] += 1
                continue
            predicted[i] = float((vals[ok] * w[inside][ok]).sum() / w[inside][ok].sum())
    used = np.isfinite(predicted)
    if used.sum() < 2:
        raise InputError(
            f"only {int(used.sum())} plot(s) fall on the map's data ({skipped}): check --crs and the plots' area",
            file=str(plots_path),
        )
    out: dict = {
        "map": str(map_path),
        "plots": len(plots),
        "used": int(used.sum()),
        "skipped": skipped,
        "plot_size_m2": "per plot" if isinstance(plot_size, str) and not _is_number(plot_size) else float(plot_size),
        "aggregation": "area-weighted mean of the pixels under each plot's footprint"
        if (radius > 0).any()
        else "the pixel under each plot",
        "accuracy": metrics(plots.agb.to_numpy()[used], predicted[used], bins),
        "notes": [],
    }
    if date is not None:
        years = _years(plots, date, Path(plots_path))
        if map_year is None:
            raise InputError("--map-year is needed with --date (the year the map shows)")
        gap = np.abs(years[used] - map_year)
        out["time_gap_years"] = {"mean": float(np.nanmean(gap)), "max": float(np.nanmax(gap))}
        if np.nanmax(gap) > MAX_GAP_YEARS:
            out["notes"].append(
                f"plots measured up to {np.nanmax(gap):.0f} years from the map's date: growth and disturbance "
                "in between count as map error here"
            )
    if used.sum() < 30:
        out["notes"].append(f"{int(used.sum())} plots: the accuracy figures are rough (30 or more recommended)")
    return out


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _years(plots: pd.DataFrame, column: str, path: Path) -> np.ndarray:
    if column not in plots.columns:
        raise InputError(f"no column {column!r}", file=str(path), column=column)
    v = plots[column]
    numeric = pd.to_numeric(v, errors="coerce")
    if numeric.notna().all():
        return numeric.to_numpy(float)
    when = pd.to_datetime(v, errors="coerce")
    if when.isna().any():
        row = int(np.flatnonzero(when.isna().to_numpy())[0])
        raise InputError(f"not a year or a date: {v.iloc[row]!r}", file=str(path), row=row + 2, column=column)
    return (when.dt.year + (when.dt.dayofyear - 1) / 365.25).to_numpy(float)
