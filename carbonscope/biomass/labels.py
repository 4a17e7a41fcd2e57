"""Labels: field plots (AGB or stem volume), GEDI L4A footprints, and biomass rasters.

Every reader returns a DataFrame with ``x``, ``y`` (grid CRS), ``radius`` (metres; 0 = the pixel
under the point), ``agb`` (Mg/ha) and an ``id``; rows that cannot be used are counted and said why.
"""

from __future__ import annotations

import tempfile
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from pyproj import CRS, Transformer

from carbonscope.biomass.config import LabelConfig
from carbonscope.columns import numeric_column
from carbonscope.errors import InputError
from carbonscope.geo.areas import CRSLike
from carbonscope.geo.grid import Grid
from carbonscope.geo.vector import read_vector
from carbonscope.ipcc import read_table

GEDI_EPOCH = pd.Timestamp("2018-01-01T00:00:00Z")
GEDI_FOOTPRINT_RADIUS_M = 12.5
GEDI_FILL = -9999.0


@dataclass
class Labels:
    table: pd.DataFrame
    source: str
    notes: list[str] = field(default_factory=list)
    dropped: dict[str, int] = field(default_factory=dict)


# ----------------------------------------------------------------------------- volume to biomass


def bcef_table(path: Path | None = None) -> pd.DataFrame:
    """IPCC 2006 Vol. 4 Table 4.5 BCEF_S (Mg AGB per m3 growing stock), or a user table with the same columns."""
    return read_table("bcef_2006.csv", path, {"zone", "forest_type", "gs_min", "gs_max", "bcef"})


def bcef(table: pd.DataFrame, zone: str, forest_type: str, growing_stock: np.ndarray) -> np.ndarray:
    """The factor for each growing stock (m3/ha) from the class it falls in."""
    rows = table[(table.zone == zone) & (table.forest_type == forest_type)].sort_values("gs_min")
    if rows.empty:
        known = sorted({f"{z}/{t}" for z, t in zip(table.zone, table.forest_type)})
        raise InputError(f"no BCEF for zone {zone!r} and forest type {forest_type!r}; the table has {', '.join(known)}")
    gs = np.asarray(growing_stock, dtype=float)
    idx = np.searchsorted(rows.gs_max.to_numpy(), gs, side="right")
    idx = np.clip(idx, 0, len(rows) - 1)
    return rows.bcef.to_numpy()[idx]


def volume_to_agb(
    total: np.ndarray, by_type: dict[str, np.ndarray] | None, zone: str, table: pd.DataFrame, default_type: str = "pine"
) -> np.ndarray:
    """AGB (Mg/ha) = sum over forest types of volume x BCEF, the class chosen by the plot's total growing stock."""
    total = np.asarray(total, dtype=float)
    if not by_type:
        return total * bcef(table, zone, default_type, total)
    agb = np.zeros_like(total)
    for forest_type, vol in by_type.items():
        agb += np.asarray(vol, dtype=float) * bcef(table, zone, forest_type, total)
    return agb


# ----------------------------------------------------------------------------- field plots


