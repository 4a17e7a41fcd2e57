"""The analyses' parts on their own: data sources, progress, the reaper, tiles, plain words."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from carbonscope.analyses import explain, sources, store, tiles
from carbonscope.analyses.runner import Cancelled, JobProgress
from carbonscope.errors import InputError, InvalidField
from carbonscope.settings import Settings
from tests.analyses.conftest import MTQ
from tests.conftest import person


def test_a_sources_file_is_checked_and_errors_name_the_entry(tmp_path):
    f = tmp_path / "sources.toml"
    f.write_text('[sources.x]\nroles = ["forest"]\npath = "a.tif"\nstac = { collection = "c" }\n')
    with pytest.raises(InputError, match=r"sources\.x.*exactly one of path, stac or template") as e:
        sources.catalog(Settings(data_sources_file=f))
    assert e.value.file == str(f)
    f.write_text('[sources.x]\nroles = ["agb"]\nstac = { collection = "c", composite = "median" }\n')
    with pytest.raises(InputError, match=r"sources\.x.*unknown stac key 'composite'"):
        sources.catalog(Settings(data_sources_file=f))
    f.write_text('[sources.x]\nroles = ["agb"]\ntemplate = "agb_{lat}_{lng}.tif"\n')
    with pytest.raises(InputError, match=r"sources\.x.*template field \{lng\} is unknown"):
        sources.catalog(Settings(data_sources_file=f))
    f.write_text('[sources.x]\nroles = ["biomass-ish"]\npath = "a.tif"\n')
    with pytest.raises(InputError, match="unknown role 'biomass-ish'"):
        sources.catalog(Settings(data_sources_file=f))
    f.write_text('[sources.x]\nroles = ["forest"]\npath = "a.tif"\n')
    assert "x" not in sources.catalog(Settings(data_sources_file=f))  # its file is missing: left out
    (tmp_path / "a.tif").write_bytes(b"")
    got = sources.catalog(Settings(data_sources_file=f))["x"]
    assert got.path == tmp_path / "a.tif"  # relative to the file
    assert "sentinel-2-l2a" in sources.catalog(Settings())  # the built-in public catalogs stay


def test_a_layer_path_must_lie_in_a_data_folder(tmp_path):
    inside = Settings(data_folders=[MTQ.parent])
    src = sources.resolve(inside, "forest", str(MTQ / "forest-MTQ-2000-2010-2020.tif"))
    assert src.path == (MTQ / "forest-MTQ-2000-2010-2020.tif").resolve()
    for value in (str(MTQ / ".." / ".." / ".." / "holdout"), "/etc/hostname", str(tmp_path)):
        with pytest.raises(InvalidField, match="CARBONSCOPE_DATA_FOLDERS|neither a data source"):
            sources.resolve(inside, "forest", value)
    with pytest.raises(InvalidField, match="unknown role"):
        sources.resolve(inside, "soil", "x")


def test_job_progress_moves_forward_and_a_cancel_stops_the_engine_at_its_next_step():
    p = JobProgress(expected_steps=2)
    assert p.fraction() == 0.0
    t = p.task("tabulating", total=4)
    p.advance(t, 2)
    assert p.fraction() == pytest.approx(0.25)
    t2 = p.task("writing", total=1)
    p.advance(t, 5)  # a finished step's late report changes nothing
    assert p.fraction() == pytest.approx(0.5)
    p.update(t2, completed=1)
    assert p.fraction() == 0.99  # held below 1 until the job has succeeded
    p.task("one more than expected")
    assert p.fraction() < 0.99
    assert [line.split(" ", 1)[1] for line in p.take_lines()] == ["tabulating", "writing", "one more than expected"]
    p.cancelled.set()
    with pytest.raises(Cancelled):
        p.advance(t2)


def test_a_running_job_whose_worker_fell_silent_is_failed_with_the_reason(engine):
    with engine.begin() as tx:
        ana = person(tx, "Ana")
        aid = store.create(tx, ana["id"], "redd-baseline", "1.0", {"boundary": {}}, 10.0)
        fresh = store.create(tx, ana["id"], "redd-baseline", "1.0", {"boundary": {}}, 10.0)
        assert store.claim(tx, aid, "host:1") and store.claim(tx, fresh, "host:2")
        assert not store.claim(tx, aid, "host:3")  # a job runs once
        old = datetime.now(UTC) - timedelta(seconds=120)
        tx.execute(store.analyses.update().where(store.analyses.c.id == aid).values(heartbeat_at=old))
        assert store.reap(tx, stale_seconds=60) == [aid]
        job, other = store.get(tx, aid), store.get(tx, fresh)
    assert job["status"] == "failed" and "host:1" in job["error"] and "no sign of life" in job["error"]
    assert other["status"] == "running"


def _cog(path, data, z, x, y):
    import morecantile
    import rasterio
    from rasterio.transform import from_bounds

    b = morecantile.tms.get("WebMercatorQuad").xy_bounds(x, y, z)
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=256,
        height=256,
        count=1,
        dtype=data.dtype,
        crs="EPSG:3857",
        transform=from_bounds(b.left, b.bottom, b.right, b.top, 256, 256),
        nodata=255 if data.dtype == np.uint8 else np.nan,
    ) as dst:
        dst.write(data, 1)
    return path


def test_tiles_veil_what_lies_outside_the_area_of_applicability_and_colour_biomass(tmp_path):
    from PIL import Image

    z, x, y = 12, 2324, 1147
    aoa = np.ones((256, 256), np.uint8)
    aoa[:, 128:] = 0  # the right half outside
    aoa[:64, :] = 255  # the top quarter has no data
    png = tiles.tile(_cog(tmp_path / "aoa.tif", aoa, z, x, y), "aoa", z, x, y)
    alpha = np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))[..., 3]
    assert (alpha[64:, 130:] == 170).all() and (alpha[64:, :126] == 0).all() and (alpha[:62] == 0).all()

    agb = np.tile(np.linspace(0, 300, 256, dtype="float32"), (256, 1))
    agb[:64] = np.nan
    path = _cog(tmp_path / "agb.tif", agb, z, x, y)
    assert tiles.legend(path)["max"] == pytest.approx(np.nanpercentile(agb, 98), rel=0.02)
    rgba = np.asarray(Image.open(io.BytesIO(tiles.tile(path, "agb", z, x, y))).convert("RGBA"))
    assert (rgba[:62, :, 3] == 0).all() and (rgba[66:, :, 3] == 255).all()
    left, right = rgba[200, 0, :3], rgba[200, 253, :3]
    assert tuple(left) == (0x44, 0x01, 0x54) and right[1] > 200  # viridis: purple at 0, yellow at the top
    beyond = np.asarray(Image.open(io.BytesIO(tiles.tile(path, "agb", z, x + 5, y))).convert("RGBA"))
    assert beyond.shape == (256, 256, 4) and (beyond[..., 3] == 0).all()  # beyond the map: a clear tile


def test_parameters_and_results_read_in_plain_words():
    words = explain.parameters(
        {
            "agb_t_ha": {"value": 220.0, "given": True},
            "allocation": {"value": "risk_map", "given": False},
            "start": {"value": None, "given": False},
            "root_shoot": {"value": "ipcc2006:tropical_moist_deciduous", "given": True},
        }
    )
    assert words == [
        ("Forest biomass above ground (t/ha)", "220", True),
        ("How the region's baseline is shared out to the area", "by deforestation risk (a risk map)", False),
        ("First crediting year", "the year after the last date", False),
        ("Roots per unit of above-ground biomass", "IPCC 2006, tropical moist deciduous", True),
    ]
    text = explain.summary(
        {
            "periods": [{"start": "2000", "end": "2010", "deforestation_ha": 22.86}],
            "crediting": {
                "years": [{"year": 2021}, {"year": 2022}],
                "totals": {"creditable_tco2e": 2000.0, "npv": 15000.0},
                "intervals": {"creditable_tco2e": {"mean": 2010.0, "lower": 1500.0, "upper": 2600.0}},
                "currency": "USD",
                "discount_rate_percent": 5.0,
            },
        }
    )
    assert text[0] == "Forest lost inside the area: 23 ha in 2000-2010."
    # the total is the run's own (2,000, as the cards show), not the Monte Carlo mean (2,010)
    assert "2,000 credits (90% interval 1,500 to 2,600) (about 1,000 a year)" in text[1]


def test_result_folders_in_a_bucket_are_read_back_by_name(tmp_path):
    """CARBONSCOPE_RESULTS_URL: the committed folder is copied with fsspec (here its local
    file:// filesystem, as an S3 bucket would be) and files are read back by name only."""
    from carbonscope.analyses import files
    from carbonscope.errors import NotFoundError

    folder = tmp_path / "results"
    (folder / "biomass").mkdir(parents=True)
    (folder / "results.json").write_text('{"ok": true}')
    (folder / "biomass" / "agb.tif").write_bytes(b"II*\x00tiff")
    settings = Settings(data_dir=tmp_path / "data", results_url=f"file://{tmp_path / 'bucket'}")
    url = files.publish(settings, "job1", folder)
    assert url == f"file://{tmp_path / 'bucket'}/job1"
    assert files.read_bytes(url, "results.json") == b'{"ok": true}'
    assert [f["name"] for f in files.listing(url)] == ["biomass/agb.tif", "results.json"]
    local = files.local_path(url, "biomass/agb.tif", tmp_path / "cache")
    assert local.read_bytes() == b"II*\x00tiff" and local.is_relative_to(tmp_path / "cache")
    for bad in ("../secret_key", "/etc/passwd", "biomass/../../x", "nope.json"):
        with pytest.raises(NotFoundError):
            files.read_bytes(url, bad)


def test_a_rendered_tile_is_shared_on_disk_with_the_sites_other_processes(tmp_path):
    z, x, y = 12, 2324, 1147
    agb = np.tile(np.linspace(0, 300, 256, dtype="float32"), (256, 1))
    path = _cog(tmp_path / "agb.tif", agb, z, x, y)
    disk = tmp_path / "tiles"
    assert tiles.cached(path, "agb", z, x, y, disk) is None
    png = tiles.tile(path, "agb", z, x, y, disk)
    tiles._CACHE.clear()  # another process: nothing in its memory
    assert tiles.cached(path, "agb", z, x, y, disk) == png
    assert [p.name for p in disk.rglob("*.png")] == [f"{y}.png"] and not list(disk.rglob("*.part"))
