"""A static STAC catalog of COGs made from the real Juupajoki rasters, for the STAC path's tests.

- ``sentinel-2-l2a``: two scenes (2021, processing baseline 03.01; 2022, baseline 04.00 with its +1000
  offset) whose red and nir DN come from PALSAR HH and HV, SCL from the land cover, and blocks of
  cloud (9), cloud shadow (3) and medium-probability cloud (8) filled with junk DN; a 2023 scene
  outside the dates. Clear pixels of both scenes hold the same reflectance, so the median composite
  equals it exactly wherever either scene is clear.
- ``sentinel-1-rtc``: gamma0 in linear power made from PALSAR DN by the JAXA calibration.
- ``esa-worldcover``: the 15.3 m land cover recoded to WorldCover classes (10 tree cover, 80 water, 30 grassland).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pystac
import rasterio
from rasterio.shutil import copy as rio_copy
from rasterio.warp import transform_bounds
from shapely.geometry import box, mapping

from tests.biomass.conftest import HH, HV, LC

CLOUD = (slice(100, 200), slice(100, 300))
SHADOW = (slice(250, 300), slice(50, 120))
MEDIUM = (slice(400, 450), slice(500, 700))


def read(path):
    with rasterio.open(path) as src:
        return src.read(1), src.profile


def write_cog(path: Path, data, profile, **kw) -> None:
    prof = {**profile, "dtype": str(data.dtype), "count": 1, "driver": "GTiff", **kw}
    prof.pop("blockxsize", None), prof.pop("blockysize", None), prof.pop("tiled", None)
    tmp = path.with_suffix(".tmp.tif")
    with rasterio.open(tmp, "w", **prof) as dst:
        dst.write(data, 1)
    rio_copy(tmp, path, driver="COG", COMPRESS="DEFLATE", BLOCKSIZE=256)
    tmp.unlink()


def expected_s2():
    """Reflectance the composite must give: red = (HH // 10) / 10000, nir = (HV // 2) / 10000."""
    hh, _ = read(HH)
    hv, _ = read(HV)
    return (hh // 10).astype("float64") / 10000, (hv // 2).astype("float64") / 10000


def _item(
    folder: Path, coll: str, item_id: str, when: datetime, bounds, crs, assets: dict[str, Path], props: dict
) -> pystac.Item:
    geom = box(*transform_bounds(crs, "EPSG:4326", *bounds))
    item = pystac.Item(item_id, mapping(geom), list(geom.bounds), when, props)
    for key, p in assets.items():
        item.add_asset(key, pystac.Asset(href=str(p), media_type=pystac.MediaType.COG, roles=["data"]))
    return item


def build(folder: Path) -> Path:
    """Write the catalog and its COGs under ``folder``; returns catalog.json."""
    folder.mkdir(parents=True, exist_ok=True)
    hh, prof = read(HH)
    hv, _ = read(HV)
    lc, lc_prof = read(LC)
    with rasterio.open(HH) as src:
        bounds, crs = tuple(src.bounds), src.crs
    scl = np.select([lc == 1, lc == 2], [4, 6], 5).astype("uint8")  # vegetation, water, not vegetated (LC grid, 15.3 m)
    # SCL on the 25 m grid of the bands (as L2A ships it at 20 m): take the land cover under each 25 m pixel
    from rasterio.warp import Resampling, reproject

    scl25 = np.zeros(hh.shape, dtype="uint8")
    reproject(
        scl,
        scl25,
        src_transform=lc_prof["transform"],
        src_crs=crs,
        dst_transform=prof["transform"],
        dst_crs=crs,
        resampling=Resampling.nearest,
    )
    cat = pystac.Catalog("juupajoki-test", "COGs made from the real Juupajoki rasters")
    s2 = pystac.Collection(
        "sentinel-2-l2a",
        "Sentinel-2 L2A-like scenes",
        pystac.Extent(pystac.SpatialExtent([[-180, -90, 180, 90]]), pystac.TemporalExtent([[None, None]])),
    )
    red, nir = (hh // 10).astype("uint16"), (hv // 2).astype("uint16")
    scenes = [
        ("S2A_20210710", datetime(2021, 7, 10, 9, 40, tzinfo=UTC), "03.01", 0, [(CLOUD, 9), (SHADOW, 3)]),
        ("S2B_20220710", datetime(2022, 7, 10, 9, 40, tzinfo=UTC), "04.00", 1000, [(MEDIUM, 8)]),
        ("S2A_20230710", datetime(2023, 7, 10, 9, 40, tzinfo=UTC), "05.09", 1000, []),
    ]
    for sid, when, baseline, offset, clouds in scenes:
        d = folder / "s2" / sid
        d.mkdir(parents=True, exist_ok=True)
        r, n, s = red + offset, nir + offset, scl25.copy()
        if sid.endswith("2023"):
            r = np.full_like(r, 7777)  # outside the date range: must never reach the composite
        for sl, cls in clouds:
            s[sl] = cls
            r[sl] = 9000 + offset
            n[sl] = 9500 + offset
        write_cog(d / "red.tif", r.astype("uint16"), prof, nodata=0)
        write_cog(d / "nir.tif", n.astype("uint16"), prof, nodata=0)
        write_cog(d / "scl.tif", s, prof, nodata=0)
        s2.add_item(
            _item(
                d,
                "sentinel-2-l2a",
                sid,
                when,
                bounds,
                crs,
                {"red": d / "red.tif", "nir": d / "nir.tif", "scl": d / "scl.tif"},
                {"s2:processing_baseline": baseline, "eo:cloud_cover": 10.0},
            )
        )
    s1 = pystac.Collection("sentinel-1-rtc", "gamma0 (linear) from PALSAR-2 DN", s2.extent.clone())
    d = folder / "s1" / "rtc_20210715"
    d.mkdir(parents=True, exist_ok=True)
    for key, dn in (("vv", hh), ("vh", hv)):
        write_cog(d / f"{key}.tif", (dn.astype("float64") ** 2 * 10 ** (-8.3)).astype("float32"), prof, nodata=None)
    s1.add_item(
        _item(
            d,
            "sentinel-1-rtc",
            "rtc_20210715",
            datetime(2021, 7, 15, tzinfo=UTC),
            bounds,
            crs,
            {"vv": d / "vv.tif", "vh": d / "vh.tif"},
            {},
        )
    )
    wc = pystac.Collection("esa-worldcover", "land cover recoded to WorldCover classes", s2.extent.clone())
    d = folder / "wc" / "wc_2021"
    d.mkdir(parents=True, exist_ok=True)
    write_cog(d / "map.tif", np.select([lc == 1, lc == 2], [10, 80], 30).astype("uint8"), lc_prof, nodata=0)
    wc.add_item(
        _item(
            d,
            "esa-worldcover",
            "wc_2021",
            datetime(2021, 1, 1, tzinfo=UTC),
            bounds,
            crs,
            {"map": d / "map.tif"},
            {},
        )
    )
    for c in (s2, s1, wc):
        cat.add_child(c)
    cat.normalize_hrefs(str(folder))
    cat.make_all_asset_hrefs_relative()
    cat.save(catalog_type=pystac.CatalogType.SELF_CONTAINED)
    return folder / "catalog.json"
