"""Where each registry publishes its exports, and which allow automated access.

The paths are the public report endpoints each registry's web site uses for its "export"
buttons; the base URLs are settings (``CARBONSCOPE_VERRA_BASE_URL``, ...) so that a moved
endpoint or a mirror needs no code change, and tests point them at a local server.
Gold Standard's terms of use forbid automated access: export its CSVs by hand from
registry.goldstandard.org and run ``carbonscope ingest FOLDER``.
"""

from __future__ import annotations

from dataclasses import dataclass

from carbonscope.errors import InvalidField
from carbonscope.registry.codes import BY_CODE, CODES, Registry, lookup
from carbonscope.settings import Settings


@dataclass(frozen=True)
class Export:
    kind: str
    path: str
    method: str = "GET"
    body: dict | None = None


@dataclass(frozen=True)
class RegistryExports:
    registry: Registry
    base_setting: str | None
    exports: tuple[Export, ...]
    automated: bool = True
    note: str = ""

    @property
    def source(self) -> str:
        return self.registry.source

    @property
    def name(self) -> str:
        return self.registry.name

    def base_url(self, settings: Settings) -> str:
        if self.base_setting is None:
            raise InvalidField(
                "registry", f"{self.name} has no download address (its exports are not fetched automatically)"
            )
        return str(getattr(settings, self.base_setting)).rstrip("/")


def _apx(report_ids: dict[str, int]) -> tuple[Export, ...]:
    return tuple(Export(kind, f"/myModule/rpt/myrpt.asp?r={rid}") for kind, rid in report_ids.items())


# APX report ids, as the registries' own public report pages number them. Where each was checked
# (2026-12; this machine has no internet, so against public pages and code that link the live reports):
#   r=111 projects, r=112 issuances: ACR and CAR report links ("Registered Projects", "Credits Issued")
#     listed by the Carbon AIQ dashboard's data-sources page, and CAR fixtures captured from the live
#     reports on 2026-08-05 (GET myrpt.asp?r=111 / r=112, then the page's CSV form).
#   r=206 retirements: the same two sources, for ACR and CAR ("Credits Retired").
#   r=308 cancellations: CAR ("Credits Cancelled" link and the captured r=308 fixture). ACR and ART run
#     the same APX platform; no public page we could read names their cancellations report, so r=308
#     is assumed for them and a download is only accepted when its headers are a cancellations report.
#   r=209 (ACR) and r=706 (CAR) buffer pool, r=309 (ACR) credit status: known, not downloaded: the
#     issuance reports already carry the buffer deposits CarbonScope books.
# Ids 113 and 114, used before, appear on none of these pages.
# ``refresh`` detects every downloaded file from its headers and refuses one that is not the kind it
# asked for (a moved report id answers with another report, or an HTML page), before anything is ingested.
APX_REPORTS = {"projects": 111, "issuances": 112, "retirements": 206, "cancellations": 308}


EXPORTS: dict[str, RegistryExports] = {
    "verra": RegistryExports(
        BY_CODE["VCS"],
        "verra_base_url",
        (
            Export(
                "projects",
                "/uiapi/resource/resource/search?$format=csv&$exportFileName=projects.csv",
                "POST",
                {"program": "VCS"},
            ),
            Export(
                "transactions",
                "/uiapi/asset/asset/search?$format=csv&$exportFileName=transactions.csv",
                "POST",
                {"program": "VCS", "issuanceTypeCodes": ["ISSUE"]},
            ),
        ),
    ),
    "american-carbon-registry": RegistryExports(BY_CODE["ACR"], "acr_base_url", _apx(APX_REPORTS)),
    "climate-action-reserve": RegistryExports(BY_CODE["CAR"], "car_base_url", _apx(APX_REPORTS)),
    "art-trees": RegistryExports(BY_CODE["ART"], "art_base_url", _apx(APX_REPORTS)),
    "gold-standard": RegistryExports(
        BY_CODE["GS"],
        None,
        (),
        automated=False,
        note=(
            "Gold Standard's terms forbid automated downloads: export projects, issuances and retirements "
            "from registry.goldstandard.org and run `carbonscope ingest FOLDER`."
        ),
    ),
}


def resolve(name: str) -> RegistryExports:
    """The exports of the registry a code, source name or alias names (any case)."""
    registry = lookup(name)
    if registry is None:
        raise InvalidField(
            "registry",
            f"unknown registry {name!r}; choose one of {', '.join(sorted(EXPORTS))} (or {', '.join(CODES)})",
        )
    return EXPORTS[registry.source]
