"""Models and their presets: random forest, kNN on scaled features, LightGBM.

Presets:

- ``gee``: the Earth Engine recipe, ``smileRandomForest`` as configured there: 100 trees, minimum
  leaf population 5, bag fraction 0.7, sqrt(number of features) variables per split. Earth Engine's
  forest (SMILE) draws each tree's bag *without* replacement when the fraction is below 1, where
  scikit-learn's forest bootstraps with replacement; the preset (``sampling =
  "without_replacement"``) is a :class:`BaggedForest`: each tree is grown by scikit-learn on 70% of
  the rows drawn without replacement, and the result is a scikit-learn random forest in every other
  way (the same inference engines read it).
- ``published-rf-grid``: the published grid, n_estimators 100/150/200 x max_depth 5..40 step 5 x
  min_samples_split 5..40 step 5 (192 combinations).
- ``published-knn``: k = 1..50 on standardised features.
- ``lgbm-default``: LightGBM with a small learning rate and a modest grid.

Grid searches are made cheap without changing what they estimate:

- A forest's prediction with its first m trees is exactly the prediction of the m-tree forest (the
  trees are drawn in the same order), so each setting is fitted once with the most trees.
- When every feature is tried at every split (scikit-learn's default for regression, as in the
  published grid), a tree grown to depth d is the deeper tree cut at depth d, so each
  min_samples_split is fitted once at the largest depth and cut at each depth. This is the same
  forest in distribution but not bit for bit: when two features split a node equally well,
  scikit-learn takes the first in a random order, and a deeper tree has drawn more random numbers
  by then. RMSEs agree to about 0.1% (see tests/biomass/test_models.py).
- With fewer features per split, each depth is fitted, except that when no tree reached
  ``max_depth`` every deeper setting gives exactly the same trees.
- kNN's neighbours are found once for the largest k (exact).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from carbonscope.errors import InputError

if TYPE_CHECKING:
    from sklearn.tree import DecisionTreeRegressor

PRESETS: dict[str, dict] = {
    "gee": {
        "type": "rf",
        "params": {
            "n_estimators": 100,
            "min_samples_leaf": 5,
            "max_samples": 0.7,
            "max_features": "sqrt",
            "sampling": "without_replacement",
        },
        "grid": {},
    },
    "published-rf-grid": {
        "type": "rf",
        "params": {},
        "grid": {
            "n_estimators": [100, 150, 200],
            "max_depth": list(range(5, 41, 5)),
            "min_samples_split": list(range(5, 41, 5)),
        },
    },
    "published-knn": {"type": "knn", "params": {}, "grid": {"n_neighbors": list(range(1, 51))}},
    "lgbm-default": {
        "type": "lgbm",
        "params": {
            "n_estimators": 400,
            "learning_rate": 0.03,
            "num_leaves": 15,
            "min_child_samples": 10,
            "subsample": 0.8,
            "subsample_freq": 1,
            "colsample_bytree": 0.8,
        },
        "grid": {"num_leaves": [7, 15, 31]},
    },
}
DEFAULTS = {
    "rf": {"n_estimators": 300, "min_samples_leaf": 3, "max_features": "sqrt"},
    "knn": {"n_neighbors": 5},
    "lgbm": PRESETS["lgbm-default"]["params"],
}


@dataclass
class ModelSpec:
    type: str
    params: dict
    grid: dict

    @property
    def n_combinations(self) -> int:
        return int(np.prod([len(v) for v in self.grid.values()])) if self.grid else 1


def resolve(
    model_type: str | None, preset: str | None = None, params: dict | None = None, grid: dict | None = None
) -> ModelSpec:
    """The model to train: a preset (which fixes its type) updated by explicit params and grid."""
    if preset:
        if preset not in PRESETS:
            raise InputError(f"unknown preset {preset!r}; known: {', '.join(PRESETS)}")
        p = PRESETS[preset]
        if model_type and model_type != p["type"]:
            raise InputError(f"preset {preset!r} is a {p['type']} model, not {model_type}")
        return ModelSpec(p["type"], {**p["params"], **(params or {})}, {**p["grid"], **(grid or {})})
    model_type = model_type or "rf"
    if model_type not in DEFAULTS:
        raise InputError(f"unknown model {model_type!r}; known: rf, knn, lgbm")
    return ModelSpec(model_type, {**DEFAULTS[model_type], **(params or {})}, dict(grid or {}))


_BAGGED: type | None = None


def bagged_forest() -> type:
    """The :class:`BaggedForest` class (scikit-learn is imported only when a forest is made)."""
    global _BAGGED
    if _BAGGED is None:
        from sklearn.ensemble import RandomForestRegressor
        from sklearn.utils import _safe_indexing

        class BaggedForest(RandomForestRegressor):
            """A random forest whose trees each learn from ``max_samples`` of the rows drawn without
            replacement, as Earth Engine's ``smileRandomForest`` does with a bag fraction below 1.

            Grown one tree at a time through scikit-learn's own ``warm_start``: tree k is scikit-learn's
            tree k (its seed from ``random_state``) fitted, without a bootstrap, on bag k."""

            def fit(self, X, y, sample_weight=None):
                n = len(y)
                saved = self.get_params()
                frac = 1.0 if saved["max_samples"] is None else saved["max_samples"]
                size = int(frac) if isinstance(frac, int) else max(1, round(float(frac) * n))
                rng = np.random.default_rng(saved["random_state"])
                self.bags_ = []
                try:
                    self.set_params(max_samples=None, bootstrap=False)
                    for k in range(1, saved["n_estimators"] + 1):
                        bag = np.sort(rng.choice(n, size=size, replace=False))
                        self.bags_.append(bag)
                        self.set_params(n_estimators=k, warm_start=k > 1)
                        w = None if sample_weight is None else np.asarray(sample_weight)[bag]
                        super().fit(_safe_indexing(X, bag), np.asarray(y)[bag], sample_weight=w)
                finally:
                    self.set_params(**{k: saved[k] for k in ("n_estimators", "max_samples", "bootstrap", "warm_start")})
                return self

            def as_random_forest(self):
                """The same fitted trees as a plain ``RandomForestRegressor`` (for ONNX and treelite)."""
                plain = RandomForestRegressor()
                plain.__dict__.update(self.__dict__)
                plain.bootstrap, plain.max_samples = False, None
                return plain

        BaggedForest.__module__ = __name__
        BaggedForest.__qualname__ = "BaggedForest"
        _BAGGED = BaggedForest
    return _BAGGED


def __getattr__(name: str):
    # pickled BaggedForests (saved models, dask workers) find their class by this name
    if name == "BaggedForest":
        return bagged_forest()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def make(model_type: str, params: dict, seed: int = 0, n_jobs: int = 1) -> Any:
    """An unfitted estimator (kNN wrapped with a scaler)."""
    if model_type == "rf":
        params = dict(params)
        sampling = params.pop("sampling", "bootstrap")
        if sampling == "without_replacement":
            return bagged_forest()(random_state=seed, n_jobs=n_jobs, **params)
        if sampling != "bootstrap":
            raise InputError(f"model.params.sampling {sampling!r}: give bootstrap or without_replacement")
        from sklearn.ensemble import RandomForestRegressor

        return RandomForestRegressor(random_state=seed, n_jobs=n_jobs, **params)
    if model_type == "knn":
        from sklearn.neighbors import KNeighborsRegressor
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        return make_pipeline(StandardScaler(), KNeighborsRegressor(**params))
    if model_type == "lgbm":
        from lightgbm import LGBMRegressor

        return LGBMRegressor(random_state=seed, n_jobs=n_jobs, verbose=-1, **params)
    raise InputError(f"unknown model {model_type!r}")


def _all_features(max_features, n_features: int) -> bool:
    return max_features is None or max_features == 1.0 or max_features == n_features


def _depth_tables(tree) -> tuple[np.ndarray, np.ndarray]:
    """Parent and depth of every node (sklearn numbers a node after its parent)."""
    n = tree.node_count
    parent = np.full(n, -1)
    depth = np.zeros(n, dtype=int)
    for node in range(n):
        for child in (tree.children_left[node], tree.children_right[node]):
            if child != -1:
                parent[child] = node
                depth[child] = depth[node] + 1
    return parent, depth


def truncated_predictions(tree: DecisionTreeRegressor, X: np.ndarray, depths: list) -> dict:
    """A fitted tree's predictions when cut at each depth: the value of the node each sample reaches at that depth."""
    leaf = tree.apply(X.astype(np.float32))
    t = tree.tree_
    parent, depth = _depth_tables(t)
    out = {}
    for d in depths:
        node = leaf.copy()
        if d is not None:
            while True:
                deep = depth[node] > d
                if not deep.any():
                    break
                node[deep] = parent[node[deep]]
        out[d] = t.value[node, 0, 0]
    return out


