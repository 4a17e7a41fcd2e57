"""Harmonised vocabularies: methodology codes, project types and categories, statuses.

The rules are tables shipped beside this module (documented in ``docs/data-model.md``):

* ``methodology_types.csv`` maps a methodology code (CDM, Verra) to a project type and category;
  derived from the types Berkeley's VROD gives the projects that use each code.
* ``protocols.csv`` recognises named protocols without a code (ARB, CAR, ACR, Gold Standard, ART)
  by a pattern and gives each a normalised code, type and category.
* ``registry_types.csv`` maps a registry's own project-type words to a type when no code decides.
* ``project_types.csv`` gives the category of every type; ``type_aliases.csv`` maps other names.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files

# Category slug -> the words shown to people (the one list of categories; CATEGORIES is its keys)
CATEGORY_LABELS = {
    "forestry-land-use": "Forestry & land use",
    "renewable-energy": "Renewable energy",
    "household-community": "Household & community",
    "agriculture": "Agriculture",
    "waste-management": "Waste management",
    "chemical-processes": "Chemical processes",
    "industrial-commercial": "Industrial & commercial",
    "transportation": "Transportation",
    "carbon-capture-storage": "Carbon capture & storage",
    "engineered-removal": "Engineered removal",
}
CATEGORIES = tuple(CATEGORY_LABELS)

STATUSES = ("listed", "registered", "completed", "inactive", "withdrawn", "rejected", "transferred")

# Lower-cased registry words -> harmonised status. Order matters for the pattern fallbacks below.
STATUS_WORDS = {
    "listed": "listed",
    "under development": "listed",
    "under validation": "listed",
    "proposed project": "listed",
    "registration requested": "listed",
    "registration and verification approval requested": "listed",
    "gold standard certified design": "registered",
    "gold standard certified project": "registered",
    "registered": "registered",
    "active": "registered",
    "active arb project": "registered",
    "active registry project": "registered",
    "verification approval requested": "registered",
    "crediting period renewal requested": "registered",
    "crediting period renewal and verification approval requested": "registered",
    "requantification requested": "registered",
    "units transferred from approved ghg program": "registered",
    "completed": "completed",
    "arb completed": "completed",
    "inactive": "inactive",
    "arb inactive": "inactive",
    "late to verify": "inactive",
    "on hold - see notification letter": "inactive",
    "on hold": "inactive",
    "withdrawn": "withdrawn",
    "canceled": "withdrawn",
    "cancelled": "withdrawn",
    "terminated": "withdrawn",
    "rejected by administrator": "rejected",
    "registration request denied": "rejected",
    "registration and verification approval request denied": "rejected",
    "verification approval request denied": "rejected",
    "transitioned": "transferred",
    # APX and VROD compliance-program statuses (ARB / Washington Ecology)
    "listed - active ecology project": "listed",
    "listed - active arb project": "listed",
    "listed - active registry project": "listed",
    "listed - proposed project": "listed",
    "active project": "registered",
    "arb terminated": "withdrawn",
    "transferred arb or ecology project": "transferred",
    "transfer to another ghg program": "transferred",
}

NO_METHODOLOGY = {
    "",
    "other",
    "not provided",
    "methodology under development",
    "n/a",
    "none",
    "nan",
    "vcs project specific",
}

CODE_RE = re.compile(
    r"(?<![A-Z0-9])(AR-(?:ACM|AMS|AM)\s?\d{4}|ACM\s?\d{4}|AMS-?[IVX]+[.\-][A-Z]{1,3}(?![A-Z])\.?|AM\s?\d{4}|VMR\s?\d{4}|VMD\s?\d{4}|VM\s?\d{4}|VT\s?\d{4})",
    re.IGNORECASE,
)


def _read(name: str) -> list[dict[str, str]]:
    with files(__package__).joinpath(name).open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@lru_cache(maxsize=1)
def _method_types() -> dict[str, tuple[str | None, str]]:
    return {r["code"]: (r["type"] or None, r["category"]) for r in _read("methodology_types.csv")}


@dataclass(frozen=True)
class Protocol:
    code: str
    pattern: re.Pattern
    type: str
    category: str


@lru_cache(maxsize=1)
def _protocols() -> tuple[Protocol, ...]:
    return tuple(
        Protocol(r["code"], re.compile(r["pattern"], re.IGNORECASE), r["type"], r["category"])
        for r in _read("protocols.csv")
    )


@lru_cache(maxsize=1)
def _registry_types() -> tuple[tuple[re.Pattern, str], ...]:
    return tuple((re.compile(r["pattern"], re.IGNORECASE), r["type"]) for r in _read("registry_types.csv"))


@lru_cache(maxsize=1)
def _type_categories() -> dict[str, tuple[str, str]]:
    """lower-cased type or alias -> (canonical type, category)."""
    table = {r["type"].lower(): (r["type"], r["category"]) for r in _read("project_types.csv")}
    for r in _read("type_aliases.csv"):
        table[r["alias"].lower()] = table[r["type"].lower()]
    return table


def normalise_code(code: str) -> str:
    c = re.sub(r"\s+", "", code.upper())
    if c.startswith("AMS") and not c.startswith("AMS-"):
        c = "AMS-" + c[3:]
    # OffsetsDB writes AMS-II-G for AMS-II.G.
    c = re.sub(r"^(AMS-[IVX]+)-([A-Z]{1,3})\.?$", r"\1.\2", c)
    if c.startswith("AMS-") and not c.endswith("."):
        c += "."
    return c


def is_no_methodology(text: str | None) -> bool:
    return text is None or str(text).strip().lower() in NO_METHODOLOGY


@lru_cache(maxsize=65536)
def parse_methodologies(text: str | None) -> tuple[str, ...]:
    """Normalised codes in ``text``: ``"VM0007; VM0033"`` -> ``("VM0007", "VM0033")``,
    ``"ARB Compliance Offset Protocol: Mine Methane Capture Projects"`` -> ``("ARB-MMC",)``."""
    if is_no_methodology(text):
        return ()
    found: list[str] = []
    for m in CODE_RE.findall(str(text)):
        code = normalise_code(m)
        if code not in found:
            found.append(code)
    for p in _protocols():
        if p.pattern.search(str(text)) and p.code not in found:
            found.append(p.code)
    return tuple(found)


def canonical_type(name: str | None) -> str | None:
    if not name:
        return None
    hit = _type_categories().get(str(name).strip().lower())
    return hit[0] if hit else None


def category_of_type(name: str | None) -> str | None:
    if not name:
        return None
    hit = _type_categories().get(str(name).strip().lower())
    return hit[1] if hit else None


@dataclass(frozen=True)
class Classification:
    type: str | None
    category: str | None
    source: str | None  # override | methodology | registry-type | None


def classify(
    codes: tuple[str, ...], registry_types: tuple[str, ...] = (), override_type: str | None = None
) -> Classification:
    """Project type and category: an override (VROD's type) wins, then the first code with a type,
    then the registry's own type words, then the category of the first code that has one."""
    if override_type:
        t = canonical_type(override_type)
        if t:
            return Classification(t, category_of_type(t), "override")
    method_types = _method_types()
    protocols = {p.code: p for p in _protocols()}
    fallback_category = None
    for code in codes:
        if code in method_types:
            t, cat = method_types[code]
            if t:
                return Classification(t, cat, "methodology")
            fallback_category = fallback_category or cat
        elif code in protocols:
            p = protocols[code]
            return Classification(p.type, p.category, "methodology")
    for text in registry_types:
        if not text:
            continue
        for part in re.split(r";\s*", str(text)):
            for pattern, t in _registry_types():
                if pattern.search(part.strip()):
                    return Classification(t, category_of_type(t), "registry-type")
    if fallback_category:
        return Classification(None, fallback_category, "methodology")
    return Classification(None, None, None)


def known_codes() -> set[str]:
    return set(_method_types()) | {p.code for p in _protocols()}


def harmonise_status(raw: str | None) -> str | None:
    if raw is None:
        return None
    key = str(raw).strip().lower()
    if not key:
        return None
    if key in STATUS_WORDS:
        return STATUS_WORDS[key]
    for word, status in (
        ("denied", "rejected"),
        ("rejected", "rejected"),
        ("withdrawn", "withdrawn"),
        ("terminated", "withdrawn"),
        ("completed", "completed"),
        ("inactive", "inactive"),
        ("transferred", "transferred"),
        ("registered", "registered"),
        ("requested", "listed"),
        ("listed", "listed"),
        ("active", "registered"),
    ):
        if word in key:
            return status
    return None
