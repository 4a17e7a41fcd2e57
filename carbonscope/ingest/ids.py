"""Stable credit-event IDs: a hash of the event's identity and its source.

The identity is the source file kind, event type, project, serial block, vintage (year and
period), event date and quantity (and, for buffer deposits, which buffer). Free text
(beneficiary, note, ...) is not part of it, so a registry correcting a note updates the event
instead of adding a new one. Rows that are identical in all of these get an occurrence number,
counted across the whole file, so the same file always yields the same IDs.
"""

from __future__ import annotations

import hashlib

import pandas as pd

from carbonscope.uniques import on_uniques

KEY_FIELDS = ("type", "project_id", "serial", "vintage", "vintage_start", "vintage_end", "event_date", "quantity")


def _key_text(s: pd.Series) -> list[str]:
    if pd.api.types.is_datetime64_any_dtype(s):
        return on_uniques(s, lambda u: u.dt.strftime("%Y-%m-%d"), object).fillna("").tolist()
    if pd.api.types.is_float_dtype(s) or pd.api.types.is_integer_dtype(s):
        return s.astype("Int64").astype("string").fillna("").tolist()
    return s.astype("string").fillna("").tolist()


def event_ids(events: pd.DataFrame, source_key: str, seen: dict[str, int]) -> pd.Series:
    """IDs for ``events``; ``seen`` carries occurrence counts across the chunks of one file."""
    n = len(events)
    cols = [_key_text(events[f]) if f in events else [""] * n for f in KEY_FIELDS]
    if "note" in events:
        cols.append(_key_text(events["note"].where(events["type"] == "buffer_deposit")))
    keys = ["|".join(parts) for parts in zip([source_key] * n, *cols)]
    base = [hashlib.blake2b(k.encode(), digest_size=10).hexdigest() for k in keys]
    base_s = pd.Series(base, index=events.index)
    occurrence = base_s.groupby(base_s, sort=False).cumcount()
    if seen:
        occurrence = occurrence + base_s.map(seen).fillna(0).astype(int)
    counts = base_s.value_counts(sort=False)
    for b, c in zip(counts.index.tolist(), counts.tolist()):
        seen[b] = seen.get(b, 0) + c
    ids = [
        b if o == 0 else hashlib.blake2b(f"{b}#{o}".encode(), digest_size=10).hexdigest()
        for b, o in zip(base, occurrence.tolist())
    ]
    return pd.Series(ids, index=events.index, dtype=object)
