"""Honest validation: random split, k-fold and spatial block cross-validation, side by side.

Every metric is computed on predictions for samples the model did not see. When the model has a
grid, it is tuned inside each training part (inner folds of the same kind: spatial blocks inside
spatial CV), so the held-out samples never choose the hyperparameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from carbonscope.biomass import models
from carbonscope.errors import InputError


def metrics(obs: np.ndarray, pred: np.ndarray, bins: list[float] | None = None) -> dict:
    """RMSE, relative RMSE (% of the observed mean), bias (mean of predicted - observed), MAE, R^2
    (1 - SSE/SST), Pearson r, slope of observed on predicted, n; and the same by observed-AGB bin."""
    obs, pred = np.asarray(obs, float), np.asarray(pred, float)
    n = len(obs)
    if n < 2:
        raise InputError(f"too few held-out samples to compute metrics ({n})")
    err = pred - obs
    rmse = float(np.sqrt(np.mean(err**2)))
    mean_obs = float(obs.mean())
    sst = float(((obs - mean_obs) ** 2).sum())
    r = float(np.corrcoef(obs, pred)[0, 1]) if np.std(pred) > 0 and np.std(obs) > 0 else float("nan")
    slope = float(np.polyfit(pred, obs, 1)[0]) if np.std(pred) > 0 else float("nan")
    out: dict[str, Any] = {
        "n": n,
        "rmse": rmse,
        "rrmse": float(100 * rmse / mean_obs) if mean_obs else float("nan"),
        "bias": float(err.mean()),
        "rbias": float(100 * err.mean() / mean_obs) if mean_obs else float("nan"),
        "mae": float(np.abs(err).mean()),
        "r2": float(1 - (err**2).sum() / sst) if sst > 0 else float("nan"),
        "r": r,
        "slope": slope,
        "mean_observed": mean_obs,
    }
    if bins is None:
        hi = float(np.nanmax(obs))
        step = 10 ** np.floor(np.log10(max(hi, 1) / 4))
        step *= 1 if hi / step < 8 else (2 if hi / step < 16 else 5)
        bins = list(np.arange(0, hi + step, step))
    edges = np.asarray(sorted(bins), float)
    which = np.digitize(obs, edges[1:-1])
    out["by_bin"] = []
    for b in range(len(edges) - 1):
        m = which == b
        if m.any():
            e = err[m]
            out["by_bin"].append(
                {
                    "from": float(edges[b]),
                    "to": float(edges[b + 1]),
                    "n": int(m.sum()),
                    "rmse": float(np.sqrt(np.mean(e**2))),
                    "bias": float(e.mean()),
                }
            )
    return out


# ----------------------------------------------------------------------------- folds


def random_split(n: int, train_fraction: float, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    order = rng.permutation(n)
    k = int(round(n * train_fraction))
    if k < 2 or n - k < 2:
        raise InputError(f"a {train_fraction:.0%} split of {n} samples leaves too few to train or test")
    return [(np.sort(order[:k]), np.sort(order[k:]))]


def kfold(n: int, k: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    if n < k:
        raise InputError(f"{k}-fold cross-validation needs at least {k} samples, got {n}")
    rng = np.random.default_rng(seed)
    fold = np.empty(n, int)
    fold[rng.permutation(n)] = np.arange(n) % k
    return [(np.flatnonzero(fold != i), np.flatnonzero(fold == i)) for i in range(k)]


def spatial_blocks(x: np.ndarray, y: np.ndarray, block: float) -> np.ndarray:
    """A block ID per sample: the square of side ``block`` it falls in (coordinates and block in
    metres: a run converts geographic coordinates first, ``geo.metric.to_metres``)."""
    bx = np.floor(np.asarray(x, float) / block).astype(np.int64)
    by = np.floor(np.asarray(y, float) / block).astype(np.int64)
    _, ids = np.unique(np.stack([bx, by], 1), axis=0, return_inverse=True)
    return ids.ravel()


def group_kfold(groups: np.ndarray, k: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Whole blocks to folds at random, balancing the number of samples per fold."""
    uniq, counts = np.unique(groups, return_counts=True)
    if len(uniq) < k:
        raise InputError(
            f"spatial cross-validation needs at least {k} blocks with samples; there are {len(uniq)}: use smaller blocks"
        )
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(uniq))
    order = order[np.argsort(-counts[order], kind="stable")]  # big blocks first, ties in random order
    load = np.zeros(k)
    fold_of = {}
    for i in order:
        f = int(np.argmin(load))
        fold_of[uniq[i]] = f
        load[f] += counts[i]
    fold = np.array([fold_of[g] for g in groups])
    return [(np.flatnonzero(fold != i), np.flatnonzero(fold == i)) for i in range(k)]


# ----------------------------------------------------------------------------- cross-validation


