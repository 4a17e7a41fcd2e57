"""Models: presets as published, and grid searches whose shortcuts give exactly what brute force gives."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestRegressor
from sklearn.neighbors import KNeighborsRegressor
from sklearn.preprocessing import StandardScaler

from carbonscope.biomass import models, validation
from carbonscope.errors import InputError


@pytest.fixture(scope="module")
def samples(juupajoki_run):
    s = juupajoki_run.samples
    feats = ["hh_db", "hv_db", "hh_hv_diff", "hh_hv_ratio"]
    return s[feats].to_numpy(float), s.agb.to_numpy(float)


def test_the_gee_preset_bags_without_replacement_as_earth_engine_does(samples):
    """SMILE (Earth Engine) draws each tree's bag without replacement when the fraction is below 1."""
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.tree import DecisionTreeRegressor

    X, y = samples
    gee = models.resolve(None, "gee")
    m = models.make(gee.type, gee.params, seed=3).fit(X, y)
    assert isinstance(m, RandomForestRegressor) and len(m.estimators_) == 100 == len(m.bags_)
    size = round(0.7 * len(y))
    for tree, bag in list(zip(m.estimators_, m.bags_, strict=True))[:10]:
        assert len(bag) == size and len(np.unique(bag)) == size  # 70% of the plots, each once
        assert tree.tree_.weighted_n_node_samples[0] == size  # no bootstrap weights on top
        # tree k is scikit-learn's tree with its own seed grown on bag k, by hand
        again = DecisionTreeRegressor(min_samples_leaf=5, max_features="sqrt", random_state=tree.random_state)
        assert np.array_equal(again.fit(X[bag], y[bag]).predict(X), tree.predict(X))
    assert np.allclose(m.predict(X), np.mean([t.predict(X) for t in m.estimators_], axis=0))
    assert models.make(gee.type, gee.params, seed=3).get_params()["bootstrap"] is True  # refit-safe: params restored
    again = models.make(gee.type, gee.params, seed=3).fit(X, y)
    assert np.array_equal(again.predict(X), m.predict(X))  # repeatable for a seed
    with pytest.raises(InputError, match="sampling 'poisson'"):
        models.make("rf", {"sampling": "poisson"})


def test_presets():
    gee = models.resolve(None, "gee")
    assert gee.type == "rf" and gee.params == {
        "n_estimators": 100,
        "min_samples_leaf": 5,
        "max_samples": 0.7,
        "max_features": "sqrt",
        "sampling": "without_replacement",
    }
    grid = models.resolve(None, "published-rf-grid")
    assert grid.n_combinations == 192
    assert grid.grid["max_depth"] == [5, 10, 15, 20, 25, 30, 35, 40] == grid.grid["min_samples_split"]
    assert models.resolve(None, "published-knn").grid["n_neighbors"] == list(range(1, 51))
    with pytest.raises(InputError, match="is a knn model"):
        models.resolve("rf", "published-knn")
    with pytest.raises(InputError, match="unknown preset"):
        models.resolve(None, "gee-2")


def test_rf_grid_shortcuts_equal_brute_force(samples):
    X, y = samples
    spec = models.ModelSpec(
        "rf",
        {"max_features": "sqrt"},
        {"n_estimators": [5, 12], "max_depth": [2, 30, 40], "min_samples_split": [2, 20]},
    )
    folds = validation.kfold(len(y), 3, 0)
    fast = {tuple(sorted(p.items())): s for p, s in models.grid_scores(spec, X, y, folds, seed=7)}
    assert len(fast) == 12
    for n, d, m in itertools.product([5, 12], [2, 30, 40], [2, 20]):
        sq = 0.0
        for tr, te in folds:
            rf = RandomForestRegressor(
                n_estimators=n, max_depth=d, min_samples_split=m, max_features="sqrt", random_state=7
            ).fit(X[tr], y[tr])
            sq += ((rf.predict(X[te]) - y[te]) ** 2).sum()
        key = tuple(sorted({"n_estimators": n, "max_depth": d, "min_samples_split": m}.items()))
        assert fast[key] == pytest.approx(np.sqrt(sq / len(y)), rel=1e-12)


def test_rf_grid_cut_trees_agree_with_brute_force(samples):
    """All features at every split (the published grid's setting): trees cut at a depth stand for trees grown to it."""
    X, y = samples
    spec = models.ModelSpec(
        "rf", {"max_features": 1.0}, {"n_estimators": [10, 30], "max_depth": [3, 6, 40], "min_samples_split": [5, 20]}
    )
    folds = validation.random_split(len(y), 0.7, 0)
    fast = {tuple(sorted(p.items())): s for p, s in models.grid_scores(spec, X, y, folds, seed=3)}
    tr, te = folds[0]
    for n, d, m in itertools.product([10, 30], [3, 6, 40], [5, 20]):
        rf = RandomForestRegressor(
            n_estimators=n, max_depth=d, min_samples_split=m, max_features=1.0, random_state=3
        ).fit(X[tr], y[tr])
        brute = np.sqrt(np.mean((rf.predict(X[te]) - y[te]) ** 2))
        key = tuple(sorted({"n_estimators": n, "max_depth": d, "min_samples_split": m}.items()))
        assert fast[key] == pytest.approx(brute, rel=0.02)
        if d == 40:  # the largest depth is the fitted forest itself
            assert fast[key] == pytest.approx(brute, rel=1e-12)


def test_knn_grid_equals_refitting_each_k(samples):
    X, y = samples
    spec = models.resolve(None, "published-knn")
    folds = validation.kfold(len(y), 4, 1)
    fast = dict((p["n_neighbors"], s) for p, s in models.grid_scores(spec, X, y, folds))
    for k in (1, 7, 50):
        sq = 0.0
        for tr, te in folds:
            sc = StandardScaler().fit(X[tr])
            knn = KNeighborsRegressor(k).fit(sc.transform(X[tr]), y[tr])
            sq += ((knn.predict(sc.transform(X[te])) - y[te]) ** 2).sum()
        assert fast[k] == pytest.approx(np.sqrt(sq / len(y)), rel=1e-12)


def test_fit_tunes_on_inner_folds_and_refits(samples):
    X, y = samples
    spec = models.resolve(None, "published-knn")
    model, params, table = models.fit(spec, X, y, folds=validation.kfold(len(y), 3, 0))
    best = min(table, key=lambda r: r["rmse"])
    assert params["n_neighbors"] == best["n_neighbors"] and len(table) == 50
    assert model.predict(X[:3]).shape == (3,)


def test_lightgbm_trains(samples):
    X, y = samples
    model, params, _ = models.fit(models.resolve("lgbm"), X, y)
    assert np.isfinite(model.predict(X)).all()
    assert pd.Series(model.predict(X)).between(y.min() - 100, y.max() + 100).all()
