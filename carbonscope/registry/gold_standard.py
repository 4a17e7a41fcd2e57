"""Gold Standard registry exports: ``projects.csv``, ``issuances.csv``, ``retirements.csv``.

Gold Standard's terms forbid automated downloads: these files are exported by hand from
registry.goldstandard.org and given to ``carbonscope ingest``. Serial numbers end in the block's
first and last credit (``GS1-1-UG-GS11236-16-2024-30307-1-19149``). ``Credit Status`` says whether
a retirements row is a retirement or a cancellation.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from carbonscope.registry.base import Batch, Parser, any_true
from carbonscope.registry.frames import Chunk, contains, keep
from carbonscope.registry.reading import Issues, read_csv_chunks


def _url(ids: pd.Series) -> pd.Series:
    return "https://registry.goldstandard.org/projects/details/" + ids.str.removeprefix("GS")


def _serials(serial: pd.Series) -> tuple[pd.Series, pd.Series]:
    parts = serial.str.extract(r"-(\d+)-(\d+)$")
    return pd.to_numeric(parts[0], errors="coerce").astype("Int64"), pd.to_numeric(parts[1], errors="coerce").astype(
        "Int64"
    )


def _removal(label: pd.Series) -> pd.Series:
    return label.str.extract(r"(?i)emission (reduction|removal)")[0].str.lower()


def _poa(c: Chunk) -> pd.Series:
    n = c.text("POA GSID").str.extract(r"^(\d+)(?:\.0+)?$")[0]
    return ("GS" + n).astype("string")


def _info(c: Chunk, ids: pd.Series) -> pd.DataFrame:
    label = c.text("Label")
    return pd.DataFrame(
        {
            "id": ids,
            "registry": "GS",
            "name": c.text("Project Name"),
            "proponent": c.text("Project Developer"),
            "country_raw": c.text("Country"),
            "type_raw": c.text("Project Type"),
            "methodology_raw": c.text("Methodology"),
            "poa_id": _poa(c),
            "reduction_removal": _removal(label),
            "registry_url": _url(ids),
            "_row": c.rows,
        }
    )


def _flags(c: Chunk, ids: pd.Series) -> pd.DataFrame:
    label = c.text("Label")
    art6 = c.text("Article Six Authorization")
    return pd.DataFrame(
        {
            "id": ids,
            "ccp": contains(label, "CCP"),
            "article6": (~art6.str.lower().isin(["not applicable", "no", "not authorized"]))
            .astype("boolean")
            .mask(art6.isna()),
            # Aeroplane operators retire for CORSIA; other rows say nothing about eligibility.
            "corsia": pd.Series(True, index=ids.index, dtype="boolean").where(
                c.text("Aeroplane Operator Name").notna()
            ),
        }
    )


def _project_rows(c: Chunk, ids: pd.Series, when: pd.Series) -> pd.DataFrame:
    latest = c.latest_per_project(ids, when)
    info = _info(c.subset(latest), ids.loc[latest])
    ok = ~c.rows.isin(c.issues.skipped_rows)
    flags = any_true(_flags(c, ids).assign(_row=c.rows)[ok], "id", ["ccp", "article6", "corsia"])
    return info.merge(flags, on="id", how="left")


class GoldStandardProjects(Parser):
    source, kind, label, rank = "gold-standard", "projects", "Gold Standard projects export", 10
    required = {
        "gsid": "GSID",
        "project name": "Project Name",
        "project developer name": "Project Developer Name",
        "status": "Status",
    }

    def parse(self, path: Path, issues: Issues) -> Iterator[Batch]:
        for raw in read_csv_chunks(path, issues, self.chunksize):
            c = Chunk(raw, issues)
            ids = c.ids("GSID", "GS")
            df = pd.DataFrame(
                {
                    "id": ids,
                    "registry": "GS",
                    "name": c.text("Project Name"),
                    "proponent": c.text("Project Developer Name"),
                    "status_raw": c.text("Status"),
                    "sdgs": c.sdgs("Sustainable Development Goals"),
                    "type_raw": c.text("Project Type"),
                    "country_raw": c.text("Country"),
                    "description": c.text("Description"),
                    "estimated_annual": c.number("Estimated Annual Credits"),
                    "methodology_raw": c.text("Methodology"),
                    "size_class": c.text("Size"),
                    "poa_id": _poa(c),
                    "registry_url": _url(ids),
                    "_row": c.rows,
                }
            )
            yield Batch(projects=keep(df, issues))


class GoldStandardIssuances(Parser):
    source, kind, label, rank = "gold-standard", "issuances", "Gold Standard issuances export", 11
    required = {
        "gsid": "GSID",
        "quantity": "Quantity",
        "issuance date": "Issuance Date",
        "serial number": "Serial Number",
        "vintage": "Vintage",
    }

    def parse(self, path: Path, issues: Issues) -> Iterator[Batch]:
        for raw in read_csv_chunks(path, issues, self.chunksize):
            c = Chunk(raw, issues)
            ids = c.ids("GSID", "GS")
            serial = c.text("Serial Number")
            start, end = _serials(serial)
            events = pd.DataFrame(
                {
                    "project_id": ids,
                    "registry": "GS",
                    "type": "issuance",
                    "quantity": c.number("Quantity", required=True),
                    "vintage": c.year("Vintage"),
                    "vintage_start": c.date("Monitoring Period Start"),
                    "vintage_end": c.date("Monitoring Period End"),
                    "event_date": c.date("Issuance Date", required=True),
                    "serial": serial,
                    "serial_start": start,
                    "serial_end": end,
                    "note": c.text("Product Type"),
                    "_row": c.rows,
                }
            )
            yield Batch(projects=_project_rows(c, ids, events["event_date"]), events=keep(events, issues))


class GoldStandardRetirements(Parser):
    source, kind, label, rank = "gold-standard", "retirements", "Gold Standard retirements export", 12
    required = {
        "gsid": "GSID",
        "quantity": "Quantity",
        "vintage": "Vintage",
        "issuance date": "Issuance Date",
        "credit status": "Credit Status",
        "retirement date": "Retirement Date",
        "serial number": "Serial Number",
    }

    def parse(self, path: Path, issues: Issues) -> Iterator[Batch]:
        for raw in read_csv_chunks(path, issues, self.chunksize):
            c = Chunk(raw, issues)
            ids = c.ids("GSID", "GS")
            status = c.text("Credit Status").str.lower()
            kind = status.map({"retired": "retirement", "canceled": "cancellation", "cancelled": "cancellation"})
            unknown = status.notna() & kind.isna()
            if unknown.any():
                issues.add(
                    c.rows[unknown],
                    "Credit Status",
                    f"unknown credit status {status[unknown].iloc[0]!r} (row skipped)",
                    skip=True,
                )
            serial = c.text("Serial Number")
            start, end = _serials(serial)
            events = pd.DataFrame(
                {
                    "project_id": ids,
                    "registry": "GS",
                    "type": kind.fillna("retirement"),
                    "quantity": c.number("Quantity", required=True),
                    "vintage": c.year("Vintage"),
                    "vintage_start": c.date("Monitoring Period Start"),
                    "vintage_end": c.date("Monitoring Period End"),
                    "event_date": c.date("Retirement Date"),
                    "serial": serial,
                    "serial_start": start,
                    "serial_end": end,
                    "beneficiary": c.text("Using Entity").fillna(c.text("Aeroplane Operator Name")),
                    "reason": c.text("Use Case"),
                    "note": c.text("Note"),
                    "_row": c.rows,
                }
            )
            yield Batch(projects=_project_rows(c, ids, events["event_date"]), events=keep(events, issues))
