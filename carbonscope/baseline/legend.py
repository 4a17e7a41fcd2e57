"""Reclassification tables: land-cover codes to IPCC land categories (or forest / non-forest).

Packaged tables (``legends/*.csv``): ``esa_cci`` (the CCI-LC Product User Guide's IPCC table),
``worldcover``, ``modis_igbp`` and ``forest_nonforest``. A user's table is a CSV with the columns
``value, category`` (an empty category means no data) or a mapping given inline in the run config.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from carbonscope.errors import InputError

IPCC = ("forest", "cropland", "grassland", "wetland", "settlement", "other")
FOREST_NONFOREST = ("forest", "non_forest")
PACKAGED = ("esa_cci", "worldcover", "modis_igbp", "forest_nonforest")
NO_DATA = "no_data"
UNMAPPED = "unmapped"
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Legend:
    """Category names and a lookup table from raw codes to category indices.

    Indices ``0..len(categories)-1`` are the categories; ``nodata`` and ``unmapped`` follow.
    ``lut`` is indexed by the code's bit pattern as an unsigned 8- or 16-bit integer.
    """

    categories: tuple[str, ...]
    codes: dict[int, str | None]
    source: str

    @property
    def nodata(self) -> int:
        return len(self.categories)

    @property
    def unmapped(self) -> int:
        return len(self.categories) + 1

    @property
    def size(self) -> int:
        """Number of indices including no data and unmapped."""
        return len(self.categories) + 2

    @property
    def names(self) -> tuple[str, ...]:
        return self.categories + (NO_DATA, UNMAPPED)

    def lut(self, bits: int, signed: bool, nodata: float | list[float] | None = None) -> np.ndarray:
        lut = np.full(1 << bits, self.unmapped, dtype=np.uint8)
        for value, cat in self.codes.items():
            key = value & ((1 << bits) - 1) if signed else value
            if 0 <= key < lut.size:
                lut[key] = self.nodata if cat is None else self.categories.index(cat)
        for nd in nodata_values(nodata):
            if float(nd).is_integer():
                key = int(nd) & ((1 << bits) - 1) if signed else int(nd)
                if 0 <= key < lut.size:
                    lut[key] = self.nodata
        return lut

    def hidden_by(self, nodata: float | list[float] | None) -> list[str]:
        """Categories every code of which is a nodata value: they would vanish from the map."""
        nd = {int(v) for v in nodata_values(nodata) if float(v).is_integer()}
        by_cat: dict[str, set[int]] = {}
        for value, cat in self.codes.items():
            if cat is not None:
                by_cat.setdefault(cat, set()).add(value)
        return [cat for cat, values in by_cat.items() if values and values <= nd]


def nodata_values(nodata: float | list[float] | None) -> list[float]:
    return [] if nodata is None else list(nodata) if isinstance(nodata, list) else [nodata]


def _ordered(cats: list[str]) -> tuple[str, ...]:
    """All six IPCC categories (or forest and non-forest) in their usual order when the table uses
    only those names, so every run reports the same keys; otherwise the table's order."""
    for known in (FOREST_NONFOREST, IPCC):
        if set(cats) <= set(known):
            return known
    return tuple(dict.fromkeys(cats))


def from_frame(t: pd.DataFrame, source: str) -> Legend:
    missing = {"value", "category"} - set(t.columns)
    if missing:
        raise InputError(f"the mapping table needs the columns value, category; missing {sorted(missing)}", file=source)
    codes: dict[int, str | None] = {}
    for i, row in enumerate(t.itertuples(index=False), start=2):
        try:
            value = int(row.value)
        except (TypeError, ValueError):
            raise InputError(
                f"value {row.value!r} is not an integer class code", file=source, row=i, column="value"
            ) from None
        if value in codes:
            raise InputError(f"class {value} is mapped twice", file=source, row=i, column="value")
        cat = row.category if isinstance(row.category, str) and row.category.strip() else None
        if cat is not None:
            cat = cat.strip().lower()
            if not _NAME.match(cat) or cat in (NO_DATA, UNMAPPED):
                raise InputError(
                    f"category {cat!r} must be a lower-case name (e.g. forest, cropland)",
                    file=source,
                    row=i,
                    column="category",
                )
        codes[value] = cat
    cats = [c for c in dict.fromkeys(codes.values()) if c is not None]
    if not cats:
        raise InputError("the mapping table maps no class to a category", file=source)
    return Legend(_ordered(cats), codes, source)


def load(spec: str | Path | dict) -> Legend:
    """A packaged table by name, a CSV path, or an inline ``{code: category}`` mapping."""
    if isinstance(spec, dict):
        t = pd.DataFrame({"value": list(spec.keys()), "category": [v or None for v in spec.values()]})
        return from_frame(t, "inline mapping")
    if str(spec) in PACKAGED:
        with resources.files("carbonscope.baseline").joinpath(f"legends/{spec}.csv").open() as f:
            return from_frame(pd.read_csv(f, comment="#", dtype={"category": str}), str(spec))
    path = Path(spec)
    if not path.exists():
        raise InputError(f"no such mapping table; packaged tables: {', '.join(PACKAGED)}", file=str(path))
    try:
        t = pd.read_csv(path, comment="#", dtype={"category": str})
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"not a readable CSV table ({exc})", file=str(path)) from None
    return from_frame(t, str(path))


FOREST_MASK = Legend(FOREST_NONFOREST, {0: "non_forest", 1: "forest"}, "forest/non-forest mask")
