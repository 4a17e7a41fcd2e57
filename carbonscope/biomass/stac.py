"""Layers from STAC catalogs: searched with pystac-client, loaded on the run's grid with odc-stac,
masked and scaled per product, composited over the date range, and written as COGs that the rest
of the run reads like any local layer.

A layer's ``stac`` table::

    stac = { product = "sentinel-2-l2a", datetime = "2021-06-01/2021-08-31", max_cloud = 60,
             catalog = "https://earth-search.aws.element84.com/v1", collection = "sentinel-2-l2a" }

The layer's ``role`` names the band (coastal, blue, green, red, nir, swir1, swir2, rededge1..3, vv, vh,
elevation, landcover); ``asset`` overrides the asset key. Products:

- ``sentinel-2-l2a``: SCL cloud mask drops classes 0, 1, 3, 8, 9, 10 (no data, saturated, cloud
  shadow, cloud medium and high probability, thin cirrus). QA60 is not used: it is empty in scenes
  of processing baseline 04.00 and later (from 2022-01-25). Those scenes carry a +1000 offset
  (BOA_ADD_OFFSET) unless the catalog says it was removed (``earthsearch:boa_offset_applied``);
  reflectance = (DN - offset) / 10000. Median composite.
- ``landsat-c2-l2``: QA_PIXEL bits 0-4 (fill, dilated cloud, cirrus, cloud, cloud shadow) masked;
  reflectance = DN x 0.0000275 - 0.2. Median composite.
- ``sentinel-1-rtc``: radiometrically terrain corrected gamma0 in linear power (roles vv, vh);
  median composite in linear power, dB in the features. ``sentinel-1-grd`` when the catalog's
  GRD assets are calibrated backscatter in linear power.
- ``cop-dem-glo-30``: elevation, mosaicked. ``esa-worldcover``: classes, nearest neighbour, mosaicked.
- ``generic``: the asset as it is, median (continuous) or first valid (categorical).

Static catalogs (no search endpoint) are walked and filtered by bounding box and date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from carbonscope.biomass.config import LayerConfig
from carbonscope.errors import DownloadError, InputError
from carbonscope.geo.grid import Grid
from carbonscope.progress import Progress

if TYPE_CHECKING:
    import pystac

S2_DROP_SCL = (0, 1, 3, 8, 9, 10)
S2_OFFSET_BASELINE = "04.00"
S2_OFFSET_DATE = datetime(2022, 1, 25, tzinfo=UTC)
LANDSAT_QA_BITS = (0, 1, 2, 3, 4)

ASSET_KEYS = {
    "sentinel-2-l2a": {
        "coastal": ["coastal", "B01"],
        "blue": ["blue", "B02"],
        "green": ["green", "B03"],
        "red": ["red", "B04"],
        "nir": ["nir", "B08"],
        "swir1": ["swir16", "B11"],
        "swir2": ["swir22", "B12"],
        "rededge1": ["rededge1", "B05"],
        "rededge2": ["rededge2", "B06"],
        "rededge3": ["rededge3", "B07"],
        "_mask": ["scl", "SCL"],
    },
    "landsat-c2-l2": {
        "coastal": ["coastal", "SR_B1"],  # the coastal/aerosol band (Landsat 8-9 OLI; the Paraguay workflow uses it)
        "blue": ["blue", "SR_B2"],
        "green": ["green", "SR_B3"],
        "red": ["red", "SR_B4"],
        "nir": ["nir08", "SR_B5"],
        "swir1": ["swir16", "SR_B6"],
        "swir2": ["swir22", "SR_B7"],
        "_mask": ["qa_pixel", "QA_PIXEL"],
    },
    "sentinel-1-rtc": {"vv": ["vv", "VV"], "vh": ["vh", "VH"], "hh": ["hh", "HH"], "hv": ["hv", "HV"]},
    "sentinel-1-grd": {"vv": ["vv", "VV"], "vh": ["vh", "VH"]},
    "cop-dem-glo-30": {"elevation": ["data", "elevation", "dem"]},
    "esa-worldcover": {"landcover": ["map", "classification"]},
}
# products whose items are repeated acquisitions composited over a date range (the others are one-off maps)
TIMED_PRODUCTS = ("sentinel-2-l2a", "landsat-c2-l2", "sentinel-1-rtc", "sentinel-1-grd")
DEFAULT_COLLECTION = {
    "sentinel-2-l2a": "sentinel-2-l2a",
    "landsat-c2-l2": "landsat-c2-l2",
    "sentinel-1-rtc": "sentinel-1-rtc",
    "sentinel-1-grd": "sentinel-1-grd",
    "cop-dem-glo-30": "cop-dem-glo-30",
    "esa-worldcover": "esa-worldcover",
}


@dataclass(frozen=True)
class Query:
    catalog: str
    collection: str
    product: str
    datetime: str | None
    max_cloud: float | None


def _query(layer: LayerConfig) -> Query:
    from carbonscope.settings import get_settings

    st = dict(layer.stac or {})
    allowed = {"product", "catalog", "collection", "datetime", "max_cloud", "asset"}
    unknown = set(st) - allowed
    if unknown:
        raise InputError(f"layer {layer.name!r}: unknown stac keys {sorted(unknown)}; known: {sorted(allowed)}")
    product = st.get("product", "generic")
    if product != "generic" and product not in ASSET_KEYS:
        raise InputError(
            f"layer {layer.name!r}: unknown stac product {product!r}; known: generic, {', '.join(ASSET_KEYS)}"
        )
    collection = st.get("collection") or DEFAULT_COLLECTION.get(product)
    if not collection:
        raise InputError(f"layer {layer.name!r}: give stac.collection")
    return Query(
        st.get("catalog") or get_settings().stac_url, collection, product, st.get("datetime"), st.get("max_cloud")
    )


def _asset_for(layer: LayerConfig, product: str, item_assets: set[str]) -> str:
    st = layer.stac or {}
    if st.get("asset"):
        return st["asset"]
    role = layer.role or layer.name
    for key in ASSET_KEYS.get(product, {}).get(role, []):
        if key in item_assets:
            return key
    raise InputError(
        f"layer {layer.name!r}: the {product} items have no asset for role {role!r} (assets: {', '.join(sorted(item_assets))}); set stac.asset"
    )


def _in_range(item, start, end) -> bool:
    dt = item.datetime or item.common_metadata.start_datetime
    return dt is None or ((start is None or dt >= start) and (end is None or dt <= end))


def _parse_range(text: str | None):
    if not text:
        return None, None
    a, _, b = text.partition("/")

    def p(v, end=False):
        if v in ("", ".."):
            return None
        d = datetime.fromisoformat(v.replace("Z", "+00:00"))
        if len(v) <= 10 and end:
            d = d.replace(hour=23, minute=59, second=59)
        return d if d.tzinfo else d.replace(tzinfo=UTC)

    return p(a), p(b or a, True)


def search(q: Query, bbox_wgs84: tuple[float, float, float, float]) -> list:
    """Items of the collection over the bounding box and dates (search API, or a walk of a static catalog)."""
    import warnings

    from pystac_client.warnings import FallbackToPystac, NoConformsTo

    with warnings.catch_warnings():
        # a static catalog advertises no API conformance: walking it is the intended fallback
        warnings.simplefilter("ignore", NoConformsTo)
        warnings.simplefilter("ignore", FallbackToPystac)
        return _search(q, bbox_wgs84)


def _search(q: Query, bbox_wgs84) -> list:
    import pystac_client
    from pystac_client.conformance import ConformanceClasses
    from shapely.geometry import box, shape

    try:
        client = pystac_client.Client.open(q.catalog)
    except Exception as exc:  # network and parse errors of many kinds
        raise DownloadError(f"cannot open the STAC catalog {q.catalog}: {exc}") from exc
    if client.conforms_to(ConformanceClasses.ITEM_SEARCH):
        query = {"eo:cloud_cover": {"lt": q.max_cloud}} if q.max_cloud is not None else None
        items = list(
            client.search(collections=[q.collection], bbox=bbox_wgs84, datetime=q.datetime, query=query).items()
        )
    else:
        coll = client.get_collection(q.collection) if q.collection else client
        if coll is None:
            raise InputError(f"the catalog {q.catalog} has no collection {q.collection!r}")
        start, end = _parse_range(q.datetime)
        area = box(*bbox_wgs84)
        items = [
            it
            for it in coll.get_items(recursive=True)
            if it.geometry
            and shape(it.geometry).intersects(area)
            and _in_range(it, start, end)
            and (q.max_cloud is None or it.properties.get("eo:cloud_cover", 0) < q.max_cloud)
        ]
    return sorted(items, key=lambda it: (it.datetime or datetime.min.replace(tzinfo=UTC), it.id))


def s2_offset(item: pystac.Item) -> float:
    """The BOA offset to subtract from a Sentinel-2 L2A item's DN (1000 from baseline 04.00, unless removed)."""
    props = item.properties
    if props.get("earthsearch:boa_offset_applied") is True:
        return 0.0
    pb = props.get("s2:processing_baseline")
    if pb is not None:
        return 1000.0 if str(pb) >= S2_OFFSET_BASELINE else 0.0
    dt = item.datetime
    return 1000.0 if dt is not None and dt >= S2_OFFSET_DATE else 0.0