def read_plots(cfg: LabelConfig, grid_crs: CRSLike) -> Labels:
    """Field plots from CSV (coordinates in ``x``/``y`` columns, CRS in config) or a vector file."""
    path = Path(cfg.path)
    if not path.exists():
        raise InputError("no such plot file", file=str(path))
    if path.suffix.lower() in (".csv", ".txt"):
        df = pd.read_csv(path)
        if cfg.crs is None:
            raise InputError(
                "labels.crs is needed for a CSV of plots (the CRS of its coordinates, e.g. EPSG:3067)", file=str(path)
            )
        x, y = numeric_column(df, cfg.x, path), numeric_column(df, cfg.y, path)
        src_crs = CRS.from_user_input(cfg.crs)
    else:
        gdf = read_vector(path, what="plot file")
        pts = gdf.geometry.representative_point()
        x, y = pts.x.to_numpy(), pts.y.to_numpy()
        src_crs = gdf.crs
        df = pd.DataFrame(gdf.drop(columns="geometry"))
    if len(df) == 0:
        raise InputError("the plot file has no rows", file=str(path))
    tr = Transformer.from_crs(src_crs, CRS.from_user_input(grid_crs), always_xy=True)
    gx, gy = tr.transform(x, y)
    if not np.isfinite(gx).any():
        raise InputError(
            f"no plot coordinate can be placed: the coordinates are not valid in {src_crs.to_string()}; is labels.crs right?",
            file=str(path),
            column=cfg.x,
        )
    notes = []
    if cfg.kind == "volume":
        table = bcef_table(cfg.bcef_table)
        by_type = {t: numeric_column(df, col, path) for t, col in cfg.species.items()}
        if cfg.value:
            total = numeric_column(df, cfg.value, path)
        elif by_type:
            total = np.sum(list(by_type.values()), axis=0)
        else:
            raise InputError(
                "plots of stem volume need labels.value or labels.species (columns per type)", file=str(path)
            )
        agb = volume_to_agb(total, by_type or None, cfg.bcef_zone, table)
        notes.append(
            f"stem volume converted to AGB with BCEF (IPCC 2006 Vol. 4 Table 4.5, {cfg.bcef_zone}"
            + (f", by forest type: {', '.join(cfg.species)}" if by_type else "")
            + ")"
        )
    else:
        if not cfg.value:
            raise InputError("labels.value: name the column with AGB (Mg/ha)", file=str(path))
        agb = numeric_column(df, cfg.value, path)
    radius = numeric_column(df, cfg.radius_column, path) if cfg.radius_column else np.full(len(df), cfg.plot_radius)
    ids = df[cfg.id].astype(str).to_numpy() if cfg.id and cfg.id in df.columns else np.arange(len(df)).astype(str)
    table = pd.DataFrame({"id": ids, "x": gx, "y": gy, "radius": radius, "agb": agb})
    if cfg.kind == "volume":
        table["volume"] = total
    keep = np.isfinite(table.agb) & np.isfinite(table.x) & np.isfinite(table.y) & (table.agb >= 0)
    dropped = {"no label or coordinates": int((~keep).sum())} if (~keep).any() else {}
    return Labels(table[keep].reset_index(drop=True), "plots", notes, dropped)


# ----------------------------------------------------------------------------- GEDI L4A


def _h5_paths(paths: list[Path], tmp: Path) -> list[Path]:
    out = []
    for p in paths:
        p = Path(p)
        if p.is_dir():  # in a folder, the L4A granules by their product name (L2A/L2B files sit beside them)
            out += _h5_paths(
                sorted(
                    q
                    for q in p.iterdir()
                    if q.suffix.lower() in (".h5", ".zip") and q.name.upper().startswith("GEDI04_A")
                ),
                tmp,
            )
        elif p.suffix.lower() == ".zip":
            with zipfile.ZipFile(p) as z:
                for name in z.namelist():
                    if name.lower().endswith(".h5"):
                        out.append(Path(z.extract(name, tmp)))
        elif p.suffix.lower() in (".h5", ".hdf5"):
            out.append(p)
        else:
            raise InputError("not an HDF5 granule or a zip of granules", file=str(p))
    return out


