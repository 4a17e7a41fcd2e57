"""Data sources of every kind run the recipes: tiles from a URL template, STAC catalogs, and the IPCC
Tier 1 default biomass as the labelled fallback. Each run is checked against the same data read
another way (the whole file, the engine's own run, the table's value given by hand)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.warp import transform_bounds
from rasterio.windows import Window, from_bounds
from typer.testing import CliRunner

from carbonscope.analyses import service, tiled
from carbonscope.cli import app as cli
from carbonscope.errors import InvalidField
from carbonscope.progress import NullProgress
from carbonscope.settings import Settings
from tests.analyses.conftest import JUU, MTQ, PARAMS, SOURCES
from tests.biomass import stac_catalog
from tests.biomass.conftest import static_server  # noqa: F401  (serves a folder on 127.0.0.1)

FOREST = MTQ / "forest-MTQ-2000-2010-2020.tif"
TEMPLATE = "mtq_{ns}{lat:05.2f}_{ew}{lon:06.2f}.tif"


def cut_tiles(folder: Path, step: float = 0.25) -> int:
    """The Martinique forest raster cut into files, one per ``step`` degree cell (named by its upper-left
    corner), each the window of the raster's own grid that covers the cell: tiles overlap, not gap."""
    folder.mkdir(parents=True, exist_ok=True)
    n = 0
    with rasterio.open(FOREST) as src:
        west, south, east, north = transform_bounds(src.crs, "EPSG:4326", *src.bounds)
        full = Window(0, 0, src.width, src.height)
        for top in np.arange(math.ceil(north / step) * step, south, -step):
            for left in np.arange(math.floor(west / step) * step, east, step):
                cell = transform_bounds("EPSG:4326", src.crs, left, top - step, left + step, top, densify_pts=21)
                w = from_bounds(*cell, transform=src.transform)
                c0, r0 = math.floor(w.col_off), math.floor(w.row_off)
                w = Window(c0, r0, math.ceil(w.col_off + w.width) - c0, math.ceil(w.row_off + w.height) - r0)
                try:
                    w = w.intersection(full)
                except rasterio.errors.WindowError:
                    continue
                prof = {**src.profile, "width": w.width, "height": w.height, "transform": src.window_transform(w)}
                prof.update(tiled=True, blockxsize=256, blockysize=256, compress="deflate")
                name = tiled.tile_name(TEMPLATE, round(top, 9), round(left, 9), step)
                with rasterio.open(folder / name, "w", **prof) as dst:
                    dst.write(src.read(window=w))
                n += 1
    return n


def settings_with(tmp: Path, extra_sources: str = "") -> Settings:
    f = tmp / "sources.toml"
    f.write_text(SOURCES.split("\n[sources.broken-forest]")[0] + extra_sources)
    return Settings(data_sources_file=f, data_dir=tmp / "data", data_folders=[JUU.parents[1]])


def run(settings: Settings, recipe: str, boundary: dict, layers: dict, params: dict, out: Path) -> dict:
    doc = {"name": "area", "boundary": boundary, "layers": layers, "params": params, "uploads": {}}
    return service.run_here(settings, recipe, doc, out, NullProgress())


def project_polygon() -> dict:
    import geopandas as gpd
    from shapely.geometry import mapping

    g = gpd.read_file(MTQ / "project_borders_MTQ_jurisdiction.gpkg").to_crs(4326)
    return mapping(g.union_all())


@pytest.fixture
def tile_server(tmp_path):
    """The Martinique tiles on 127.0.0.1 (a server process of its own, as a real tile host is)."""
    import subprocess
    import sys

    from tests.conftest import ROOT

    tiles = tmp_path / "tiles"
    assert cut_tiles(tiles) >= 4  # the island spans several cells: the mosaic joins tiles
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.range_server", str(tiles)], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        yield f"http://127.0.0.1:{int(proc.stdout.readline())}"
    finally:
        proc.kill()
        proc.wait()


