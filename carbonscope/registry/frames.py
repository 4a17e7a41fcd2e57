"""Small helpers shared by the parsers for building normalised frames from a raw chunk."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from carbonscope.registry import reading as t
from carbonscope.registry.reading import Issues
from carbonscope.uniques import on_uniques


class Chunk:
    """A raw chunk with normalised headers, and typed accessors that report problems by row and column.

    Column names are given as the registry writes them (``'Status Effective (GMT)'``); missing
    optional columns read as all-missing.
    """

    def __init__(self, df: pd.DataFrame, issues: Issues):
        self.df = df
        self.issues = issues
        self.rows = df["_row"]

    def __len__(self) -> int:
        return len(self.df)

    def subset(self, index: pd.Index | pd.Series) -> Chunk:
        """The same chunk restricted to ``index`` (problems still go to the same issues)."""
        return Chunk(self.df.loc[index], self.issues)

    def latest_per_project(self, ids: pd.Series, when: pd.Series | None = None) -> pd.Index:
        """Index of one row per project, not skipped: the latest by ``when``, else the last."""
        ok = ~self.rows.isin(self.issues.skipped_rows) & ids.notna()
        order = pd.DataFrame({"id": ids[ok], "when": when[ok] if when is not None else 0})
        order = order.sort_values("when", kind="stable", na_position="first")
        return order.drop_duplicates("id", keep="last").index

    def raw(self, label: str) -> pd.Series:
        key = t.norm_header(label)
        if key in self.df:
            return self.df[key]
        return pd.Series(pd.NA, index=self.df.index, dtype="string")

    def has(self, label: str) -> bool:
        return t.norm_header(label) in self.df

    def text(self, label: str) -> pd.Series:
        return t.text(self.raw(label))

    def number(self, label: str, *, required: bool = False, allow_negative: bool = False) -> pd.Series:
        return t.numbers(
            self.raw(label),
            column=label,
            issues=self.issues,
            rows=self.rows,
            required=required,
            allow_negative=allow_negative,
        )

    def date(self, label: str, *, required: bool = False) -> pd.Series:
        return t.dates(self.raw(label), column=label, issues=self.issues, rows=self.rows, required=required)

    def year(self, label: str) -> pd.Series:
        return t.years(self.raw(label), column=label, issues=self.issues, rows=self.rows)

    def flag(self, label: str) -> pd.Series:
        return t.flags(self.raw(label))

    def sdgs(self, label: str) -> pd.Series:
        return t.sdg_list(self.raw(label))

    def ids(self, label: str, prefix: str) -> pd.Series:
        """Numeric registry IDs (``'1340'``, ``'ACR1185'``, ``'11191.0'``) -> ``prefix + number``; others skipped."""
        s = self.text(label)
        num = on_uniques(
            s,
            lambda u: u.astype("string").str.extract(rf"^(?:{prefix})?\s*0*(\d+)(?:\.0+)?$", flags=re.IGNORECASE)[0],
            "string",
        )
        bad = s.notna() & num.isna()
        if bad.any():
            self.issues.add(
                self.rows[bad], label, f"not a {prefix} project ID: {s[bad].iloc[0]!r} (row skipped)", skip=True
            )
        missing = s.isna()
        if missing.any():
            self.issues.add(self.rows[missing], label, "missing project ID (row skipped)", skip=True)
        return (prefix + num).astype("string")


def contains(series: pd.Series, pattern: str) -> pd.Series:
    """True where ``series`` matches, False where it has text that does not, missing where empty."""
    s = t.text(series)
    return s.str.contains(pattern, case=False, regex=True).astype("boolean")


def year_of(dates: pd.Series) -> pd.Series:
    return dates.dt.year.astype("Int64")


def keep(df: pd.DataFrame, issues: Issues) -> pd.DataFrame:
    """Drop the rows a parser decided to skip."""
    if not issues.skipped_rows:
        return df
    return df[~df["_row"].isin(issues.skipped_rows)]


def stack_series(df: pd.DataFrame, id_col: str, columns: dict[str, int], series: str, source: str) -> pd.DataFrame:
    """Wide per-year columns -> long ``(project_id, series, year, quantity)``, zeros dropped."""
    if not columns:
        return pd.DataFrame(columns=["project_id", "series", "year", "quantity", "_row"])
    wide = df[[id_col, "_row", *columns]].rename(columns=columns)
    long = wide.melt(id_vars=[id_col, "_row"], var_name="year", value_name="quantity")
    long["quantity"] = pd.to_numeric(long["quantity"], errors="coerce")
    long = long[long["quantity"].fillna(0) != 0]
    long = long.rename(columns={id_col: "project_id"})
    long["series"] = series
    long["year"] = long["year"].astype(int)
    long["quantity"] = long["quantity"].astype(np.int64)
    return long[["project_id", "series", "year", "quantity", "_row"]]