def read_gedi_l4a(paths: list[Path] | Path, min_sensitivity: float = 0.9) -> pd.DataFrame:
    """Every shot of every beam of GEDI L4A granules (.h5, or .zip holding them), with a ``quality_ok`` column.

    ``quality_ok``: l4_quality_flag == 1, degrade_flag == 0, sensitivity >= ``min_sensitivity`` and
    an AGBD that is not the fill value -9999.
    """
    import h5py

    paths = [paths] if isinstance(paths, (str, Path)) else list(paths)
    frames = []
    with tempfile.TemporaryDirectory(prefix="gedi-") as tmp:
        for h5 in _h5_paths(paths, Path(tmp)):
            try:
                f = h5py.File(h5, "r")
            except OSError as exc:
                raise InputError(f"not a readable HDF5 file ({exc})", file=str(h5)) from exc
            with f:
                beams = [k for k in f.keys() if k.startswith("BEAM")]
                if not beams or "agbd" not in f[beams[0]]:
                    raise InputError("not a GEDI L4A granule (no BEAMxxxx/agbd)", file=str(h5))
                for beam in beams:
                    g = f[beam]
                    n = g["agbd"].shape[0]
                    if n == 0:
                        continue
                    frames.append(
                        pd.DataFrame(
                            {
                                "granule": h5.name,
                                "beam": beam,
                                "shot_number": g["shot_number"][:].astype("uint64"),
                                "lat": g["lat_lowestmode"][:].astype(float),
                                "lon": g["lon_lowestmode"][:].astype(float),
                                "agbd": g["agbd"][:].astype(float),
                                "agbd_se": g["agbd_se"][:].astype(float),
                                "l4_quality_flag": g["l4_quality_flag"][:].astype(int),
                                "degrade_flag": g["degrade_flag"][:].astype(int),
                                "sensitivity": g["sensitivity"][:].astype(float),
                                "pft_class": g["land_cover_data/pft_class"][:].astype(int)
                                if "land_cover_data/pft_class" in g
                                else -1,
                                "time": GEDI_EPOCH + pd.to_timedelta(g["delta_time"][:], unit="s"),
                            }
                        )
                    )
    if not frames:
        raise InputError("no GEDI shots in " + ", ".join(map(str, paths)))
    df = pd.concat(frames, ignore_index=True)
    df["quality_ok"] = (
        (df.l4_quality_flag == 1)
        & (df.degrade_flag == 0)
        & (df.sensitivity >= min_sensitivity)
        & (df.agbd != GEDI_FILL)
    )
    return df


def gedi_labels(cfg: LabelConfig, grid_crs: CRSLike) -> Labels:
    shots = read_gedi_l4a(cfg.path, cfg.gedi_min_sensitivity)
    good = shots[shots.quality_ok]
    tr = Transformer.from_crs("EPSG:4326", CRS.from_user_input(grid_crs), always_xy=True)
    x, y = tr.transform(good.lon.to_numpy(), good.lat.to_numpy())
    table = pd.DataFrame(
        {
            "id": good.shot_number.astype(str).to_numpy(),
            "x": x,
            "y": y,
            "radius": GEDI_FOOTPRINT_RADIUS_M,
            "agb": good.agbd.to_numpy(),
            "agb_se": good.agbd_se.to_numpy(),
            "beam": good.beam.to_numpy(),
        }
    )
    notes = [
        f"GEDI L4A: {len(shots)} shots, {len(good)} pass l4_quality_flag = 1, degrade_flag = 0, sensitivity >= {cfg.gedi_min_sensitivity}"
    ]
    return Labels(table, "gedi_l4a", notes, {"failed the GEDI quality filter": int(len(shots) - len(good))})


