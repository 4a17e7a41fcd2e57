"""The APX registries: American Carbon Registry, Climate Action Reserve and ART TREES.

All three publish ``projects``, ``issuances``, ``retirements`` and ``cancellations`` reports with
shared quirks: headers with double spaces and "(GMT)" suffixes, trailing unnamed columns, US dates
with or without a time, numbers with thousands separators, serial blocks "PREFIX-1 to 85847".

Events: an issuance row gives an issuance (ACR: Total Credits Issued, buffer included; CAR: Total
Offset Credits Issued; ART: Credits Verified, buffer excluded) plus a buffer deposit per buffer
column above zero. A cancellation whose type or reason is a conversion to compliance credits
(ACR "Convert to ARB/Ecology offset credits", CAR reason "ARB" or "WA ECO") is a ``conversion``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pandas as pd

from carbonscope.registry.base import Batch, Parser, any_true
from carbonscope.registry.codes import BY_CODE
from carbonscope.registry.frames import Chunk, keep
from carbonscope.registry.reading import Issues, apx_serials, read_csv_chunks, sdg_list


@dataclass(frozen=True)
class Apx:
    registry: str  # the code (codes.py)
    base_url: str  # where its public project pages live
    id_label: str

    @property
    def source(self) -> str:
        return BY_CODE[self.registry].source


ACR = Apx("ACR", "https://acr2.apx.com", "Project ID")
CAR = Apx("CAR", "https://thereserve2.apx.com", "Project ID")
ART = Apx("ART", "https://art.apx.com", "Program ID")

CORSIA_COLUMNS = (
    "CORSIA Eligible",
    "Eligible for CORSIA 2021-2023 Compliance Period (Pilot Phase)",
    "Eligible for CORSIA 2024-2026 Compliance Period (First Phase)",
    "Eligible for CORSIA 2021-2023 Compliance Period",
    "Eligible for CORSIA 2024-2026 Compliance Period",
)


def _first(c: Chunk, *labels: str) -> pd.Series:
    out = c.text(labels[0])
    for label in labels[1:]:
        out = out.fillna(c.text(label))
    return out


def _any_flag(c: Chunk, *labels: str) -> pd.Series:
    cols = [c.flag(label) for label in labels if c.has(label)]
    if not cols:
        return pd.Series(pd.NA, index=c.df.index, dtype="boolean")
    frame = pd.concat(cols, axis=1)
    anyt = frame.eq(True).any(axis=1)
    anyf = frame.eq(False).any(axis=1)
    return pd.Series(pd.NA, index=c.df.index, dtype="boolean").mask(anyf, False).mask(anyt, True)


def _url(reg: Apx, ids: pd.Series) -> pd.Series:
    return f"{reg.base_url}/mymodule/reg/prjView.asp?id1=" + ids.str.removeprefix(reg.registry)


def _removal(c: Chunk) -> pd.Series:
    rr = c.text("Reduction/Removal").str.lower()
    verified_removal = c.flag("Verified Removal")
    return rr.fillna(verified_removal.map({True: "removal"}).astype("string"))


FLAG_FIELDS = ("corsia", "ccp", "corresponding_adjustment", "is_compliance")


def _flags(c: Chunk) -> dict[str, pd.Series]:
    return {
        "corsia": _any_flag(c, *CORSIA_COLUMNS),
        "ccp": c.flag("CCP Approved"),
        "corresponding_adjustment": c.flag("Corresponding Adjustment"),
        "is_compliance": _any_flag(c, "ARB Eligible", "Ecology Eligible", "WA ECO Eligible"),
    }


def _info(reg: Apx, c: Chunk, ids: pd.Series) -> pd.DataFrame:
    """Project facts repeated on every row of an APX credits report (flags excluded)."""
    df = pd.DataFrame(
        {
            "id": ids,
            "registry": reg.registry,
            "name": _first(c, "Project Name", "Program Name"),
            "proponent": _first(c, "Project Developer", "Sovereign Program Developer"),
            "owner": c.text("Project Owner"),
            "type_raw": _first(c, "Project Type", "Program Type"),
            "methodology_raw": _first(
                c, "Project Methodology/Protocol", "Protocol and Version", "Crediting Program and Standard"
            ),
            "methodology_version": _first(c, "Methodology/Protocol Version", "Standard Version"),
            "reduction_removal": _removal(c),
            "site": c.text("Project Site Location"),
            "state": _first(c, "Project Site State", "Program Jurisdiction(s)"),
            "country_raw": _first(c, "Project Site Country", "Program Country"),
            "verifier": _first(c, "Project VVB", "Verification Body"),
            "crediting_start": c.date("Project Crediting Period Start Date"),
            "sdgs": c.sdgs("Sustainable Development Goal(s)"),
            "website": _first(c, "Project Website", "Program Website"),
            "poa_id": c.text("Cooperative/ Aggregate ID"),
            "registry_url": _url(reg, ids),
            "_row": c.rows,
        }
    )
    df["website"] = df["website"].mask(df["website"].str.lower().isin(["none", "n/a"]))
    return df


def _project_rows(reg: Apx, c: Chunk, ids: pd.Series, date: pd.Series) -> pd.DataFrame:
    """One row per project of the chunk: facts from its latest row, flags true if any row says so."""
    latest = c.latest_per_project(ids, date)
    info = _info(reg, c.subset(latest), ids.loc[latest])
    ok = ~c.rows.isin(c.issues.skipped_rows)
    flags = pd.DataFrame({"id": ids, **_flags(c), "_row": c.rows})[ok]
    return info.merge(any_true(flags, "id", list(FLAG_FIELDS)), on="id", how="left")


class _ApxParser(Parser):
    reg: ClassVar[Apx]

    def _chunks(self, path, issues: Issues) -> Iterator[tuple[Chunk, pd.Series]]:
        for raw in read_csv_chunks(path, issues, self.chunksize):
            c = Chunk(raw, issues)
            yield c, c.ids(self.reg.id_label, self.reg.registry)


# ------------------------------------------------------------------ projects


class _ApxProjects(_ApxParser):
    kind, rank = "projects", 10

    def parse(self, path: Path, issues: Issues) -> Iterator[Batch]:
        for c, ids in self._chunks(path, issues):
            reg = self.reg
            status = _first(c, "Voluntary Status", "Status")
            compliance_status = _first(c, "Compliance Program Status (ARB or Ecology)", "Compliance Program Status")
            compliance_id = _first(
                c, "Compliance Program ID (ARB or Ecology)", "Compliance Program ID", "ARB ID", "WA ECO"
            )
            is_compliance = compliance_id.notna() | (
                compliance_status.notna() & ~compliance_status.str.contains("Not ARB", case=False, na=False)
            )
            df = pd.DataFrame(
                {
                    "id": ids,
                    "registry": reg.registry,
                    "name": _first(c, "Project Name", "Program Name"),
                    "proponent": _first(c, "Project Developer", "Sovereign Program Developer"),
                    "owner": c.text("Project Owner"),
                    "status_raw": status.fillna(compliance_status),
                    "type_raw": _first(c, "Project Type", "Program Type"),
                    "methodology_raw": _first(c, "Project Methodology/Protocol", "Crediting Program and Standard"),
                    "site": c.text("Project Site Location"),
                    "state": _first(c, "Project Site State", "Program Jurisdiction(s)"),
                    "country_raw": _first(c, "Project Site Country", "Program Country"),
                    "sdgs": sdg_list(_first(c, "Sustainable Development Goal(s)", "SDG Impact")),
                    "verifier": _first(c, "Current VVB", "Verification Body"),
                    "crediting_start": _first_date(
                        c, "Current Crediting Period Start Date", "Initial Crediting Period Start Date"
                    ),
                    "crediting_end": c.date("Current Crediting Period End Date"),
                    "listed_at": c.date("Project Listed Date"),
                    "registered_at": c.date("Project Registered Date"),
                    "compliance_id": compliance_id,
                    "is_compliance": is_compliance.astype("boolean"),
                    "poa_id": c.text("Cooperative/ Aggregate ID"),
                    "description": _first(c, "Project Notes", "Program Notes"),
                    "website": _first(c, "Project Website", "Program Website"),
                    "registry_url": _url(reg, ids),
                    "_row": c.rows,
                }
            )
            df["website"] = df["website"].mask(df["website"].str.lower().isin(["none", "n/a"]))
            registered = c.number(
                "Total Number of Credits Registered"
                if c.has("Total Number of Credits Registered")
                else "Total Number of Offset Credits Registered"
            )
            stated = pd.DataFrame({"project_id": ids, "metric": "issued", "value": registered})
            stated = keep(stated.assign(_row=c.rows), issues).dropna(subset=["value"])
            yield Batch(projects=keep(df, issues), stated=stated)


def _first_date(c: Chunk, *labels: str) -> pd.Series:
    out = c.date(labels[0])
    for label in labels[1:]:
        out = out.fillna(c.date(label))
    return out


class AcrProjects(_ApxProjects):
    reg, source, label = ACR, ACR.source, "ACR projects report"
    required = {
        "project id": "Project ID",
        "project name": "Project Name",
        "compliance program id (arb or ecology)": "Compliance Program ID (ARB or Ecology)",
        "voluntary status": "Voluntary Status",
    }


class CarProjects(_ApxProjects):
    reg, source, label = CAR, CAR.source, "Climate Action Reserve projects report"
    required = {
        "project id": "Project ID",
        "project name": "Project Name",
        "arb id": "ARB ID",
        "project listed date": "Project Listed Date",
        "status": "Status",
    }


class ArtProjects(_ApxProjects):
    reg, source, label = ART, ART.source, "ART TREES programs report"
    required = {
        "program id": "Program ID",
        "program name": "Program Name",
        "status": "Status",
        "initial crediting period start date": "Initial Crediting Period Start Date",
    }


# ------------------------------------------------------------------ issuances


class _ApxIssuances(_ApxParser):
    kind, rank = "issuances", 11
    quantity: ClassVar[str]
    date: ClassVar[str]
    buffers: ClassVar[tuple[tuple[str, str], ...]]  # (column, note)
    period: ClassVar[tuple[str, str] | None] = None
    stated_cancelled: ClassVar[tuple[str, ...]] = ()

    def parse(self, path: Path, issues: Issues) -> Iterator[Batch]:
        for c, ids in self._chunks(path, issues):
            date = c.date(self.date, required=True)
            common = {
                "project_id": ids,
                "registry": self.reg.registry,
                "vintage": c.year("Vintage"),
                "vintage_start": c.date(self.period[0]) if self.period else pd.NaT,
                "vintage_end": c.date(self.period[1]) if self.period else pd.NaT,
                "event_date": date,
                "corsia": _any_flag(c, *CORSIA_COLUMNS),
                "_row": c.rows,
            }
            frames = [pd.DataFrame({**common, "type": "issuance", "quantity": c.number(self.quantity, required=True)})]
            for column, note in self.buffers:
                if c.has(column):
                    frames.append(
                        pd.DataFrame({**common, "type": "buffer_deposit", "quantity": c.number(column), "note": note})
                    )
            events = pd.concat(frames, ignore_index=True)
            events = events[events["quantity"].fillna(0) > 0]
            stated = None
            if self.stated_cancelled:
                total = sum(c.number(col).fillna(0) for col in self.stated_cancelled)
                stated = pd.DataFrame({"project_id": ids, "metric": "cancelled", "value": total, "_row": c.rows})
                stated = (
                    keep(stated, issues).groupby("project_id", as_index=False)["value"].sum().assign(metric="cancelled")
                )
            yield Batch(projects=_project_rows(self.reg, c, ids, date), events=keep(events, issues), stated=stated)


class AcrIssuances(_ApxIssuances):
    reg, source, label = ACR, ACR.source, "ACR issuances report"
    required = {
        "project id": "Project ID",
        "total credits issued": "Total Credits Issued",
        "date issued": "Date Issued (GMT)",
        "credits issued to buffer pool": "Credits Issued to Buffer Pool",
    }
    quantity, date = "Total Credits Issued", "Date Issued (GMT)"
    buffers = (
        ("Credits Issued to Buffer Pool", "issued to buffer pool"),
        ("Credits Transferred to Buffer Pool", "transferred to buffer pool"),
    )
    period = ("ReportingPeriodBegin", "ReportingPeriodEnd")


class CarIssuances(_ApxIssuances):
    reg, source, label = CAR, CAR.source, "Climate Action Reserve issuances report"
    required = {
        "project id": "Project ID",
        "total offset credits issued": "Total Offset Credits Issued",
        "date issued": "Date Issued",
        "vintage": "Vintage",
    }
    quantity, date = "Total Offset Credits Issued", "Date Issued"
    buffers = (
        ("Offset Credits Currently in Reserve Buffer Pool", "reserve buffer pool"),
        ("Offset Credits Intended for Compliance Buffer Pool", "compliance buffer pool"),
    )
    stated_cancelled = ("Canceled for Compliance", "Canceled")


class ArtIssuances(_ApxIssuances):
    reg, source, label = ART, ART.source, "ART TREES issuances report"
    required = {
        "program id": "Program ID",
        "credits verified": "Credits Verified",
        "credits deposited in buffer": "Credits Deposited in Buffer",
        "date approved": "Date Approved",
    }
    quantity, date = "Credits Verified", "Date Approved"
    buffers = (("Credits Deposited in Buffer", "buffer deposit"),)


# ------------------------------------------------------------------ retirements and cancellations


class _ApxTransfers(_ApxParser):
    quantity: ClassVar[str]
    serial: ClassVar[str]
    note: ClassVar[tuple[str, ...]]
    reason: ClassVar[str]

    def event_types(self, c: Chunk) -> pd.Series:
        raise NotImplementedError

    def parse(self, path: Path, issues: Issues) -> Iterator[Batch]:
        for c, ids in self._chunks(path, issues):
            date = c.date("Status Effective", required=True)
            serial = c.text(self.serial)
            start, end = apx_serials(serial)
            events = pd.DataFrame(
                {
                    "project_id": ids,
                    "registry": self.reg.registry,
                    "type": self.event_types(c),
                    "quantity": c.number(self.quantity, required=True),
                    "vintage": c.year("Vintage"),
                    "vintage_start": c.date("Vintage Assignment Period Start Date"),
                    "vintage_end": c.date("Vintage Assignment Period End Date"),
                    "event_date": date,
                    "serial": serial,
                    "serial_start": start,
                    "serial_end": end,
                    "beneficiary": c.text("Retired on Behalf of"),
                    "reason": c.text(self.reason),
                    "note": _first(c, *self.note),
                    "account": c.text("Account Holder"),
                    "corsia": _any_flag(c, *CORSIA_COLUMNS),
                    "_row": c.rows,
                }
            )
            yield Batch(projects=_project_rows(self.reg, c, ids, date), events=keep(events, issues))


class _ApxRetirements(_ApxTransfers):
    kind, rank = "retirements", 12
    reason = "Retirement Reason"

    def event_types(self, c: Chunk) -> pd.Series:
        return pd.Series("retirement", index=c.df.index)


class AcrRetirements(_ApxRetirements):
    reg, source, label = ACR, ACR.source, "ACR retirements report"
    required = {
        "project id": "Project ID",
        "credit serial numbers": "Credit Serial Numbers",
        "quantity of credits": "Quantity of Credits",
        "status effective": "Status Effective (GMT)",
        "retirement reason": "Retirement Reason",
    }
    quantity, serial, note = "Quantity of Credits", "Credit Serial Numbers", ("Purpose of Retirement",)


class CarRetirements(_ApxRetirements):
    reg, source, label = CAR, CAR.source, "Climate Action Reserve retirements report"
    required = {
        "project id": "Project ID",
        "offset credit serial numbers": "Offset Credit Serial Numbers",
        "quantity of offset credits": "Quantity of Offset Credits",
        "status effective": "Status Effective",
        "retirement reason": "Retirement Reason",
    }
    quantity, serial, note = (
        "Quantity of Offset Credits",
        "Offset Credit Serial Numbers",
        ("Retirement Reason Details",),
    )


class ArtRetirements(_ApxRetirements):
    reg, source, label = ART, ART.source, "ART TREES retirements report"
    required = {
        "program id": "Program ID",
        "credit serial numbers": "Credit Serial Numbers",
        "quantity of credits": "Quantity of Credits",
        "status effective": "Status Effective",
        "retirement reason": "Retirement Reason",
    }
    quantity, serial, note = "Quantity of Credits", "Credit Serial Numbers", ("Purpose of Retirement",)


class _ApxCancellations(_ApxTransfers):
    kind, rank = "cancellations", 13
    conversion_pattern: ClassVar[str]

    def event_types(self, c: Chunk) -> pd.Series:
        reason = c.text(self.reason)
        conv = reason.str.contains(self.conversion_pattern, case=False, regex=True, na=False)
        return conv.map({True: "conversion", False: "cancellation"})


class AcrCancellations(_ApxCancellations):
    reg, source, label = ACR, ACR.source, "ACR cancellations report"
    required = {
        "project id": "Project ID",
        "credit serial numbers": "Credit Serial Numbers",
        "quantity of credits": "Quantity of Credits",
        "cancellation type": "Cancellation Type",
    }
    quantity, serial, note, reason = (
        "Quantity of Credits",
        "Credit Serial Numbers",
        ("Cancellation Details",),
        "Cancellation Type",
    )
    conversion_pattern = r"^convert"


class CarCancellations(_ApxCancellations):
    reg, source, label = CAR, CAR.source, "Climate Action Reserve cancellations report"
    required = {
        "project id": "Project ID",
        "offset credit serial numbers": "Offset Credit Serial Numbers",
        "quantity of offset credits": "Quantity of Offset Credits",
        "cancellation reason": "Cancellation Reason",
    }
    quantity, serial, note, reason = (
        "Quantity of Offset Credits",
        "Offset Credit Serial Numbers",
        ("Export Notes",),
        "Cancellation Reason",
    )
    conversion_pattern = r"^(?:ARB|WA ECO)$"


class ArtCancellations(_ApxCancellations):
    reg, source, label = ART, ART.source, "ART TREES cancellations report"
    required = {
        "program id": "Program ID",
        "credit serial numbers": "Credit Serial Numbers",
        "quantity of credits": "Quantity of Credits",
        "cancellation reason": "Cancellation Reason",
    }
    quantity, serial, note, reason = (
        "Quantity of Credits",
        "Credit Serial Numbers",
        ("Cancellation Details",),
        "Cancellation Reason",
    )
    conversion_pattern = r"^convert"
