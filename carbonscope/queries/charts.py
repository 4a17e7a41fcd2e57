"""Chart configurations for the pages: every year on the axis, series named in words, their unit,
series that are zero throughout left out (and said so), the current year marked as partial.

The browser only draws what these return (``web/static/js/charts.js``), so what a chart claims is
decided, and tested, here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

CREDITS = "credits (tCO2e)"
SERIES_LABELS = {
    "issued": "Issued",
    "retired": "Retired",
    "cancelled": "Cancelled",
    "retired_or_cancelled": "Retired or cancelled",
    "buffer": "Put in the buffer pool",
    "remaining": "Remaining",
    "projects": "Projects",
}
# What a left-out series would have shown, as a noun ("No cancellations are dated")
SERIES_NOUNS = {
    "issued": "issuances",
    "retired": "retirements",
    "cancelled": "cancellations",
    "retired_or_cancelled": "retirements or cancellations",
    "buffer": "buffer deposits",
    "remaining": "remaining credits",
    "projects": "projects",
}
REGISTRY_NAMES = {
    "VCS": "Verra",
    "GS": "Gold Standard",
    "ACR": "American Carbon Registry",
    "CAR": "Climate Action Reserve",
    "ART": "ART TREES",
}


def this_year() -> int:
    return datetime.now(UTC).year


def yearly(
    rows: Iterable[dict],
    year_key: str,
    keys: Sequence[str],
    *,
    labels: dict[str, str] | None = None,
    unit: str = CREDITS,
    axis: str = "year",
    current_year: int | None = None,
) -> dict:
    """A bar chart over a continuous range of years: a year without data is a zero, not a gap
    closed up; rows without a year are counted apart (``undated``)."""
    names = {**SERIES_LABELS, **(labels or {})}
    by_year: dict[int, dict] = {}
    undated = {k: 0 for k in keys}
    for r in rows:
        y = r.get(year_key)
        if not y:
            for k in keys:
                undated[k] += int(r.get(k) or 0)
            continue
        slot = by_year.setdefault(int(y), {})
        for k in keys:
            slot[k] = slot.get(k, 0) + int(r.get(k) or 0)
    if not by_year:
        return {"labels": [], "series": [], "unit": unit, "axis": axis, "hidden": [], "empty": True}
    span = range(min(by_year), max(by_year) + 1)
    series, hidden = [], []
    for k in keys:
        values = [by_year.get(y, {}).get(k, 0) for y in span]
        if any(values):
            series.append({"key": k, "label": names[k], "values": values})
        else:
            hidden.append(SERIES_NOUNS.get(k, names[k].lower()))
    current = this_year() if current_year is None else current_year
    return {
        "labels": [f"{y} (so far)" if y == current else str(y) for y in span],
        "series": series,
        "unit": unit,
        "axis": axis,
        "hidden": hidden,  # what the series with no credits in any year would have shown (left out)
        "partial_year": current if current in span else None,
        "years_without_data": [y for y in span if y not in by_year],
        "undated": {names[k]: v for k, v in undated.items() if v},
        "empty": not series,
    }


def categorical(
    rows: Iterable[dict], label_key: str, keys: Sequence[str], *, names: dict[str, str] | None = None,
    unit: str = CREDITS, axis: str = "",
) -> dict:  # fmt: skip
    """Bars per category (registry, ...), series that are zero everywhere left out."""
    rows = list(rows)
    series, hidden = [], []
    for k in keys:
        values = [int(r.get(k) or 0) for r in rows]
        if any(values):
            series.append({"key": k, "label": SERIES_LABELS[k], "values": values})
        else:
            hidden.append(k)
    return {
        "labels": [(names or {}).get(r[label_key], r[label_key] or "unknown") for r in rows],
        "series": series,
        "unit": unit,
        "axis": axis,
        "hidden": [SERIES_LABELS[k] for k in hidden],
        "empty": not series,
    }


def listings(rows: list[dict], undated: dict[str, int], current_year: int | None = None) -> dict:
    """Projects per year of listing, stacked by registry; registries whose files give no dates named."""
    regs = [r for r in REGISTRY_NAMES if any((row["by_registry"] or {}).get(r) for row in rows)]
    flat = [{"year": row["year"], **{r: (row["by_registry"] or {}).get(r, 0) for r in regs}} for row in rows]
    chart = yearly(flat, "year", regs, labels=REGISTRY_NAMES, unit="projects listed", current_year=current_year)
    chart["stacked"] = True
    chart["undated"] = {REGISTRY_NAMES.get(r, r): n for r, n in undated.items() if n}
    return chart