def gedi_l4b_labels(cfg: LabelConfig, grid: Grid) -> Labels:
    """GEDI L4B gridded AGBD (1 km cells of EASE-Grid 2.0): one label per cell with a value over the
    grid, its mean (``path``, the ``_MU`` file) and standard error (``se_path``, the ``_SE`` file),
    placed at the cell's centre with the radius of a circle of the cell's area, so the predictors
    are averaged over the cell's footprint as a plot's are."""
    import rasterio
    from rasterio.warp import transform_bounds
    from rasterio.windows import from_bounds

    mu_path = Path(cfg.path)
    se_path = Path(cfg.se_path) if cfg.se_path else mu_path.with_name(mu_path.name.replace("_MU", "_SE"))
    if se_path == mu_path or not se_path.exists():
        raise InputError("GEDI L4B: no standard-error raster beside the mean (give labels.se_path)", file=str(se_path))
    with rasterio.open(mu_path) as mu, rasterio.open(se_path) as se:
        if mu.crs is None:
            raise InputError("GEDI L4B: the mean raster has no CRS", file=str(mu_path))
        if (mu.transform, mu.shape, mu.crs) != (se.transform, se.shape, se.crs):
            raise InputError(
                f"GEDI L4B: the standard errors are not on the mean's grid ({se_path.name})", file=str(mu_path)
            )
        b = transform_bounds(grid.crs, mu.crs, *grid.bounds, densify_pts=21)
        win = from_bounds(*b, transform=mu.transform).round_offsets().round_lengths()
        win = win.intersection(rasterio.windows.Window(0, 0, mu.width, mu.height))
        m = mu.read(1, window=win, masked=True).astype(float)
        s = se.read(1, window=win, masked=True).astype(float)
        tr = mu.window_transform(win)
        cell_area = abs(mu.transform.a * mu.transform.e)
        crs = mu.crs
    ok = ~np.ma.getmaskarray(m) & ~np.ma.getmaskarray(s) & (m.filled(np.nan) >= 0) & (s.filled(np.nan) >= 0)
    rows, cols = np.nonzero(ok)
    xs, ys = rasterio.transform.xy(tr, rows, cols)
    x, y = Transformer.from_crs(crs, grid.crs, always_xy=True).transform(np.asarray(xs), np.asarray(ys))
    metres = CRS.from_user_input(crs).axis_info[0].unit_name in ("metre", "meter")
    radius = float(np.sqrt(cell_area / np.pi)) if metres else 0.0
    table = pd.DataFrame(
        {
            "id": [f"l4b_{int(win.row_off) + r}_{int(win.col_off) + c}" for r, c in zip(rows, cols, strict=True)],
            "x": x,
            "y": y,
            "radius": radius,
            "agb": m.filled(np.nan)[ok],
            "agb_se": s.filled(np.nan)[ok],
        }
    )
    side = np.sqrt(cell_area) if metres else abs(mu.transform.a)
    notes = [
        f"GEDI L4B: {len(table)} cells with a mean and a standard error over the grid ({mu_path.name}, {se_path.name})",
        f"change of support: each label is the mean AGBD of a {side:.0f} m cell; the predictors are averaged over a "
        f"circle of the cell's area (radius {radius:.0f} m), and the map's {grid.resolution:g} m pixels are not validated "
        "by these labels at their own scale",
    ]
    return Labels(table, "gedi_l4b", notes, {"no mean or standard error (nodata)": int((~ok).sum())})


# ----------------------------------------------------------------------------- biomass rasters


def raster_support_note(path: Path, grid: Grid) -> str | None:
    """Warn when the label raster's cells are much larger than the grid's (change of support)."""
    import rasterio
    from rasterio.warp import transform_bounds

    with rasterio.open(path) as src:
        if src.crs is None:
            raise InputError("the label raster has no CRS", file=str(path))
        b = transform_bounds(src.crs, grid.crs, *src.bounds)
        res = (b[2] - b[0]) / src.width
    if res > 3 * grid.resolution:
        msg = (
            f"change of support: label cells are about {res:.0f} m, the map's pixels {grid.resolution:g} m. A model trained on "
            f"{res:.0f} m means predicts means, not {grid.resolution:g} m values; compare with the labels only after aggregating "
            f"the map back to {res:.0f} m."
        )
        warnings.warn(msg, stacklevel=2)
        return msg
    return None


def raster_values(
    cfg: LabelConfig, grid: Grid, rows: np.ndarray, cols: np.ndarray
) -> tuple[np.ndarray, np.ndarray | None]:
    """Label (and standard error) at grid pixels, from a biomass raster resampled to the grid.

    The value is averaged over the label cells a grid pixel covers (or bilinear when they are
    larger); pixels whose quality band is not in ``raster_quality_keep`` become NaN.
    """
    from carbonscope.biomass.config import LayerConfig
    from carbonscope.biomass.layers import LayerReader, inspect

    layers = [LayerConfig(name="label", path=cfg.path, band=cfg.raster_band)]
    if cfg.raster_se_band:
        layers.append(LayerConfig(name="label_se", path=cfg.path, band=cfg.raster_se_band))
    if cfg.raster_quality_band:
        layers.append(
            LayerConfig(name="label_quality", path=cfg.path, band=cfg.raster_quality_band, kind="categorical")
        )
    with LayerReader(inspect(layers, grid), grid) as reader:
        vals = reader.read_pixels(np.asarray(rows), np.asarray(cols))
    out = vals["label"].astype(float)
    if cfg.raster_quality_band:
        out[~np.isin(vals["label_quality"], cfg.raster_quality_keep)] = np.nan
    return out, (vals["label_se"].astype(float) if cfg.raster_se_band else None)
