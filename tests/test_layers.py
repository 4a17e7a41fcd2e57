"""The layer rule of docs/architecture.md, checked on the source: no module imports from a floor
above its own (imports inside functions count too)."""

from __future__ import annotations

import ast

from tests.conftest import ROOT

PACKAGE = ROOT / "carbonscope"

# Lowest first. A module may import from its own floor and the floors below.
FLOORS = [
    {
        "errors",
        "settings",
        "jsonsafe",
        "urls",
        "progress",
        "prefetch",
        "uniques",
        "lookalike",
        "run_report",
        "cli_output",
        "extras",
        "columns",
    },  # shared basics
    {"db", "geo", "ipcc", "recipe"},  # storage, geodesy, IPCC tables, the analyses' run contract
    {"registry", "mail"},  # source parsers and downloads; the outbox
    {"ingest", "accounts", "biomass", "baseline"},  # the data engine, accounts, the two analyses
    {"community", "news", "watch"},  # features built on the data
    {"queries", "export"},  # the read side: what each page and route shows, and files of it
    {"jobs", "analyses", "ops"},  # what a person, a schedule or a worker starts; analyses as jobs; operations
    {"web", "cli"},  # thin layers over the rest
]
FLOOR = {unit: i for i, units in enumerate(FLOORS) for unit in units}


def _unit(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def imports() -> list[tuple[str, str, int]]:
    """(importing file, imported carbonscope unit, line) for every import in the package."""
    out = []
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.ImportFrom)
                and node.module
                and node.level == 0
                and node.module.startswith("carbonscope")
            ):
                names = [a.name for a in node.names] if node.module == "carbonscope" else [node.module]
                out += [
                    (
                        str(path.relative_to(ROOT)),
                        _unit(f"carbonscope.{n}" if node.module == "carbonscope" else n),
                        node.lineno,
                    )
                    for n in names
                ]
            elif isinstance(node, ast.Import):
                out += [
                    (str(path.relative_to(ROOT)), _unit(a.name), node.lineno)
                    for a in node.names
                    if a.name.startswith("carbonscope.")
                ]
    return out


def _own_unit(path: str) -> str:
    parts = path.split("/")  # carbonscope/<unit>/... or carbonscope/<unit>.py
    return parts[1].removesuffix(".py")


def test_every_unit_has_a_floor():
    units = {_own_unit(str(p.relative_to(ROOT))) for p in PACKAGE.rglob("*.py")} - {"__init__"}
    assert sorted(units - set(FLOOR)) == []


def test_no_module_imports_from_a_floor_above_its_own():
    found = imports()
    assert len(found) > 300  # the scan sees the package's imports
    upward = [
        f"{path}:{line} imports carbonscope.{unit} (floor {FLOOR[unit]}) from floor {FLOOR[_own_unit(path)]}"
        for path, unit, line in found
        if unit in FLOOR and _own_unit(path) in FLOOR and FLOOR[unit] > FLOOR[_own_unit(path)]
    ]
    assert upward == []