def permutation_importance(model: Any, X: np.ndarray, y: np.ndarray, repeats: int = 5, seed: int = 0) -> np.ndarray:
    """Mean increase of RMSE on (X, y) when each feature's column is shuffled (Breiman 2001).

    All shuffled copies go through one ``predict`` call, which matters for forests on small folds.
    """
    rng = np.random.default_rng(seed)
    n, f = X.shape
    base = float(np.sqrt(np.mean((model.predict(X) - y) ** 2)))
    copies = np.repeat(X[None, :, :], f * repeats, axis=0)
    for j in range(f):
        for r in range(repeats):
            copies[j * repeats + r, :, j] = X[rng.permutation(n), j]
    pred = model.predict(copies.reshape(-1, f)).reshape(f, repeats, n)
    rmse = np.sqrt(((pred - y) ** 2).mean(axis=2))
    return rmse.mean(axis=1) - base


@dataclass
class CVResult:
    scheme: str
    description: str
    metrics: dict
    observed: np.ndarray
    predicted: np.ndarray
    index: np.ndarray  # rows of the sample table held out
    fold: np.ndarray
    chosen: list[dict] = field(default_factory=list)
    importance: dict | None = None

    def summary(self) -> dict:
        return {
            "scheme": self.scheme,
            "description": self.description,
            **self.metrics,
            "chosen_params": self.chosen,
            **({"importance": self.importance} if self.importance else {}),
        }


def _inner_folds(scheme: str, train: np.ndarray, x, y, block, k: int, seed: int):
    if scheme == "spatial":
        g = spatial_blocks(np.asarray(x)[train], np.asarray(y)[train], block)
        if len(np.unique(g)) >= k:
            return group_kfold(g, k, seed)
    return kfold(len(train), k, seed)


def cross_validate(
    spec: models.ModelSpec,
    X: np.ndarray,
    y: np.ndarray,
    *,
    scheme: str,
    seed: int = 0,
    train_fraction: float = 0.7,
    k: int = 5,
    x: np.ndarray | None = None,
    yc: np.ndarray | None = None,
    block: float | None = None,
    importance: bool = False,
    feature_names: Sequence[str] | None = None,
    bins: list[float] | None = None,
    inner_k: int = 3,
) -> CVResult:
    """Held-out predictions and metrics by one scheme: ``split``, ``kfold`` or ``spatial``."""
    n = len(y)
    if scheme == "split":
        folds = random_split(n, train_fraction, seed)
        desc = f"random split: {train_fraction:.0%} train, {1 - train_fraction:.0%} test"
    elif scheme == "kfold":
        folds = kfold(n, k, seed)
        desc = f"random {k}-fold cross-validation"
    elif scheme == "spatial":
        if x is None or yc is None or not block:
            raise InputError("spatial cross-validation needs x and y coordinates and a block size")
        folds = group_kfold(spatial_blocks(x, yc, block), k, seed)
        desc = f"spatial block cross-validation: {block:g} m blocks in {k} folds"
    else:
        raise InputError(f"unknown validation scheme {scheme!r}")
    pred = np.full(n, np.nan)
    fold_id = np.full(n, -1)
    chosen, imps = [], []
    for i, (train, test) in enumerate(folds):
        inner = None
        if spec.grid:
            inner_idx = _inner_folds(scheme, train, x, yc, block, inner_k, seed + i)
            inner = [(tr, te) for tr, te in inner_idx]
        model, params, _ = models.fit(spec, X[train], y[train], folds=inner, seed=seed)
        if spec.grid:
            chosen.append({k_: params[k_] for k_ in spec.grid})
        pred[test] = model.predict(X[test])
        fold_id[test] = i
        if importance and len(test) >= 5:
            imps.append(permutation_importance(model, X[test], y[test], seed=seed + i))
    held = np.flatnonzero(fold_id >= 0)
    result = CVResult(
        scheme, desc, metrics(y[held], pred[held], bins), y[held], pred[held], held, fold_id[held], chosen
    )
    if imps and feature_names is not None:
        m = np.mean(imps, axis=0)
        result.importance = {name: float(v) for name, v in sorted(zip(feature_names, m), key=lambda t: -t[1])}
    return result


def parse_cv(text: str) -> dict:
    """``split:0.7`` | ``kfold:N`` | ``spatial:BLOCK_METRES[:K]`` -> keyword arguments of :func:`cross_validate`."""
    kind, _, arg = text.partition(":")
    try:
        if kind == "split":
            return {"scheme": "split", "train_fraction": float(arg or 0.7)}
        if kind == "kfold":
            return {"scheme": "kfold", "k": int(arg or 5)}
        if kind == "spatial":
            block, _, k = arg.partition(":")
            return {"scheme": "spatial", "block": float(block), "k": int(k or 5)}
    except ValueError as exc:
        raise InputError(f"--cv {text!r}: {exc}") from exc
    raise InputError(f"--cv {text!r}: use split:0.7, kfold:N or spatial:BLOCK_METRES")