def _geobox(grid: Grid):
    from odc.geo.geobox import GeoBox

    return GeoBox((grid.height, grid.width), grid.transform, grid.crs.to_wkt())


def composite(layers: list[LayerConfig], q: Query, grid: Grid) -> dict:
    """The composite of each layer on the grid: lazy (dask) float32 arrays, NaN where no clear observation."""
    import odc.stac
    from rasterio.warp import transform_bounds

    bbox = transform_bounds(grid.crs, "EPSG:4326", *grid.bounds, densify_pts=21)
    items = search(q, bbox)
    if not items:
        raise InputError(
            f"no {q.collection} items in {q.catalog} over {tuple(round(b, 4) for b in bbox)} for {q.datetime or 'any date'}"
        )
    assets = set(items[0].assets)
    names = {layer.name: _asset_for(layer, q.product, assets) for layer in layers}
    mask_key = None
    if "_mask" in ASSET_KEYS.get(q.product, {}):
        mask_key = next((k for k in ASSET_KEYS[q.product]["_mask"] if k in assets), None)
        if mask_key is None:
            raise InputError(
                f"the {q.product} items lack their mask asset ({'/'.join(ASSET_KEYS[q.product]['_mask'])})"
            )
    categorical = {layer.name for layer in layers if layer.kind == "categorical"}
    bands = sorted(set(names.values()) | ({mask_key} if mask_key else set()))
    resampling = {
        b: ("nearest" if b == mask_key or any(names[n] == b for n in categorical) else "bilinear") for b in bands
    }
    groupby = "solar_day" if q.product in ("sentinel-2-l2a", "landsat-c2-l2") else "time"
    try:
        ds = odc.stac.load(
            items,
            bands=bands,
            geobox=_geobox(grid),
            resampling=resampling,
            groupby=groupby,
            chunks={"x": 1024, "y": 1024},
            fail_on_error=True,
        )
    except Exception as exc:  # GDAL/HTTP failures reading assets
        raise DownloadError(f"reading {q.collection} assets failed: {exc}") from exc
    valid: Any = None  # a boolean DataArray of the pixels to keep, or None
    if q.product == "sentinel-2-l2a":
        valid = ~ds[mask_key].isin(S2_DROP_SCL)
    elif q.product == "landsat-c2-l2":
        qa = ds[mask_key].astype("uint16")
        bad = sum(((qa >> b) & 1) for b in LANDSAT_QA_BITS) > 0
        valid = ~bad
    offsets = None
    if q.product == "sentinel-2-l2a":
        by_day: dict[np.datetime64, float] = {}
        for it in items:
            by_day.setdefault(np.datetime64(it.datetime.replace(tzinfo=None), "D"), s2_offset(it))
        offsets = np.array([by_day.get(np.datetime64(t, "D"), 0.0) for t in ds.time.values], dtype="float32")
    out = {}
    for layer in layers:
        band = names[layer.name]
        da = ds[band]
        nodata = da.attrs.get("nodata")
        data = da.astype("float32")
        if nodata is not None:
            data = data.where(da != nodata)
        if valid is not None:
            data = data.where(valid)
        if q.product == "sentinel-2-l2a":
            import xarray as xr

            data = (data - xr.DataArray(offsets, dims=["time"], coords={"time": ds.time})) / 10000.0
        elif q.product == "landsat-c2-l2":
            data = data * 0.0000275 - 0.2
        if layer.kind == "categorical" or q.product in ("cop-dem-glo-30", "esa-worldcover"):
            comp = data.bfill("time").isel(time=0) if data.sizes.get("time", 1) > 1 else data.isel(time=0)
        else:
            comp = data.median("time", skipna=True)
        out[layer.name] = comp.astype("float32")
    return out


