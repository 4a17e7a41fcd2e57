"""Windowed, parallel maps equal one in-memory prediction; engines agree with scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from rasterio.windows import Window

from carbonscope import recipe
from carbonscope.biomass import inference
from carbonscope.biomass.domain import Domain
from carbonscope.biomass.features import build
from carbonscope.biomass.layers import LayerReader, inspect
from carbonscope.biomass.mapping import load_bundle, map_with_saved_model
from tests.biomass.conftest import example_config


def read_map(path):
    with rasterio.open(path) as src:
        return src.read()


@pytest.fixture(scope="module")
def bundle(juupajoki_run):
    return load_bundle(juupajoki_run.folder / "model.joblib")


def test_whole_raster_in_memory_equals_the_windowed_map(juupajoki_run, bundle, tmp_path):
    cfg = example_config(tmp_path)
    domain = Domain.from_config(cfg)
    spec = build(cfg.layers, cfg.features)
    with LayerReader(inspect(cfg.layers, domain.grid), domain.grid) as reader:
        win = Window(0, 0, domain.grid.width, domain.grid.height)
        arrays = reader.read(win, halo=spec.halo)
        stack = spec.stack(arrays, domain.grid.resolution, crop=spec.halo)
        valid = domain.valid(win, arrays, halo=spec.halo) & ~np.isnan(stack).any(0)
    expected = np.full(valid.shape, np.nan)
    expected[valid] = bundle["model"].predict(stack[:, valid].T.astype("float32"))
    mapped = read_map(juupajoki_run.folder / "agb.tif")[0]
    assert np.array_equal(np.isfinite(mapped), valid)
    assert np.allclose(
        mapped[valid], expected[valid], rtol=1e-4, atol=1e-4
    )  # the run maps in one 1,024 px window; smaller windows are compared with it below


@pytest.mark.slow
@pytest.mark.parametrize("scheduler, window", [("sync", 100), ("processes", 256), ("threads", 300)])
def test_schedulers_and_windows_give_the_same_map(juupajoki_run, tmp_path, scheduler, window):
    cfg = example_config(tmp_path)
    cfg = cfg.model_copy(update={"predict": cfg.predict.model_copy(update={"window": window})})
    opened = recipe.PROCESS.runs()
    result = map_with_saved_model(
        cfg, juupajoki_run.folder / "model.joblib", tmp_path / "map", scheduler=scheduler, workers=2
    )
    assert recipe.PROCESS.runs() <= opened  # the map's readers and model were released when it ended
    assert result.scheduler == scheduler
    a, b = read_map(result.agb_path), read_map(juupajoki_run.folder / "agb.tif")
    assert np.array_equal(a, b, equal_nan=True)
    assert np.array_equal(read_map(result.aoa_path), read_map(juupajoki_run.folder / "aoa.tif"))
    assert result.sums["__domain__"]["agb_mg"] == pytest.approx(
        juupajoki_run.map.sums["__domain__"]["agb_mg"], rel=1e-9
    )
    assert set(result.stages) == {"windows", "cog"} | ({"start"} if scheduler != "sync" else set())
    assert sum(result.stages.values()) == pytest.approx(result.seconds, abs=0.05)  # the stages cover the whole time
    with rasterio.open(result.agb_path) as src:
        assert {k: src.tags(ns="IMAGE_STRUCTURE").get(k) for k in ("LAYOUT", "COMPRESSION", "PREDICTOR")} == {
            "LAYOUT": "COG",
            "COMPRESSION": "DEFLATE",
            "PREDICTOR": "3",
        }


def test_engines_match_scikit_learn(juupajoki_run, bundle):
    X = juupajoki_run.samples[bundle["features"]].to_numpy("float32")
    X = np.repeat(X, 20, axis=0) + np.random.default_rng(0).normal(0, 0.05, (len(X) * 20, X.shape[1])).astype("float32")
    rows = {r["engine"]: r for r in inference.compare(bundle["model"], X, repeat=1)}
    assert set(rows) == {"sklearn", "onnx", "treelite"}
    for r in rows.values():
        assert r["matches"] and r["max_rel_diff"] <= 1e-4 and r["pixels_per_s"] > 0
    chosen = inference.choose(bundle["model"], X)
    assert chosen.name in rows and set(chosen.timings) == set(rows)


@pytest.mark.slow
def test_mapping_workers_keep_the_default_allocator_and_slow_workers_are_named(caplog):
    import logging

    from dask.distributed import Client, LocalCluster

    from carbonscope.biomass.predict import _warn_slow_workers, _worker_settings, local_cluster

    with local_cluster(1) as cluster, Client(cluster) as client:
        assert list(client.run(_worker_settings).values()) == [{"malloc_trim": None, "profile": False}]
        with caplog.at_level(logging.WARNING, logger="carbonscope.biomass.predict"):
            _warn_slow_workers(client)
        assert not [r for r in caplog.records if r.name == "carbonscope.biomass.predict"]
    with (
        LocalCluster(n_workers=1, threads_per_worker=1, dashboard_address=None, memory_limit=0) as cluster,
        Client(cluster) as client,
    ):
        assert list(client.run(_worker_settings).values()) == [{"malloc_trim": "65536", "profile": True}]
        with caplog.at_level(logging.WARNING, logger="carbonscope.biomass.predict"):
            _warn_slow_workers(client)
        assert "1 dask worker(s) run with MALLOC_TRIM_THRESHOLD_ set" in caplog.text
        assert "1 dask worker(s) profile themselves every 10 ms" in caplog.text
