"""Data sources given as a URL or path template of COG tiles on a latitude/longitude grid.

Global maps are often published as tiles named by their upper-left corner: ESA CCI Biomass as
``N10W070_ESACCI-BIOMASS-L4-AGB-MERGED-100m-2020-fv5.01.tif``, Hansen's Global Forest Change as
``Hansen_GFC-2023-v1.11_treecover2000_10N_070W.tif``. A template names them with the fields
``{lat}`` and ``{lon}`` (the corner's absolute degrees, whole numbers when the tiles are a whole
number of degrees wide, and any format spec such as ``{lon:03d}``) and ``{ns}`` and ``{ew}``
(``N``/``S``, ``E``/``W``)::

    template = "https://example.org/agb/{ns}{lat:02d}{ew}{lon:03d}_agb.tif"
    tile_degrees = 10

For an area, the tiles that cover its bounding box are opened (over HTTP range requests when they
are URLs: only headers and the windows a run reads travel) and joined as a GDAL virtual mosaic
(VRT) that every engine reads like a local file. Tiles that do not exist (the sea, often) are left
out; none at all is an error naming the URLs tried.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import string
import xml.etree.ElementTree as ET
from pathlib import Path

from carbonscope.errors import InputError

log = logging.getLogger(__name__)

FIELDS = ("lat", "lon", "ns", "ew")
MAX_TILES = 64


def check_template(template: str, where: str) -> None:
    """Refuse a template with unknown fields, or with no position in it."""
    try:
        names = {f for _, f, _, _ in string.Formatter().parse(template) if f is not None}
    except ValueError as exc:
        raise ValueError(f"{where}: template {template!r}: {exc}") from exc
    unknown = sorted(names - set(FIELDS))
    if unknown:
        raise ValueError(f"{where}: template field {{{unknown[0]}}} is unknown; fields: {', '.join(FIELDS)}")
    if not names & {"lat", "lon"}:
        raise ValueError(f"{where}: template {template!r} names no tile ({{lat}}, {{lon}}): give a path instead")


def corners(bounds: tuple[float, float, float, float], degrees: float) -> list[tuple[float, float]]:
    """Upper-left corners (latitude, longitude) of the tiles that cover ``bounds`` (west, south, east, north)."""
    west, south, east, north = bounds
    lons = range(math.floor(west / degrees), max(math.ceil(east / degrees), math.floor(west / degrees) + 1))
    lats = range(math.ceil(north / degrees), min(math.floor(south / degrees), math.ceil(north / degrees) - 1), -1)
    return [(round(j * degrees, 9), round(i * degrees, 9)) for j in lats for i in lons]


def tile_name(template: str, lat: float, lon: float, degrees: float) -> str:
    whole = float(degrees).is_integer()

    def value(v: float) -> float | int:
        return int(round(abs(v))) if whole else round(abs(v), 9)

    return template.format(lat=value(lat), lon=value(lon), ns="N" if lat >= 0 else "S", ew="E" if lon >= 0 else "W")


def gdal_path(location: str) -> str:
    """How GDAL names a tile: ``/vsicurl/`` for HTTP(S), ``/vsis3/`` for ``s3://``, else the path."""
    if location.startswith(("http://", "https://")):
        return "/vsicurl/" + location
    if location.startswith("s3://"):
        return "/vsis3/" + location[5:]
    return location


def mosaic(name: str, template: str, degrees: float, bounds: tuple[float, float, float, float], folder: Path) -> Path:
    """A VRT joining the template's tiles over ``bounds`` (WGS84); its path is the same for the same tiles."""
    import rasterio
    from rasterio.errors import RasterioIOError

    wanted = [tile_name(template, lat, lon, degrees) for lat, lon in corners(bounds, degrees)]
    if len(wanted) > MAX_TILES:
        raise InputError(
            f"data source {name!r}: the area needs {len(wanted)} tiles of {degrees:g} degrees; at most {MAX_TILES}"
        )
    tiles, missing = [], []
    for loc in wanted:
        try:
            with rasterio.open(gdal_path(loc)) as src:
                tiles.append((loc, src.crs, src.transform, src.width, src.height, src.count, src.dtypes[0], src.nodata))
        except RasterioIOError:
            missing.append(loc)
    if not tiles:
        raise InputError(
            f"data source {name!r} has no tile over the area: tried {', '.join(wanted[:4])}"
            + (" ..." if len(wanted) > 4 else "")
        )
    for loc in missing:
        log.info("data source %r: no tile %s (left out)", name, loc)
    first = tiles[0]
    for t in tiles[1:]:
        if t[1] != first[1] or t[5:7] != first[5:7] or (t[2].a, t[2].e) != (first[2].a, first[2].e):
            raise InputError(
                f"data source {name!r}: tile {t[0]} differs from {first[0]} in CRS, pixel size, bands or data type; "
                "a template's tiles must share them"
            )
    folder.mkdir(parents=True, exist_ok=True)
    key = hashlib.sha256("\n".join(t[0] for t in tiles).encode()).hexdigest()[:16]
    path = folder / f"{name}-{key}.vrt"
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(_vrt(tiles, name))
    tmp.replace(path)
    return path


def _vrt(tiles: list[tuple], name: str) -> str:
    """The GDAL VRT document of tiles on one pixel grid (north-up)."""
    from rasterio.dtypes import dtype_rev, typename_fwd

    _, crs, t0, _, _, count, dtype, nodata = tiles[0]
    rx, ry = t0.a, t0.e
    left = min(t[2].c for t in tiles)
    top = max(t[2].f for t in tiles)
    right = max(t[2].c + t[3] * rx for t in tiles)
    bottom = min(t[2].f + t[4] * ry for t in tiles)
    width, height = round((right - left) / rx), round((bottom - top) / ry)
    root = ET.Element("VRTDataset", rasterXSize=str(width), rasterYSize=str(height))
    ET.SubElement(root, "SRS").text = crs.to_wkt()
    ET.SubElement(root, "GeoTransform").text = ", ".join(repr(v) for v in (left, rx, 0.0, top, 0.0, ry))
    for b in range(1, count + 1):
        band = ET.SubElement(root, "VRTRasterBand", dataType=typename_fwd[dtype_rev[dtype]], band=str(b))
        if nodata is not None:
            ET.SubElement(band, "NoDataValue").text = repr(nodata)
        for loc, _, tr, w, h, *_ in tiles:
            x, y = (tr.c - left) / rx, (tr.f - top) / ry
            if abs(x - round(x)) > 1e-6 or abs(y - round(y)) > 1e-6:
                raise InputError(f"data source {name!r}: tile {loc} is not on the other tiles' pixel grid")
            src = ET.SubElement(band, "ComplexSource" if nodata is not None else "SimpleSource")
            ET.SubElement(src, "SourceFilename", relativeToVRT="0").text = gdal_path(loc)
            ET.SubElement(src, "SourceBand").text = str(b)
            ET.SubElement(src, "SrcRect", xOff="0", yOff="0", xSize=str(w), ySize=str(h))
            ET.SubElement(src, "DstRect", xOff=str(round(x)), yOff=str(round(y)), xSize=str(w), ySize=str(h))
            if nodata is not None:
                ET.SubElement(src, "NODATA").text = repr(nodata)
    return ET.tostring(root, encoding="unicode")
