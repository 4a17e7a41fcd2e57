"""Beneficiary harmonisation: one name for the spellings of one organisation.

Registries write beneficiaries as free text: "Wildfang Co." and "Wildfang Co", "AWS" and
"Amazon Web Services", brokers' notes ("Emergent retiring on behalf of Chanel"), and words that name
nobody ("Not Disclosed", "No owner - contributing towards global emissions reductions"). Two steps:

1. the rules table ``vocab/beneficiaries.csv`` (documented per row): ``undisclosed`` rows name nobody
   and are left out of beneficiary statistics; ``extract`` rows take the named client out of a note;
   ``organisation`` rows give the canonical name of known spellings;
2. a normalisation key for the rest: Unicode-folded, lower case, punctuation and legal-form suffixes
   (Inc, LLC, Ltd, GmbH, S.A., SpA, ...) dropped, so case and punctuation variants group together.

A text longer than 120 characters after extraction is a note, not a name (``not_a_name``).
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from typing import Any

LEGAL_FORMS = (
    "inc",
    "incorporated",
    "llc",
    "ltd",
    "limited",
    "plc",
    "corp",
    "corporation",
    "co",
    "company",
    "gmbh",
    "ag",
    "sa",
    "s a",
    "spa",
    "srl",
    "bv",
    "nv",
    "pty",
    "sas",
    "ab",
    "as",
    "oy",
    "kg",
    "lp",
    "llp",
    "sb",
    "societa benefit",
)
MAX_NAME = 120


@dataclass(frozen=True)
class Beneficiary:
    key: str | None  # grouping key; None when the text names nobody
    name: str | None  # canonical name where a rule gives one, else the text itself
    kind: str  # organisation | undisclosed | not_a_name


@lru_cache(maxsize=1)
def _rules() -> tuple[tuple[re.Pattern, str, str], ...]:
    with files("carbonscope.registry.vocab").joinpath("beneficiaries.csv").open(encoding="utf-8") as fh:
        return tuple((re.compile(r["pattern"], re.IGNORECASE), r["name"], r["kind"]) for r in csv.DictReader(fh))


def normalise_key(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.sub(r"[^a-z0-9]+", " ", folded.lower()).split()
    while words and (words[-1] in LEGAL_FORMS or " ".join(words[-2:]) in LEGAL_FORMS):
        words = words[:-2] if " ".join(words[-2:]) in LEGAL_FORMS and len(words) > 1 else words[:-1]
    return " ".join(words) or folded.lower().strip()


@lru_cache(maxsize=65536)
def harmonise(text: str | None) -> Beneficiary:
    if text is None or not str(text).strip():
        return Beneficiary(None, None, "undisclosed")
    value = " ".join(str(text).split())
    for pattern, name, kind in _rules():
        m = pattern.search(value)
        if not m:
            continue
        if kind == "undisclosed":
            return Beneficiary(None, None, "undisclosed")
        if kind == "extract":
            value = " ".join(m.group("name").split()).strip(" .,;")
            continue  # the extracted name goes through the remaining rules and the key
        return Beneficiary(normalise_key(name), name, "organisation")
    if len(value) > MAX_NAME:
        return Beneficiary(None, None, "not_a_name")
    return Beneficiary(normalise_key(value), value, "organisation")


def group(rows: list[tuple[str | None, int, int, int]]) -> tuple[list[dict], dict]:
    """``rows``: (beneficiary text, quantity, retirements, projects) per distinct text.

    Returns the groups (canonical name, quantity, retirements, spellings), largest first, and
    coverage: how much of the retired quantity is named, undisclosed or a note rather than a name.
    """
    groups: dict[str, dict] = {}
    cover: dict[str, Any] = {
        "retirements": 0,
        "quantity": 0,
        "named_quantity": 0,
        "undisclosed_quantity": 0,
        "not_a_name_quantity": 0,
        "spellings": 0,
        "groups": 0,
    }
    for text, qty, n, _projects in rows:
        cover["retirements"] += n
        cover["quantity"] += qty
        b = harmonise(text)
        if b.key is None:
            cover["undisclosed_quantity" if b.kind == "undisclosed" else "not_a_name_quantity"] += qty
            continue
        cover["named_quantity"] += qty
        g = groups.setdefault(b.key, {"beneficiary": None, "quantity": 0, "retirements": 0, "spellings": {}})
        if b.name != text:
            g["beneficiary"] = b.name  # a rule's canonical name, or the client extracted from a note
        g["quantity"] += qty
        g["retirements"] += n
        g["spellings"][text] = g["spellings"].get(text, 0) + qty
    for g in groups.values():
        if g["beneficiary"] is None:  # else the spelling with the most credits
            g["beneficiary"] = max(g["spellings"].items(), key=lambda kv: (kv[1], kv[0]))[0]
        g["spellings"] = sorted(g["spellings"])
    cover["groups"] = len(groups)
    cover["spellings"] = sum(len(g["spellings"]) for g in groups.values())
    cover["named_share"] = cover["named_quantity"] / cover["quantity"] if cover["quantity"] else None
    return sorted(groups.values(), key=lambda g: (-g["quantity"], g["beneficiary"])), cover
