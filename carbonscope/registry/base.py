"""The contract between source parsers and the ingest pipeline.

A parser turns one registry file into :class:`Batch` objects of normalised frames:

* ``projects``: one row per project with ``id`` and any of :data:`PROJECT_FIELDS` (what this source says);
* ``events``: credit events with :data:`EVENT_FIELDS`;
* ``stated``: totals a source states (``project_id``, ``metric``, ``value``), for reconciliation;
* ``series``: yearly series (``project_id``, ``series``, ``year``, ``quantity``).

Every frame keeps ``_row``, the spreadsheet row it came from.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd

from carbonscope.registry.reading import Issues

PROJECT_FIELDS = (
    "registry",
    "name",
    "proponent",
    "owner",
    "status_raw",
    "methodology_raw",
    "methodology_version",
    "type_raw",
    "type_override",
    "scope",
    "reduction_removal",
    "country_raw",
    "region",
    "state",
    "site",
    "listed_at",
    "registered_at",
    "crediting_start",
    "crediting_end",
    "first_vintage",
    "estimated_annual",
    "verifier",
    "sdgs",
    "corsia",
    "ccp",
    "article6",
    "corresponding_adjustment",
    "is_compliance",
    "compliance_program",
    "compliance_status",
    "compliance_id",
    "poa_id",
    "size_class",
    "registry_url",
    "website",
    "description",
    "certifications",
    "pers",
    "notes",
    "stated_first_issuance",
    "stated_first_retirement",
)

EVENT_FIELDS = (
    "project_id",
    "registry",
    "type",
    "quantity",
    "vintage",
    "vintage_start",
    "vintage_end",
    "event_date",
    "serial",
    "serial_start",
    "serial_end",
    "beneficiary",
    "reason",
    "note",
    "account",
    "corsia",
)


@dataclass
class Batch:
    projects: pd.DataFrame | None = None
    events: pd.DataFrame | None = None
    stated: pd.DataFrame | None = None
    series: pd.DataFrame | None = None


@dataclass
class Parser:
    """Base of every source parser. Subclasses set the class attributes and implement :meth:`parse`."""

    source: ClassVar[str]  # verra, gold-standard, american-carbon-registry, ..., vrod, offsetsdb
    kind: ClassVar[str]  # projects, transactions, issuances, retirements, cancellations
    label: ClassVar[str]
    required: ClassVar[dict[str, str]]  # normalised header -> header as the registry writes it
    rank: ClassVar[int]  # merge precedence: lower wins
    # Bump when parsing changes, so unchanged files are re-read. 2: Verra issuances per date bounded by the
    # vintage total; stated totals and flags keep their rows; VROD compliance words, certifications, notes;
    # OffsetsDB first dates; SDGs written "2. Zero Hunger".
    version: ClassVar[int] = 2
    suffixes: ClassVar[tuple[str, ...]] = (".csv",)
    chunksize: int = field(default=250_000)

    @property
    def key(self) -> str:
        return f"{self.source}/{self.kind}"

    def matches(self, path: Path, header: list[str]) -> bool:
        return path.suffix.lower() in self.suffixes and set(self.required) <= set(header)

    def parse(self, path: Path, issues: Issues) -> Iterator[Batch]:  # pragma: no cover - interface
        raise NotImplementedError


def latest_per_project(df: pd.DataFrame, id_col: str, date_col: str | None = None) -> pd.DataFrame:
    """One row per project: the latest by ``date_col`` (last row of the file when no date)."""
    if date_col is not None and date_col in df:
        df = df.sort_values(date_col, kind="stable", na_position="first")
    return df.drop_duplicates(id_col, keep="last")


def any_true(df: pd.DataFrame, id_col: str, flag_cols: list[str]) -> pd.DataFrame:
    """Per project: True if any row says True, False if rows say only False, missing otherwise.

    With a ``_row`` column, ``_rows_<flag>`` lists every row that gave the result (each row saying
    yes for True, each row saying no for False), so the flag's provenance cites all of them.
    """
    codes = pd.DataFrame({id_col: df[id_col].to_numpy()})
    for c in flag_cols:
        b = df[c].astype("boolean")
        codes[c] = np.where(b.isna().to_numpy(), 0, np.where(b.fillna(False).to_numpy(dtype=bool), 2, 1)).astype("int8")
    out = codes.groupby(id_col, sort=False).max()
    rows = "_row" in df
    if rows:
        codes["_row"] = pd.to_numeric(df["_row"], errors="coerce").to_numpy()
    for c in flag_cols:
        v = out[c].to_numpy()
        if rows:
            best = codes[id_col].map(out[c])
            hit = codes[(codes[c] == best) & (codes[c] > 0)]
            lists = hit.groupby(id_col, sort=False)["_row"].agg(lambda r: sorted(int(x) for x in r if x == x))
            out["_rows_" + c] = lists.reindex(out.index)
        out[c] = pd.array(np.where(v == 2, True, False), dtype="boolean")
        out.loc[v == 0, c] = pd.NA
    return out.reset_index()