def _rf_grid_scores(spec: ModelSpec, X, y, folds, seed: int) -> list[tuple[dict, float]]:
    from sklearn.ensemble import RandomForestRegressor

    grid = dict(spec.grid)
    n_list = sorted(grid.pop("n_estimators", [spec.params.get("n_estimators", 100)]))
    depth_list = sorted(grid.pop("max_depth", [spec.params.get("max_depth")]), key=lambda d: np.inf if d is None else d)
    rest_keys = list(grid)
    base = {k: v for k, v in spec.params.items() if k not in ("n_estimators", "max_depth", *rest_keys)}
    results = []
    for rest in itertools.product(*(grid[k] for k in rest_keys)):
        rest_params = dict(zip(rest_keys, rest))
        mf = rest_params.get("max_features", base.get("max_features", 1.0))
        cut = _all_features(
            mf, X.shape[1]
        )  # every feature tried at every node: a shallower forest is the deeper one cut
        sq_err = {(d, m): 0.0 for d in depth_list for m in n_list}
        for train, test in folds:
            n_jobs = -1 if len(train) >= SMALL else 1
            if cut:
                rf = RandomForestRegressor(
                    n_estimators=n_list[-1],
                    max_depth=depth_list[-1],
                    random_state=seed,
                    n_jobs=n_jobs,
                    **base,
                    **rest_params,
                ).fit(X[train], y[train])
                per_depth = [truncated_predictions(t, X[test], depth_list) for t in rf.estimators_]
                for d in depth_list:
                    csum = np.cumsum(np.stack([p[d] for p in per_depth]), axis=0)
                    for m in n_list:
                        sq_err[(d, m)] += float(((csum[m - 1] / m - y[test]) ** 2).sum())
                continue
            reached_limit = True
            last: dict[int, float] = {}  # per number of trees: the squared error at the previous depth
            for d in depth_list:
                if not reached_limit:  # no tree reached the previous limit: same trees again
                    for m in n_list:
                        sq_err[(d, m)] += last[m]
                    continue
                rf = RandomForestRegressor(
                    n_estimators=n_list[-1], max_depth=d, random_state=seed, n_jobs=n_jobs, **base, **rest_params
                ).fit(X[train], y[train])
                csum = np.cumsum(np.stack([t.predict(X[test]) for t in rf.estimators_]), axis=0)
                last = {m: float(((csum[m - 1] / m - y[test]) ** 2).sum()) for m in n_list}
                for m in n_list:
                    sq_err[(d, m)] += last[m]
                reached_limit = d is not None and max(t.tree_.max_depth for t in rf.estimators_) >= d
        n = sum(len(t) for _, t in folds)
        for (d, m), s_ in sq_err.items():
            results.append(({"n_estimators": m, "max_depth": d, **rest_params}, float(np.sqrt(s_ / n))))
    return results


