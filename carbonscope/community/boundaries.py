"""Site boundaries of proposals: GeoJSON or GeoPackage uploads, validated and reprojected to WGS84."""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

from carbonscope.errors import InputError, InvalidField
from carbonscope.geo.vector import check_geojson_crs, read_vector

SUFFIXES = {".geojson": "GeoJSON", ".json": "GeoJSON", ".gpkg": "GeoPackage"}
MAX_VERTICES = 50_000
MAX_NESTING = 64  # a FeatureCollection of MultiPolygons is 7 deep; 64 leaves room for properties


def _nesting(data: bytes) -> int:
    """The deepest bracket nesting of a JSON text (strings skipped), without parsing it."""
    import re

    text = re.sub(rb'"(?:[^"\\]|\\.)*"', b'""', data)
    depth = best = 0
    for m in re.finditer(rb"[\[\]{}]", text):  # brackets only, not every byte
        if m.group() in (b"[", b"{"):
            depth += 1
            best = max(best, depth)
        else:
            depth -= 1
    return best


@dataclass
class Boundary:
    geometry: dict  # GeoJSON geometry, EPSG:4326
    area_ha: float
    centroid_lat: float
    centroid_lon: float
    source_crs: str
    features: int


def _count_vertices(geom) -> int:
    import shapely

    return int(shapely.get_num_coordinates(geom))


def read(filename: str, data: bytes, max_bytes: int) -> Boundary:
    """Validate an uploaded boundary; every refusal says what is wrong and where."""
    import shapely
    from pyproj import Geod
    from shapely.validation import explain_validity

    field = "boundary"
    suffix = Path(filename or "").suffix.lower()
    if suffix not in SUFFIXES:
        raise InvalidField(field, f"{filename!r}: upload a GeoJSON (.geojson) or GeoPackage (.gpkg) file")
    if len(data) > max_bytes:
        raise InvalidField(field, f"{filename!r} is {len(data):,} bytes; the limit is {max_bytes:,}")
    if not data:
        raise InvalidField(field, f"{filename!r} is empty")
    if suffix == ".gpkg" and not data.startswith(b"SQLite format 3\x00"):
        raise InvalidField(field, f"{filename!r} is not a GeoPackage (not an SQLite database)")
    if suffix in (".geojson", ".json"):
        depth = _nesting(data)
        if depth > MAX_NESTING:
            raise InvalidField(
                field, f"{filename!r} is nested {depth:,} levels deep; GeoJSON polygons need at most {MAX_NESTING}"
            )
        try:
            doc = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise InvalidField(field, f"{filename!r} is not valid GeoJSON ({type(exc).__name__})") from exc
        if not isinstance(doc, dict) or doc.get("type") not in (
            "FeatureCollection",
            "Feature",
            "Polygon",
            "MultiPolygon",
        ):
            raise InvalidField(
                field, f"{filename!r}: expected a GeoJSON FeatureCollection, Feature, Polygon or MultiPolygon"
            )
        try:
            check_geojson_crs(doc, filename)
        except InputError as exc:
            raise InvalidField(field, f"{filename!r}: {exc.reason}") from exc
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"upload{suffix}"
        path.write_bytes(data)
        try:
            gdf = read_vector(path, what="boundary", drop_empty=False)
        except InputError as exc:
            raise InvalidField(field, f"{filename!r}: {exc.reason}") from exc
    for i, geom in enumerate(gdf.geometry):
        if geom.geom_type not in ("Polygon", "MultiPolygon"):
            raise InvalidField(
                field, f"{filename!r}, feature {i + 1}: a {geom.geom_type}; a site boundary must be a polygon"
            )
        if not geom.is_valid:
            raise InvalidField(field, f"{filename!r}, feature {i + 1}: invalid polygon ({explain_validity(geom)})")
    source_crs = gdf.crs.to_string()
    wgs = gdf.to_crs(4326)
    geom = shapely.union_all(list(wgs.geometry))
    minx, miny, maxx, maxy = geom.bounds
    if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
        raise InvalidField(
            field,
            f"{filename!r}: coordinates fall outside the globe after reprojection from {source_crs}; is the CRS right?",
        )
    if _count_vertices(geom) > MAX_VERTICES:
        raise InvalidField(field, f"{filename!r}: more than {MAX_VERTICES:,} vertices; simplify the boundary")
    area_m2 = abs(Geod(ellps="WGS84").geometry_area_perimeter(geom)[0])
    c = geom.representative_point()
    return Boundary(
        json.loads(shapely.to_geojson(geom)), area_m2 / 10_000, round(c.y, 6), round(c.x, 6), source_crs, len(gdf)
    )