def materialize(
    layers: list[LayerConfig], grid: Grid, folder: Path, progress: Progress | None = None
) -> list[LayerConfig]:
    """Replace STAC layers by COGs of their composites in ``folder``; file layers pass through."""
    from carbonscope.progress import NullProgress

    progress = progress or NullProgress()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    groups: dict[Query, list[LayerConfig]] = {}
    for layer in layers:
        if layer.stac:
            groups.setdefault(_query(layer), []).append(layer)
    task = progress.task("loading layers from STAC", total=len(groups))
    replaced: dict[str, LayerConfig] = {}
    for q, group in groups.items():
        arrays = composite(group, q, grid)
        for layer in group:
            path = folder / f"{layer.name}.tif"
            _write_cog(
                path, arrays[layer.name], grid, f"{q.product} {layer.role or layer.name} {q.datetime or ''}".strip()
            )
            replaced[layer.name] = layer.model_copy(
                update={"path": path, "stac": None, "nodata": None, "scale": 1.0, "offset": 0.0}
            )
        progress.advance(task)
    return [replaced.get(layer.name, layer) for layer in layers]


def _write_cog(path: Path, data, grid: Grid, description: str, window: int = 1024) -> None:
    """Compute the lazy composite window by window into a GeoTIFF, then make it a COG."""
    import warnings

    import rasterio
    from rasterio.shutil import copy as rio_copy

    tmp = path.with_suffix(".tmp.tif")
    with rasterio.open(tmp, "w", **grid.profile(count=1, dtype="float32", nodata=np.nan)) as dst:
        for win in grid.windows(window):
            r, c = int(win.row_off), int(win.col_off)
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", "All-NaN slice", RuntimeWarning)  # pixels never clear stay NaN
                block = data.isel(y=slice(r, r + int(win.height)), x=slice(c, c + int(win.width))).compute().values
            dst.write(np.asarray(block, dtype="float32"), 1, window=win)
        dst.set_band_description(1, description)
    rio_copy(tmp, path, driver="COG", COMPRESS="DEFLATE", BLOCKSIZE=512)
    tmp.unlink()