def test_tiles_from_a_url_template_give_the_same_baseline_as_the_whole_file(tmp_path, tile_server):
    base = tile_server
    settings = settings_with(
        tmp_path,
        f'\n[sources.mtq-tiles]\nroles = ["forest"]\ntemplate = "{base}/{TEMPLATE}"\ntile_degrees = 0.25\n'
        'dates = "2000,2010,2020"\ntitle = "Martinique forest, as tiles"\n',
    )
    params = {**PARAMS, "reference": "jurisdiction", "draws": 2000}
    area = project_polygon()
    from_file = run(
        settings,
        "redd-baseline",
        area,
        {"forest": "martinique-forest", "jurisdiction": "martinique-jurisdiction"},
        params,
        tmp_path / "file",
    )
    from_tiles = run(
        settings,
        "redd-baseline",
        area,
        {"forest": "mtq-tiles", "jurisdiction": "martinique-jurisdiction"},
        params,
        tmp_path / "tiles-run",
    )
    # the same pixels read through the mosaic: the same numbers, exactly
    assert from_tiles["areas_ha"] == from_file["areas_ha"] and from_tiles["areas_ha"]["2000"]["forest"] > 2000
    assert from_tiles["reference"] == from_file["reference"]
    # the risk map sums windows of the mosaic's blocks, not the file's: float sums in another order
    assert from_tiles["crediting"]["totals"] == pytest.approx(from_file["crediting"]["totals"], rel=1e-6)
    assert from_tiles["layers"]["forest"]["origin"] == "tiles"
    vrt = Path(from_tiles["engine_config"]["landcover"]["path"])
    assert vrt.suffix == ".vrt" and "/vsicurl/http://127.0.0.1" in vrt.read_text()

    # a tile server that has none of the area's tiles: the plan says so, naming the source and a URL
    empty = settings_with(
        tmp_path,
        f'\n[sources.mtq-tiles]\nroles = ["forest"]\ntemplate = "{base}/none/{TEMPLATE}"\ntile_degrees = 0.25\n'
        'dates = "2000,2010,2020"\n',
    )
    with pytest.raises(InvalidField, match=r"mtq-tiles.*no tile over the area: tried http://127\.0\.0\.1") as e:
        run(empty, "redd-baseline", area, {"forest": "mtq-tiles"}, PARAMS, tmp_path / "none")
    assert e.value.field == "layers.forest"


def test_template_names_and_the_tiles_an_area_needs():
    # ESA CCI Biomass names tiles by the upper-left corner: N10W070 covers 0-10 N, 70-60 W
    t = "{ns}{lat:02d}{ew}{lon:03d}_ESACCI-BIOMASS-L4-AGB-MERGED-100m-2020-fv5.01.tif"
    names = [tiled.tile_name(t, lat, lon, 10) for lat, lon in tiled.corners((-61.2, 14.4, -60.8, 14.9), 10)]
    assert names == ["N20W070_ESACCI-BIOMASS-L4-AGB-MERGED-100m-2020-fv5.01.tif"]
    # an area across the equator and the prime meridian needs four tiles; Hansen's style of names
    h = "treecover2000_{lat:02d}{ns}_{lon:03d}{ew}.tif"
    across = [tiled.tile_name(h, lat, lon, 10) for lat, lon in tiled.corners((-1, -1, 1, 1), 10)]
    assert across == [
        "treecover2000_10N_010W.tif",
        "treecover2000_10N_000E.tif",
        "treecover2000_00N_010W.tif",
        "treecover2000_00N_000E.tif",
    ]
    for bad, words in (("tile_{row}.tif", "field {row} is unknown"), ("agb.tif", "names no tile")):
        with pytest.raises(ValueError, match=words):
            tiled.check_template(bad, "source 'x'")


