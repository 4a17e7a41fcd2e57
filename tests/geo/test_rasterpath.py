"""NetCDF (and other GDAL subdataset) rasters as layers, as ESA CCI Biomass and CCI land cover ship:
the real Juupajoki radar and Martinique forest copied into NetCDF give the GeoTIFF runs' numbers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from rasterio.shutil import copy

from carbonscope.errors import InputError
from carbonscope.geo import rasterpath
from tests.biomass.conftest import HH, HV, example_config, juupajoki_run  # noqa: F401  (the GeoTIFF run)
from tests.conftest import SHARED

FOREST = SHARED / "redd" / "martinique" / "forest-MTQ-2000-2010-2020.tif"


def as_netcdf(src: Path, dst: Path) -> Path:
    copy(src, dst, driver="netCDF")  # GDAL's netCDF driver: one variable Band<k> per band
    return dst


def test_subdataset_paths_split_resolve_and_exist(tmp_path):
    nc = as_netcdf(HH, tmp_path / "hh.nc")
    assert rasterpath.split('NETCDF:"hh.nc":Band1') == ("NETCDF", Path("hh.nc"), "Band1")
    assert rasterpath.split("HDF5:/a/b.h5://agb/mean") == ("HDF5", Path("/a/b.h5"), "//agb/mean")
    assert rasterpath.split("/data/agb.tif") == (None, Path("/data/agb.tif"), None)
    assert rasterpath.resolve('NETCDF:"hh.nc":Band1', tmp_path) == f'NETCDF:"{nc}":Band1'
    assert rasterpath.exists(f'NETCDF:"{nc}":Band1') and not rasterpath.exists(f'NETCDF:"{tmp_path}/no.nc":x')


def test_a_netcdf_layer_gives_the_geotiff_runs_samples(tmp_path, juupajoki_run):  # noqa: F811
    from carbonscope.biomass.run import run

    hh, hv = as_netcdf(HH, tmp_path / "hh.nc"), as_netcdf(HV, tmp_path / "hv.nc")
    base = example_config(tmp_path / "run")
    layers = [
        layer.model_copy(update={"path": Path(f'NETCDF:"{nc}":Band1')}) if nc else layer
        for layer, nc in zip(base.layers, (hh, hv, None), strict=True)
    ]
    cfg = base.model_copy(update={"layers": layers, "validation": base.validation.model_copy(update={"compare": []})})
    result = run(cfg)
    s, f = result.samples.set_index("id"), juupajoki_run.samples.set_index("id")
    assert list(s.index) == list(f.index)
    for col in ("hh_db", "hv_db", "hh_hv_diff"):
        assert np.array_equal(s[col].to_numpy(), f[col].to_numpy()), col
    assert result.map.pixels == juupajoki_run.map.pixels


def test_config_files_name_netcdf_variables_relative_to_themselves(tmp_path):
    from carbonscope.baseline import config as bconfig
    from carbonscope.baseline.run import run

    as_netcdf(FOREST, tmp_path / "forest.nc")
    toml = tmp_path / "mtq.toml"
    files = ", ".join(
        f'{{ date = "{d}", path = \'NETCDF:"forest.nc":Band{k}\' }}' for k, d in ((1, "2000"), (2, "2010"), (3, "2020"))
    )
    toml.write_text(
        f'name = "nc"\noutput = "out"\n[landcover]\ntype = "forest_mask"\nfiles = [{files}]\n[baseline]\nseries = "forest_area"\n'
    )
    cfg = bconfig.load(toml)
    assert cfg.landcover.files[0].path == Path(f'NETCDF:"{tmp_path / "forest.nc"}":Band1')
    nc_run = run(cfg)
    tif = bconfig.RunConfig.model_validate(
        {
            "name": "tif",
            "output": str(tmp_path / "tif"),
            "landcover": {"type": "forest_mask", "path": str(FOREST), "dates": ["2000", "2010", "2020"]},
            "baseline": {"series": "forest_area"},
        }
    )
    assert nc_run.results["areas_ha"] == run(tif).results["areas_ha"]

    toml.write_text(toml.read_text().replace("forest.nc", "missing.nc"))
    with pytest.raises(InputError, match="no such raster") as e:
        run(bconfig.load(toml))
    assert "missing.nc" in str(e.value)
