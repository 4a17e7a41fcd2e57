"""Area of applicability (Meyer and Pebesma 2021).

Features are standardised with the training mean and standard deviation and weighted by their
permutation importance. A pixel's dissimilarity index (DI) is its distance to the nearest training
sample divided by the mean distance between training samples. The threshold is, as in CAST's
``aoa()`` (``boxplot.stats(trainDI)$stats[5]``), the upper whisker of the training samples' own DI
(each measured to the training samples of other cross-validation folds): the largest training DI
within Tukey's upper hinge + 1.5 x the hinge spread (not the fence itself, which is more
permissive). Pixels above it are outside the area of applicability: the model
knows nothing about such feature combinations and its predictions there should not be read.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree
from scipy.spatial.distance import pdist


@dataclass
class AOA:
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    train: np.ndarray  # weighted, standardised training features
    mean_distance: float
    threshold: float
    training_di: np.ndarray
    _tree: cKDTree | None = None

    def _transform(self, X: np.ndarray) -> np.ndarray:
        return (np.asarray(X, float) - self.mean) / self.scale * self.weights

    def di(self, X: np.ndarray) -> np.ndarray:
        if self._tree is None:
            self._tree = cKDTree(self.train)
        d, _ = self._tree.query(self._transform(X), k=1)
        return d / self.mean_distance

    def inside(self, X: np.ndarray) -> np.ndarray:
        return self.di(X) <= self.threshold

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_tree"] = None
        return state

    def to_dict(self) -> dict:
        return {
            "threshold": float(self.threshold),
            "mean_distance": float(self.mean_distance),
            "weights": self.weights.tolist(),
            "training_di_max": float(self.training_di.max()),
        }


def fit(
    X: np.ndarray,
    folds: np.ndarray | None = None,
    importance: np.ndarray | None = None,
    max_pairs: int = 3000,
    seed: int = 0,
) -> AOA:
    """Train the AOA from training features, their CV fold (or None: leave-one-out) and importance weights."""
    X = np.asarray(X, float)
    mean = X.mean(0)
    scale = X.std(0)
    scale[scale == 0] = 1.0
    w = np.ones(X.shape[1]) if importance is None else np.clip(np.asarray(importance, float), 0, None)
    if w.max() <= 0:
        w = np.ones(X.shape[1])
    w = w / w.max()
    T = (X - mean) / scale * w
    rng = np.random.default_rng(seed)
    sub = T if len(T) <= max_pairs else T[rng.choice(len(T), max_pairs, replace=False)]
    mean_distance = float(pdist(sub).mean()) or 1.0
    di = np.empty(len(T))
    if folds is None:
        d, _ = cKDTree(T).query(T, k=2)
        di[:] = d[:, 1]
    else:
        folds = np.asarray(folds)
        for f in np.unique(folds):
            other = folds != f
            d, _ = cKDTree(T[other]).query(T[~other], k=1)
            di[~other] = d
    di /= mean_distance
    return AOA(mean, scale, w, T, mean_distance, upper_whisker(di), di)


def hinges(x: np.ndarray) -> tuple[float, float]:
    """Tukey's lower and upper hinges, as R's ``fivenum`` (the medians of the lower and upper halves)."""
    v = np.sort(np.asarray(x, float))
    n = len(v)
    n4 = np.floor((n + 3) / 2) / 2
    d = np.array([n4, n + 1 - n4]) - 1  # 0-based positions, possibly halfway between two values
    lo = 0.5 * (v[np.floor(d).astype(int)] + v[np.ceil(d).astype(int)])
    return float(lo[0]), float(lo[1])


def upper_whisker(x: np.ndarray) -> float:
    """R's ``boxplot.stats(x)$stats[5]``: the largest value within the upper hinge + 1.5 x the hinge spread."""
    lo, hi = hinges(x)
    v = np.asarray(x, float)
    return float(v[v <= hi + 1.5 * (hi - lo)].max())