def test_forest_carbon_from_a_stac_catalog_equals_the_biomass_run(tmp_path, static_server):  # noqa: F811
    """Sentinel-1 RTC gamma0 (made from the real PALSAR rasters) from a static STAC catalog on
    127.0.0.1, the real field plots and land cover: the recipe's totals equal ``biomass run``'s."""
    catalog = static_server(stac_catalog.build(tmp_path / "stac").parent) + "/catalog.json"
    stac_sources = "".join(
        f'\n[sources.s1-{band}]\nroles = ["{band}"]\nstac = {{ product = "sentinel-1-rtc" }}\n'
        f'stac_url = "{catalog}"\ntitle = "Sentinel-1 RTC {band.upper()} (test catalog)"\n'
        for band in ("vv", "vh")
    )
    settings = settings_with(tmp_path, stac_sources)
    with rasterio.open(JUU / "PALSAR-2_HH_Juupajoki.tif") as src:
        left, bottom, right, top = src.bounds
    from pyproj import Transformer
    from shapely.geometry import box, mapping
    from shapely.ops import transform

    cx, cy = (left + right) / 2, (bottom + top) / 2
    to_ll = Transformer.from_crs("EPSG:32635", 4326, always_xy=True).transform
    area = mapping(transform(to_ll, box(cx - 5000, cy - 5000, cx + 5000, cy + 5000)))
    layers = {"vv": "s1-vv", "vh": "s1-vh", "landcover": "juupajoki-landcover", "plots": "juupajoki-plots"}
    params = {"root_shoot": "ipcc2006:boreal", "price": 25, "resolution_m": 25}
    with pytest.raises(InvalidField, match="imagery_dates.*2021-06-01/2021-08-31"):
        run(settings, "forest-carbon", area, layers, params, tmp_path / "no-dates")
    params["imagery_dates"] = "2021-06-01/2021-08-31"
    res = run(settings, "forest-carbon", area, layers, params, tmp_path / "recipe")
    grid = res["engine_config"]["grid"]
    assert grid["crs"] == "EPSG:32635" and grid["resolution"] == 25  # the area's UTM zone, at the pixel size asked
    assert res["layers"]["vv"]["origin"] == "STAC catalog"

    # the same run written by hand as the engine's TOML
    site = tmp_path / "area.geojson"
    site.write_text(json.dumps({"type": "Feature", "properties": {}, "geometry": area}))
    s1 = f'stac = {{ product = "sentinel-1-rtc", catalog = "{catalog}", datetime = "2021-06-01/2021-08-31" }}'
    shared = str(JUU.parents[1])
    cfg = tmp_path / "stac.toml"
    cfg.write_text(
        f'name = "stac"\noutput = "{tmp_path / "cli"}"\nseed = 42\n'
        f'[aoi]\npath = "{site}"\n'
        f'[grid]\ncrs = "EPSG:32635"\nresolution = 25.0\nbounds = {grid["bounds"]}\n'
        f'[[layers]]\nname = "vv"\nrole = "vv"\n{s1}\n'
        f'[[layers]]\nname = "vh"\nrole = "vh"\n{s1}\n'
        f'[[layers]]\nname = "landcover"\nrole = "landcover"\nkind = "categorical"\nclasses = [1, 2, 3]\n'
        f'feature = false\npath = "{shared}/biomass/juupajoki/PALSAR-2_LC_Juupajoki.tif"\n'
        '[mask]\nlayer = "landcover"\nkeep = [1]\n'
        '[features]\nsets = ["sar"]\ntexture = false\n'
        f'[labels]\ntype = "plots"\npath = "{shared}/biomass/juupajoki/Juupajoki_field_data.csv"\n'
        'crs = "EPSG:3067"\nx = "xcoordinate"\ny = "ycoordinate"\nid = "sampleplotid"\nkind = "volume"\n'
        'value = "volume"\nspecies = { pine = "pinevol", spruce = "sprucevol", hardwood = "decidvol" }\n'
        'bcef_zone = "boreal"\nplot_radius = 20.0\n'
        '[model]\npreset = "gee"\n'
        "[validation]\nrandom_split = 0.7\nfolds = 5\nspatial_block = 2000.0\n"
        "[predict]\nlevel = 0.9\n"
        '[stock]\nroot_shoot = "ipcc2006:boreal"\ncarbon_fraction = 0.47\nprice = 25.0\ncurrency = "USD"\n'
    )
    out = CliRunner().invoke(cli, ["biomass", "run", str(cfg)])
    assert out.exit_code == 0, out.output
    engine = json.loads((tmp_path / "cli" / "stock.json").read_text())["__domain__"]["inside_aoa"]
    for key, mine in (("agb_mg", "agb_t"), ("co2e_t", "tco2e"), ("carbon_t", "carbon_tc")):
        for end in ("estimate", "lower", "upper"):
            assert res["stock"][mine][end] == pytest.approx(engine[key][end], rel=1e-6), (key, end)
    assert res["stock"]["area_ha"] == pytest.approx(engine["area_ha"]) and res["stock"]["area_ha"] > 1000


def test_the_ipcc_default_for_the_forests_zone_is_the_labelled_fallback(tmp_path):
    settings = settings_with(tmp_path)
    area = project_polygon()
    base = {k: v for k, v in PARAMS.items() if not k.startswith("agb_")} | {"draws": 2000}
    layers = {"forest": "martinique-forest", "jurisdiction": "martinique-jurisdiction"}
    ipcc = run(
        settings,
        "project-estimate",
        area,
        layers,
        {**base, "ipcc_forest": "tropical_moist_deciduous:americas"},
        tmp_path / "ipcc",
    )
    note = ipcc["carbon_density"]
    assert note["agb_t_ha"] == 220  # IPCC 2006 Vol. 4 Table 4.7, North and South America, range 210-280
    assert note["range_t_ha"] == [210, 280] and "Table 4.7" in note["source"] and "fallback" in note["source"]
    rel_se = (280 - 210) / (2 * 1.959964 * 220)
    assert note["rel_se"] == pytest.approx(rel_se) and "95% interval" in note["rel_se_rule"]
    by_hand = run(
        settings,
        "redd-baseline",
        area,
        layers,
        {**base, "agb_t_ha": 220, "agb_rel_se": rel_se},
        tmp_path / "hand",
    )
    assert ipcc["crediting"]["totals"] == pytest.approx(by_hand["crediting"]["totals"])
    for k, iv in ipcc["crediting"]["intervals"].items():  # the Monte Carlo draws used the same relative error
        assert iv == pytest.approx(by_hand["crediting"]["intervals"][k]), k
    with pytest.raises(InvalidField, match="^params: give the forest's biomass .* not both"):
        run(
            settings,
            "redd-baseline",
            area,
            layers,
            {**base, "agb_t_ha": 200, "ipcc_forest": "tropical_dry:africa"},
            tmp_path / "x",
        )
    with pytest.raises(
        InvalidField, match="no IPCC forest default 'temperate_oceanic:europe'.*tropical_rainforest:africa"
    ) as e:
        run(
            settings, "redd-baseline", area, layers, {**base, "ipcc_forest": "temperate_oceanic:europe"}, tmp_path / "y"
        )
    assert e.value.field == "params.ipcc_forest"
