"""The five registries and their project IDs: one home for registry codes, source names and the
normal form of a project ID (``VCS1234``, ``GS5678``, ``ACR123``, ``CAR1001``, ``ART101``)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class Registry:
    code: str  # the project-ID prefix and the `registry` value stored on every project and event
    source: str  # the source name of its own exports (ingest reports, refresh, OffsetsDB's `registry`)
    name: str  # what people read
    aliases: tuple[str, ...] = ()  # other words people and files use for it


REGISTRIES = (
    Registry("VCS", "verra", "Verra", ("vcs",)),
    Registry("GS", "gold-standard", "Gold Standard", ("gs", "gold", "gld")),
    Registry("ACR", "american-carbon-registry", "American Carbon Registry", ("acr",)),
    Registry("CAR", "climate-action-reserve", "Climate Action Reserve", ("car",)),
    Registry("ART", "art-trees", "ART TREES", ("art",)),
)
CODES = tuple(r.code for r in REGISTRIES)
BY_CODE = {r.code: r for r in REGISTRIES}
BY_SOURCE = {r.source: r for r in REGISTRIES}
_WORDS = {w: r for r in REGISTRIES for w in (r.code.lower(), r.source, *r.aliases)}

PROJECT_ID_RE = re.compile(rf"(?:{'|'.join(CODES)})\d{{1,9}}")


def lookup(word: str) -> Registry | None:
    """The registry a code, source name or alias names (any case), or None."""
    return _WORDS.get(str(word).strip().lower())


def normalise_id(text: str) -> str:
    """The normal form of a project ID as people type it: ``' vcs 1234'`` -> ``'VCS1234'``; Gold
    Standard's ``GLD`` prefix (OffsetsDB) -> ``GS``. Not checked against a registry (see
    :func:`is_project_id`)."""
    pid = re.sub(r"\s+", "", str(text)).upper()
    return "GS" + pid[3:] if pid.startswith("GLD") else pid


def normalise_ids(ids: pd.Series) -> pd.Series:
    """:func:`normalise_id` for a column of IDs (missing stays missing)."""
    s = ids.astype("string").str.replace(r"\s+", "", regex=True).str.upper()
    return s.str.replace(r"^GLD", "GS", regex=True)


def is_project_id(pid: str) -> bool:
    """Whether a normalised ID has the form of a project ID of one of the five registries."""
    return PROJECT_ID_RE.fullmatch(pid) is not None


def codes_of(words: pd.Series) -> pd.Series:
    """The registry code each word of a column names (code, source name or alias, any case);
    missing where it names none of the five."""
    return words.astype("string").str.strip().str.lower().map({w: r.code for w, r in _WORDS.items()})