def _knn_grid_scores(spec: ModelSpec, X, y, folds) -> list[tuple[dict, float]]:
    from sklearn.neighbors import NearestNeighbors
    from sklearn.preprocessing import StandardScaler

    ks = sorted(spec.grid["n_neighbors"])
    other = {k: v for k, v in spec.grid.items() if k != "n_neighbors"}
    if other:
        raise InputError(f"the kNN grid may only vary n_neighbors (got {sorted(other)})")
    weights = spec.params.get("weights", "uniform")
    sq = np.zeros(len(ks))
    n = 0
    for train, test in folds:
        sc = StandardScaler().fit(X[train])
        kmax = min(ks[-1], len(train))
        nn = NearestNeighbors(n_neighbors=kmax).fit(sc.transform(X[train]))
        dist, idx = nn.kneighbors(sc.transform(X[test]))
        yy = y[train][idx]
        for j, k in enumerate(ks):
            kk = min(k, kmax)
            if weights == "distance":
                w = 1.0 / np.maximum(dist[:, :kk], 1e-12)
                pred = (yy[:, :kk] * w).sum(1) / w.sum(1)
            else:
                pred = yy[:, :kk].mean(1)
            sq[j] += ((pred - y[test]) ** 2).sum()
        n += len(test)
    return [({"n_neighbors": k}, float(np.sqrt(s / n))) for k, s in zip(ks, sq)]


