"""Inference engines for a fitted model: scikit-learn itself, ONNX Runtime, treelite (GTIL).

A :class:`Predictor` is picklable (it carries bytes, not sessions), so dask workers can each load it
once. ``choose`` converts the model to each engine that supports it, checks that its predictions
match scikit-learn's to 1e-4 relative on real samples, times each on the same rows, and keeps the
fastest that matches.
"""

from __future__ import annotations

import hashlib
import pickle
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from carbonscope import recipe

ENGINES = ("sklearn", "onnx", "treelite")
TOLERANCE = 1e-4


@dataclass
class Predictor:
    name: str
    payload: bytes
    n_features: int
    threads: int = 1
    timings: dict = field(default_factory=dict)
    key: str = ""

    def __post_init__(self):
        if not self.key:
            self.key = f"{self.name}:{self.threads}:{hashlib.sha1(self.payload).hexdigest()}"

    @property
    def cache_key(self) -> str:
        """Its loaded form's key in the process's run cache (released by the run that used it)."""
        return f"model:{self.key}"

    def _load(self):
        return recipe.PROCESS.get(self.cache_key, self.name, self._make, per_thread=False)

    def _make(self):
        obj: object
        if self.name == "sklearn":
            obj = pickle.loads(self.payload)
            if hasattr(obj, "n_jobs"):
                obj.n_jobs = self.threads
        elif self.name == "onnx":
            import onnxruntime as ort

            so = ort.SessionOptions()
            so.intra_op_num_threads = self.threads
            so.inter_op_num_threads = 1
            obj = ort.InferenceSession(self.payload, so, providers=["CPUExecutionProvider"])
        elif self.name == "treelite":
            import treelite

            obj = treelite.Model.deserialize_bytes(self.payload)
        else:
            raise ValueError(self.name)
        return obj

    def predict(self, X: np.ndarray) -> np.ndarray:
        X = np.ascontiguousarray(X, dtype=np.float32)
        if len(X) == 0:
            return np.empty(0)
        m = self._load()
        if self.name == "sklearn":
            return np.asarray(m.predict(X), dtype=float)
        if self.name == "onnx":
            return np.asarray(m.run(None, {m.get_inputs()[0].name: X})[0], dtype=float).ravel()
        import treelite.gtil

        return np.asarray(treelite.gtil.predict(m, X, nthread=self.threads), dtype=float).ravel()


def _payload(model, name: str, n_features: int) -> bytes | None:
    """The model converted for an engine, or None when the engine cannot take this model."""
    if name == "sklearn":
        return pickle.dumps(model)
    if hasattr(model, "as_random_forest"):  # the Earth Engine preset's forest: the same trees, a plain forest
        model = model.as_random_forest()
    kind = type(model).__name__
    if name == "onnx":
        if kind not in ("RandomForestRegressor", "ExtraTreesRegressor", "Pipeline", "KNeighborsRegressor"):
            return None
        try:
            from skl2onnx import to_onnx

            onx = to_onnx(model, np.zeros((1, n_features), dtype=np.float32), target_opset={"": 17, "ai.onnx.ml": 3})
            return onx.SerializeToString()
        except Exception:  # a model skl2onnx cannot convert: the engine is not offered
            return None
    if name == "treelite":
        try:
            import treelite

            if kind in ("RandomForestRegressor", "ExtraTreesRegressor"):
                tm = treelite.sklearn.import_model(model)
            elif kind == "LGBMRegressor":
                tm = treelite.frontend.from_lightgbm(model.booster_)
            else:
                return None
            return bytes(tm.serialize_bytes())
        except Exception:  # unsupported model in this treelite version
            return None
    raise ValueError(name)


def matches(a: np.ndarray, b: np.ndarray, rtol: float = TOLERANCE) -> bool:
    """Every prediction within ``rtol`` of the reference, relative to the reference's magnitude (floored at 1)."""
    return bool(np.all(np.abs(a - b) <= rtol * np.maximum(np.abs(b), 1.0)))


def candidates(model: Any, n_features: int, threads: int = 1, engines: Sequence[str] = ENGINES) -> list[Predictor]:
    out = []
    for name in engines:
        p = _payload(model, name, n_features)
        if p is not None:
            out.append(Predictor(name, p, n_features, threads))
    return out


def compare(
    model: Any, X: np.ndarray, threads: int = 1, engines: Sequence[str] = ENGINES, repeat: int = 3
) -> list[dict]:
    """Each engine's pixels/s on ``X`` and its largest relative difference from scikit-learn."""
    X = np.ascontiguousarray(X, dtype=np.float32)
    ref = np.asarray(model.predict(X), float)
    rows = []
    for eng in candidates(model, X.shape[1], threads, engines):
        eng.predict(X[:10])  # load and warm up
        best = np.inf
        for _ in range(repeat):
            t0 = time.perf_counter()
            p = eng.predict(X)
            best = min(best, time.perf_counter() - t0)
        rel = float(np.max(np.abs(p - ref) / np.maximum(np.abs(ref), 1.0)))
        recipe.release(eng.cache_key)  # a measurement: the engine that maps loads it again where it runs
        rows.append(
            {
                "engine": eng.name,
                "pixels_per_s": len(X) / best,
                "max_rel_diff": rel,
                "matches": matches(p, ref),
                "_engine": eng,
            }
        )
    return rows


def choose(model: Any, X_sample: np.ndarray, engine: str = "auto", threads: int = 1) -> Predictor:
    """The engine to map with: the one asked for, or (auto) the fastest that matches scikit-learn."""
    n_features = X_sample.shape[1]
    if engine != "auto":
        p = _payload(model, engine, n_features)
        if p is None:
            from carbonscope.errors import InputError

            raise InputError(f"predict.engine {engine!r} cannot run a {type(model).__name__}")
        eng = Predictor(engine, p, n_features, threads)
        if engine != "sklearn":
            sample = np.ascontiguousarray(X_sample[:20000], dtype=np.float32)
            same = matches(eng.predict(sample), np.asarray(model.predict(sample), float))
            recipe.release(eng.cache_key)  # checked; the map loads it again where it runs
            if not same:
                from carbonscope.errors import InputError

                raise InputError(
                    f"the {engine} engine's predictions differ from scikit-learn's by more than {TOLERANCE:g}"
                )
        return eng
    rows = compare(model, X_sample[:50000], threads, repeat=2)
    ok = [r for r in rows if r["matches"]]
    best = max(ok, key=lambda r: r["pixels_per_s"])
    eng = best["_engine"]
    eng.timings = {
        r["engine"]: {"pixels_per_s": r["pixels_per_s"], "max_rel_diff": r["max_rel_diff"], "matches": r["matches"]}
        for r in rows
    }
    return eng
