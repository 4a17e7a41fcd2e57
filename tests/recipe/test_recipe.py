"""The run contract of both engines: a folder written whole or not at all, run-owned caches and
per-call state (the real runs are checked in tests/biomass/test_run.py and tests/baseline/test_run.py)."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest

from carbonscope.errors import InputError
from carbonscope.recipe import RunCache, RunFolder, execute


class Steps:
    """A recipe of two steps; the second fails when asked to (after the first has written)."""

    name = "steps"
    keep: tuple[str, ...] = ("layers",)

    def load(self, path: Path) -> dict:
        return json.loads(Path(path).read_text())

    def output(self, cfg: dict) -> Path:
        return Path(cfg["out"])

    def run(self, cfg: dict, folder: RunFolder, progress) -> dict:
        folder.json("first.json", {"value": float("nan")})
        if cfg.get("fail"):
            raise InputError("the second step failed", file="cfg.json")
        folder.table("tables/numbers", __import__("pandas").DataFrame({"n": [1, 2]}))
        return {"written": folder.file("first.json")}

    def moved(self, result: dict, folder: RunFolder) -> dict:
        return {"written": folder.final(result["written"])}


def test_a_run_folder_is_written_whole_or_not_at_all(tmp_path):
    out = tmp_path / "run"
    got = execute(Steps(), {"out": str(out)})
    assert got["written"] == out / "first.json" and json.loads(got["written"].read_text()) == {"value": None}
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == [
        "first.json",
        "tables/numbers.csv",
        "tables/numbers.parquet",
    ]
    (out / "layers").mkdir()
    (out / "layers" / "hh.tif").write_bytes(b"a composite")
    with pytest.raises(InputError):
        execute(Steps(), {"out": str(out), "fail": True})
    assert (out / "tables" / "numbers.csv").exists()  # the previous run's folder as it was
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # no partial folder left
    execute(Steps(), {"out": str(out)})
    assert (out / "layers" / "hh.tif").read_bytes() == b"a composite"  # carried over to the new run


def test_run_caches_are_per_run_and_per_thread_and_closed_with_the_run():
    closed = []

    class Handle:
        def __init__(self, name):
            self.name = name

        def close(self):
            closed.append(self.name)

    cache = RunCache()
    a = cache.get("run-1", "reader", lambda: Handle("a"))
    assert cache.get("run-1", "reader", lambda: Handle("again")) is a
    other: list = []
    t = threading.Thread(target=lambda: other.append(cache.get("run-1", "reader", lambda: Handle("b"))))
    t.start()
    t.join()
    assert other[0] is not a
    cache.get("run-2", "model", lambda: Handle("m"), per_thread=False)
    assert cache.runs() == {"run-1", "run-2"}
    assert cache.release("run-1") == 2 and sorted(closed) == ["a", "b"]
    assert cache.runs() == {"run-2"}


def test_two_tabulations_in_one_process_do_not_share_state():
    """Two jobs of one worker at once, with different zones: each call owns its readers and spec."""
    from concurrent.futures import ThreadPoolExecutor

    from carbonscope.baseline import landcover, zones
    from carbonscope.baseline.config import LandCoverConfig, ZoneConfig
    from carbonscope.baseline.tabulate import tabulate
    from tests.baseline.conftest import FOREST, PROJECT

    mtq = LandCoverConfig(type="forest_mask", path=FOREST, dates=["2000", "2010", "2020"])
    with landcover.open_product(mtq) as product:
        sets = [zones.load(ZoneConfig(name="project", path=PROJECT), product.grid)]
    alone = [tabulate(mtq, [], workers=2).trans, tabulate(mtq, sets, workers=2).trans]
    with ThreadPoolExecutor(4) as pool:
        jobs = [pool.submit(tabulate, mtq, z, workers=2) for z in ([], sets, [], sets)]
        got = [j.result().trans for j in jobs]
    for i, trans in enumerate(got):
        want = alone[i % 2]
        assert trans.keys() == want.keys() and all(np.array_equal(trans[k], want[k]) for k in want)