def _generic_grid_scores(spec: ModelSpec, X, y, folds, seed: int) -> list[tuple[dict, float]]:
    keys = list(spec.grid)
    out = []
    for combo in itertools.product(*(spec.grid[k] for k in keys)):
        params = {**spec.params, **dict(zip(keys, combo))}
        sq, n = 0.0, 0
        for train, test in folds:
            m = make(spec.type, params, seed).fit(X[train], y[train])
            sq += float(((m.predict(X[test]) - y[test]) ** 2).sum())
            n += len(test)
        out.append((dict(zip(keys, combo)), float(np.sqrt(sq / n))))
    return out


def grid_scores(
    spec: ModelSpec, X: np.ndarray, y: np.ndarray, folds: list[tuple[np.ndarray, np.ndarray]], seed: int = 0
) -> list[tuple[dict, float]]:
    """RMSE of every grid combination over the given (train, test) folds."""
    if not spec.grid:
        return [({}, float("nan"))]
    if spec.type == "rf":
        return _rf_grid_scores(spec, X, y, folds, seed)
    if spec.type == "knn":
        return _knn_grid_scores(spec, X, y, folds)
    return _generic_grid_scores(spec, X, y, folds, seed)


SMALL = 3000  # below this many samples, one thread fits and predicts faster than a pool


def fit(
    spec: ModelSpec,
    X: np.ndarray,
    y: np.ndarray,
    *,
    folds: list | None = None,
    seed: int = 0,
    n_jobs: int | None = None,
) -> tuple[Any, dict, list | None]:
    """Fit the model; with a grid, tune it first on ``folds`` (inner cross-validation) and fit the best on all of X.

    Returns (estimator, chosen params, grid table or None).
    """
    if len(y) < 5:
        raise InputError(f"too few samples to train a model ({len(y)})")
    params = dict(spec.params)
    table = None
    if spec.grid:
        if folds is None:
            raise ValueError("a grid needs folds to tune on")
        scores = grid_scores(spec, X, y, folds, seed)
        best, _ = min(scores, key=lambda s: s[1])
        params.update(best)
        table = [{**p, "rmse": s} for p, s in scores]
    if spec.type == "knn":
        params["n_neighbors"] = min(params.get("n_neighbors", 5), len(y))
    if n_jobs is None:
        n_jobs = 1 if len(y) < SMALL else -1
    model = make(spec.type, params, seed, n_jobs=n_jobs).fit(X, y)
    return model, params, table
