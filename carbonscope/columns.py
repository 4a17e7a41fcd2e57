"""A numeric column of a user's table, read with an error that names the file, row and column."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from carbonscope.errors import InputError


def numeric_column(df: pd.DataFrame, column: str, path: Path | str) -> np.ndarray:
    """``df[column]`` as floats (empty cells are NaN); InputError for a missing column or a cell
    that is not a number (rows counted as in a spreadsheet: the header is row 1)."""
    if column not in df.columns:
        raise InputError(
            f"no column {column!r}; the file has {', '.join(map(str, df.columns))}", file=str(path), column=column
        )
    values = pd.to_numeric(df[column], errors="coerce")
    bad = values.isna() & df[column].notna() & (df[column].astype(str).str.strip() != "")
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(f"not a number: {df[column].iloc[i]!r}", file=str(path), row=i + 2, column=column)
    return values.to_numpy(dtype=float)
