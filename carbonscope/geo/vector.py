"""Vector files (areas of interest, zones, plots) read with clear errors and reprojected."""

from __future__ import annotations

from pathlib import Path

from carbonscope.errors import InputError


def read_vector(path: Path, crs, layer: str | None = None, what: str = "area of interest"):
    """A vector file's features reprojected to ``crs`` (GeoDataFrame); clear errors for bad files."""
    import geopandas as gpd

    path = Path(path)
    if not path.exists():
        raise InputError(f"no such {what} file", file=str(path))
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
