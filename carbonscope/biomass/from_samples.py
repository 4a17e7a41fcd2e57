"""Training and validating from a table of samples (CSV or Parquet), without rasters."""

from __future__ import annotations

from pathlib import Path

import joblib
import numpy as np
import pandas as pd

from carbonscope.biomass import models, validation
from carbonscope.errors import InputError


def read_table(path: Path) -> pd.DataFrame:
    path = Path(path)
    if not path.exists():
        raise InputError("no such table", file=str(path))
    try:
        return pd.read_parquet(path) if path.suffix.lower() in (".parquet", ".pq") else pd.read_csv(path)
    except Exception as exc:  # pandas/pyarrow raise many types for unreadable files
        raise InputError(f"cannot read the table ({exc})", file=str(path)) from exc


def numeric_columns(df: pd.DataFrame, columns: list[str], path: Path) -> np.ndarray:
    """The columns as a float matrix; a missing column or a text value is refused, naming row and column."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise InputError(
            f"no column(s) {', '.join(map(repr, missing))}; the table has {', '.join(map(str, df.columns))}",
            file=str(path),
            column=missing[0],
        )
    out = np.empty((len(df), len(columns)))
    for j, c in enumerate(columns):
        v = pd.to_numeric(df[c], errors="coerce")
        bad = v.isna() & df[c].notna()
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError(f"not a number: {df[c].iloc[i]!r}", file=str(path), row=i + 2, column=c)
        out[:, j] = v.to_numpy(float)
    return out


def train_table(
    path: Path,
    target: str,
    features: list[str],
    *,
    model_type: str | None = None,
    preset: str | None = None,
    cv: str = "split:0.7",
    x: str | None = None,
    y: str | None = None,
    seed: int = 42,
    save: Path | None = None,
) -> dict:
    """Held-out metrics of a model on a samples table (``rmse``, ``rrmse``, ``bias``, ``r2``, ``r``, ``n``, ...)."""
    if not features:
        raise InputError("--features: name at least one column")
    df = read_table(path)
    if df.empty:
        raise InputError("the table has no rows", file=str(path))
    X = numeric_columns(df, features, path)
    t = numeric_columns(df, [target], path)[:, 0]
    kw = validation.parse_cv(cv)
    coords = None
    if kw["scheme"] == "spatial":
        if not x or not y:
            raise InputError("spatial cross-validation needs --x and --y coordinate columns")
        coords = numeric_columns(df, [x, y], path)
    ok = np.isfinite(X).all(axis=1) & np.isfinite(t) & (np.isfinite(coords).all(axis=1) if coords is not None else True)
    if ok.sum() < 10:
        raise InputError(f"only {int(ok.sum())} complete rows (of {len(df)}); at least 10 are needed", file=str(path))
    X, t = X[ok], t[ok]
    if coords is not None:
        kw.update(x=coords[ok, 0], yc=coords[ok, 1])
    spec = models.resolve(model_type, preset)
    result = validation.cross_validate(spec, X, t, seed=seed, feature_names=features, **kw)
    doc = {
        "model": preset or spec.type,
        "validation": kw["scheme"],
        **result.summary(),
        "rows_dropped": int((~ok).sum()),
        "features": features,
        "target": target,
    }
    if save is not None:
        folds = None
        if spec.grid:
            folds = (
                validation.group_kfold(validation.spatial_blocks(kw["x"], kw["yc"], kw["block"]), 3, seed)
                if coords is not None
                else validation.kfold(len(t), 3, seed)
            )
        model, params, _ = models.fit(spec, X, t, folds=folds, seed=seed)
        joblib.dump(
            {
                "model": model,
                "features": features,
                "params": params,
                "heldout": pd.DataFrame({"observed": result.observed, "predicted": result.predicted}),
                "heldout_scheme": result.description,
            },
            save,
        )
        doc["saved"] = str(save)
        doc["params"] = params
    return doc
