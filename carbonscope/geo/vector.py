"""Vector files (areas of interest, zones, plots) read with clear errors and reprojected."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from carbonscope.errors import InputError

if TYPE_CHECKING:
    import geopandas as gpd

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


def layers(path: Path, what: str = "vector file") -> list[str]:
    """The layer names of a vector file, in order; InputError naming the file when it is unreadable."""
    import pyogrio

    path = Path(path)
    if not path.exists():
        raise InputError(f"no such {what} file", file=str(path))
    if path.suffix.lower() == ".gpkg":
        check_geopackage(path)
    try:
        return [name for name, _ in pyogrio.list_layers(path)]
    except Exception as exc:  # pyogrio raises several types for unreadable files
        raise InputError(f"cannot read the {what} as a vector file ({exc})", file=str(path)) from None


def fields(path: Path, layer: str) -> list[str]:
    """The attribute fields of one layer of a vector file."""
    import pyogrio

    return list(pyogrio.read_info(path, layer=layer)["fields"])


def read_vector(
    path: Path,
    crs: object = None,
    layer: str | None = None,
    what: str = "area of interest",
    *,
    drop_empty: bool = True,
) -> gpd.GeoDataFrame:
    """A vector file's features (GeoDataFrame), reprojected to ``crs`` unless it is None, with clear
    errors for bad files: missing, unreadable, a GeoPackage that would run its own SQL, a GeoJSON
    naming an unknown CRS, no features, no CRS. Features with an empty geometry are dropped, or with
    ``drop_empty=False`` refused naming the feature."""
    import json

    import geopandas as gpd

    path = Path(path)
    if not path.exists():
        raise InputError(f"no such {what} file", file=str(path))
    suffix = path.suffix.lower()
    if suffix == ".gpkg":
        check_geopackage(path)
    elif suffix in (".geojson", ".json"):
        try:
            doc = json.loads(path.read_bytes())
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise InputError(f"the {what} is not valid GeoJSON ({type(exc).__name__})", file=str(path)) from None
        if isinstance(doc, dict):
            check_geojson_crs(doc, str(path))
    where = str(path) + (f", layer {layer}" if layer else "")
    try:
        gdf = gpd.read_file(path, layer=layer) if layer else gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several types for unreadable files
        raise InputError(f"cannot read the {what} as a vector file ({exc})", file=where) from exc
    if gdf.empty:
        raise InputError(f"the {what} has no features", file=where)
    if gdf.crs is None:
        raise InputError(f"the {what} has no CRS; save it with one (GeoPackage or GeoJSON in WGS84)", file=where)
    empty = gdf.geometry.isna() | gdf.geometry.is_empty
    if empty.any() and not drop_empty:
        i = int(empty.to_numpy().argmax())
        raise InputError(f"feature {i + 1} of the {what} has an empty geometry", file=where, row=i + 1)
    gdf = gdf[~empty]
    if gdf.empty:
        raise InputError(f"every geometry of the {what} is empty", file=where)
    return gdf if crs is None else gdf.to_crs(crs)
