"""Recognise which registry export a file is, from its headers."""

from __future__ import annotations

from pathlib import Path

from carbonscope.errors import InputError, UnrecognisedFileError
from carbonscope.registry import apx, gold_standard, offsetsdb, verra, vrod
from carbonscope.registry.base import Parser
from carbonscope.registry.reading import read_header

PARSERS: tuple[type[Parser], ...] = (
    verra.VerraProjects,
    verra.VerraTransactions,
    gold_standard.GoldStandardProjects,
    gold_standard.GoldStandardIssuances,
    gold_standard.GoldStandardRetirements,
    apx.AcrProjects,
    apx.AcrIssuances,
    apx.AcrRetirements,
    apx.AcrCancellations,
    apx.CarProjects,
    apx.CarIssuances,
    apx.CarRetirements,
    apx.CarCancellations,
    apx.ArtProjects,
    apx.ArtIssuances,
    apx.ArtRetirements,
    apx.ArtCancellations,
    vrod.Vrod,
    offsetsdb.OffsetsDb,
)

SOURCES = sorted({p.source for p in PARSERS})
DATA_SUFFIXES = {".csv", ".parquet", ".xlsx", ".xlsm"}


def detect(path: Path, source: str | None = None) -> Parser:
    """The parser for ``path``; ``source`` (e.g. ``verra``) restricts the choice to one source.

    Raises :class:`UnrecognisedFileError` naming the file and what each candidate expected.
    """
    if path.suffix.lower() not in DATA_SUFFIXES:
        raise UnrecognisedFileError(
            f"not a CSV, Parquet or Excel file (expected one of {', '.join(sorted(DATA_SUFFIXES))})", file=str(path)
        )
    if source is not None and source not in SOURCES:
        raise InputError(f"unknown source {source!r}; choose one of {', '.join(SOURCES)}")
    header = read_header(path)
    candidates = [p for p in PARSERS if source is None or p.source == source]
    matches = [p() for p in candidates if p().matches(path, header)]
    if not matches:
        closest = max(candidates, key=lambda p: len(set(p.required) & set(header)) / len(p.required))
        missing = [label for key, label in closest.required.items() if key not in header]
        raise UnrecognisedFileError(
            "headers match no known registry export"
            + (f" of source {source!r}" if source else "")
            + f"; closest is a {closest.label}, which also needs {', '.join(repr(m) for m in missing)}."
            + f" Known exports: {', '.join(sorted({p.label for p in candidates}))}",
            file=str(path),
        )
    # The most specific signature wins (e.g. ACR retirements over a bare retirements shape).
    return max(matches, key=lambda p: len(p.required))


def expand_paths(paths: list[Path]) -> list[Path]:
    """Files given directly, plus data files found (recursively, sorted) in given folders."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out.extend(
                sorted(
                    f
                    for f in p.rglob("*")
                    if f.is_file() and f.suffix.lower() in DATA_SUFFIXES and not f.name.startswith(".")
                )
            )
        elif p.exists():
            out.append(p)
        else:
            raise InputError("no such file or folder", file=str(p))
    return out


_LABELS = {f"{p.source}/{p.kind}": p.label for p in PARSERS}


def source_label(key: str | None) -> str:
    """A source as people name it ("vrod/projects" -> "Berkeley VROD PROJECTS sheet")."""
    if not key:
        return "no source"
    return _LABELS.get(key, key)


SOURCE_NAMES = {
    "verra": "Verra registry",
    "gold-standard": "Gold Standard registry",
    "american-carbon-registry": "American Carbon Registry",
    "climate-action-reserve": "Climate Action Reserve",
    "art-trees": "ART TREES registry",
    "vrod": "Berkeley VROD",
    "offsetsdb": "CarbonPlan OffsetsDB",
}


def source_name(source: str | None) -> str:
    """A source (without its file kind) as people name it ("american-carbon-registry" -> "American Carbon Registry")."""
    return SOURCE_NAMES.get(source or "", source or "unknown source")
