"""Per-distinct-value work on pandas columns (shared by the parsers, the ledger and bulk writes)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd


def on_uniques(series: pd.Series, fn: Callable[[pd.Series], pd.Series], dtype: Any = None) -> pd.Series:
    """Apply ``fn`` (uniques -> values) to the distinct values only and spread the result back.

    Registry columns repeat a handful of values over many rows (dates, statuses, flags), so this
    turns per-row Python work into per-distinct-value work.
    """
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    values = fn(pd.Series(uniques, dtype=series.dtype if series.dtype != object else object))
    values = pd.Series(values).reset_index(drop=True)
    if dtype is not None:
        values = values.astype(dtype)
    taken = values.take(np.where(codes < 0, 0, codes)) if len(values) else pd.Series([None] * len(codes))
    out = pd.Series(taken.to_numpy(), index=series.index, dtype=values.dtype if len(values) else dtype)
    if (codes < 0).any():
        out = out.mask(codes < 0)
    return out
