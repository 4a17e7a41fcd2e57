"""Vector files (areas of interest, zones, plots) read with clear errors and reprojected."""

from __future__ import annotations

import re
from pathlib import Path

from carbonscope.errors import InputError

# Triggers and virtual tables a GeoPackage writer (GDAL, QGIS) creates: the R-tree spatial index
# and the standard's own metadata checks. Anything else runs SQL the uploader wrote.
ALLOWED_TRIGGER = re.compile(
    r"^(rtree_.+_(insert|update\d*|delete)|gpkg_.+|trigger_(insert|update|delete)_feature_count_.+)$", re.IGNORECASE
)


def check_geopackage(path: Path) -> None:
    """Refuse a GeoPackage that would run SQL of its own when GDAL reads it.

    GDAL reads SQLite views as layers, so a view over a recursive query keeps a reader busy for as
    long as its author likes; triggers and virtual tables run SQL too. Checked with SQLite itself
    (read-only, nothing of the file is evaluated) before GDAL opens the file.
    """
    import sqlite3

    try:
        con = sqlite3.connect(f"file:{Path(path).resolve()}?mode=ro&immutable=1", uri=True)
    except sqlite3.Error as exc:
        raise InputError(f"not a readable GeoPackage ({exc})", file=str(path)) from exc
    try:
        rows = con.execute("SELECT type, name, sql FROM sqlite_master").fetchall()
    except sqlite3.DatabaseError as exc:
        raise InputError(f"not a GeoPackage: {exc}", file=str(path)) from exc
    finally:
        con.close()
    for kind, name, sql in rows:
        if kind == "view":
            raise InputError(
                f"the GeoPackage holds a view ({name!r}); upload plain feature tables (views run SQL of the file's own)",
                file=str(path),
            )
        if kind == "trigger" and not ALLOWED_TRIGGER.match(name or ""):
            raise InputError(
                f"the GeoPackage holds a trigger ({name!r}) that is not a spatial-index trigger", file=str(path)
            )
        if (
            kind == "table"
            and sql
            and re.match(r"\s*CREATE\s+VIRTUAL\s+TABLE", sql, re.IGNORECASE)
            and not re.search(r"USING\s+rtree", sql, re.IGNORECASE)
        ):
            raise InputError(
                f"the GeoPackage holds a virtual table ({name!r}) that is not a spatial index", file=str(path)
            )


def check_geojson_crs(doc: dict, path: str) -> None:
    """A GeoJSON ``crs`` member (the 2008 spec; RFC 7946 has none) must name a CRS pyproj knows:
    GDAL reads an unknown one as WGS84 without a word."""
    crs = doc.get("crs") if isinstance(doc, dict) else None
    if crs is None:
        return
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    name = (crs.get("properties") or {}).get("name") if isinstance(crs, dict) else None
    if not isinstance(name, str):
        raise InputError(
            "the GeoJSON's crs member names no CRS; remove it (RFC 7946 GeoJSON is WGS84) or name one such as EPSG:4326",
            file=path,
        )
    try:
        CRS.from_user_input(name)
    except CRSError as exc:
        raise InputError(
            f"the GeoJSON names an unknown CRS {name[:80]!r}; use a known one such as EPSG:4326", file=path
        ) from exc


def read_vector(path: Path, crs, layer: str | None = None, what: str = "area of interest"):
    """A vector file's features reprojected to ``crs`` (GeoDataFrame); clear errors for bad files."""
    import geopandas as gpd

    path = Path(path)
    if not path.exists():
        raise InputError(f"no such {what} file", file=str(path))
    if path.suffix.lower() == ".gpkg":
        check_geopackage(path)
    try:
        gdf = gpd.read_file(path, layer=layer) if layer else gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several types for unreadable files
        raise InputError(f"cannot read the {what} as a vector file ({exc})", file=str(path)) from exc
    if gdf.empty:
        raise InputError(f"the {what} has no features", file=str(path))
    if gdf.crs is None:
        raise InputError(f"the {what} has no CRS; save it with one (GeoPackage or GeoJSON in WGS84)", file=str(path))
    gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty]
    if gdf.empty:
        raise InputError(f"every geometry of the {what} is empty", file=str(path))
    return gdf.to_crs(crs)
