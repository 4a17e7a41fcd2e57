"""Verra (VCS) registry exports: ``projects.csv`` and ``transactions.csv`` (VCU blocks).

Each transactions row is a block of VCUs with its serial range. A block with a
retirement/cancellation date was retired (or cancelled: Verra's export does not separate them;
a reason or note that says "cancel" marks a cancellation). The vintage year is the year the
vintage period ends.

Issuances: *Total Vintage Quantity* is the vintage's total over **all** its issuance dates (a
vintage issued in several batches repeats the same total on the blocks of every batch). So each
issuance date of a vintage is one issuance event of the blocks listed for that date, and where
the listed blocks add up to less than the vintage total (an export that lists only some blocks,
the retired ones say) one more issuance event of the difference is dated at the vintage's first
issuance date, noted as such: the vintage total bounds what was issued, and is never counted twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from carbonscope.registry.base import Batch, Parser, any_true
from carbonscope.registry.frames import Chunk, contains, keep, year_of
from carbonscope.registry.reading import Issues, read_csv_chunks


def _url(ids: pd.Series) -> pd.Series:
    return "https://registry.verra.org/app/projectDetail/VCS/" + ids.str.removeprefix("VCS")


class VerraProjects(Parser):
    source, kind, label, rank = "verra", "projects", "Verra projects export", 10
    required = {
        "id": "ID",
        "name": "Name",
        "proponent": "Proponent",
        "methodology": "Methodology",
        "status": "Status",
        "country/area": "Country/Area",
    }

    def parse(self, path: Path, issues: Issues) -> Iterator[Batch]:
        for raw in read_csv_chunks(path, issues, self.chunksize):
            c = Chunk(raw, issues)
            ids = c.ids("ID", "VCS")
            afolu = c.text("AFOLU Activities")
            scope = c.text("Project Type")
            df = pd.DataFrame(
                {
                    "id": ids,
                    "registry": "VCS",
                    "name": c.text("Name"),
                    "proponent": c.text("Proponent"),
                    "status_raw": c.text("Status"),
                    "methodology_raw": c.text("Methodology"),
                    "type_raw": afolu.fillna(scope),
                    "scope": scope,
                    "country_raw": c.text("Country/Area"),
                    "region": c.text("Region"),
                    "estimated_annual": c.number("Estimated Annual Emission Reductions"),
                    "registered_at": c.date("Project Registration Date"),
                    "crediting_start": c.date("Crediting Period Start Date"),
                    "crediting_end": c.date("Crediting Period End Date"),
                    "registry_url": _url(ids),
                    "_row": c.rows,
                }
            )
            yield Batch(projects=keep(df, issues))


class VerraTransactions(Parser):
    source, kind, label, rank = "verra", "transactions", "Verra VCU transactions export", 11
    required = {
        "issuance date": "Issuance Date",
        "vintage start": "Vintage Start",
        "vintage end": "Vintage End",
        "id": "ID",
        "quantity issued": "Quantity Issued",
        "serial number": "Serial Number",
        "retirement/cancellation date": "Retirement/Cancellation Date",
    }

    def parse(self, path: Path, issues: Issues) -> Iterator[Batch]:
        batches = []  # per chunk: blocks per (project, vintage period, issuance date)
        for raw in read_csv_chunks(path, issues, self.chunksize):
            c = Chunk(raw, issues)
            ids = c.ids("ID", "VCS")
            block_qty = c.number("Quantity Issued", required=True)
            vintage_qty = c.number("Total Vintage Quantity")
            issued_on = c.date("Issuance Date", required=True)
            v_start, v_end = c.date("Vintage Start"), c.date("Vintage End")
            retired_on = c.date("Retirement/Cancellation Date")
            serial = c.text("Serial Number")
            parts = serial.str.extract(r"^\d+-(\d+)-(\d+)-")
            reason, details = c.text("Retirement Reason"), c.text("Retirement Details")
            certs = c.raw("Additional Certifications")
            base = pd.DataFrame(
                {
                    "project_id": ids,
                    "registry": "VCS",
                    "vintage": year_of(v_end).fillna(year_of(v_start)),
                    "vintage_start": v_start,
                    "vintage_end": v_end,
                    "_row": c.rows,
                }
            )
            ok = ~c.rows.isin(issues.skipped_rows)
            corsia = contains(certs, "CORSIA").astype("boolean").where(certs.notna())
            batches.append(base.assign(event_date=issued_on, blocks=block_qty, total=vintage_qty, corsia=corsia)[ok])

            is_cancel = contains(reason, "cancel").fillna(False) | contains(details, "cancel").fillna(False)
            ret = base.assign(
                type=is_cancel.map({True: "cancellation", False: "retirement"}),
                quantity=block_qty,
                event_date=retired_on,
                serial=serial,
                serial_start=pd.to_numeric(parts[0], errors="coerce").astype("Int64"),
                serial_end=pd.to_numeric(parts[1], errors="coerce").astype("Int64"),
                beneficiary=c.text("Retirement Beneficiary"),
                reason=reason,
                note=details,
                corsia=corsia,
            )[ok & retired_on.notna()]
            events = ret

            latest = c.latest_per_project(ids, issued_on)
            sub = c.subset(latest)
            projects = pd.DataFrame(
                {
                    "id": ids.loc[latest],
                    "registry": "VCS",
                    "name": sub.text("Name"),
                    "country_raw": sub.text("Country/Area"),
                    "scope": sub.text("Project Type"),
                    "type_raw": sub.text("Project Type"),
                    "methodology_raw": sub.text("Methodology"),
                    "sdgs": sub.sdgs("Sustainable Development Goals"),
                    "registry_url": _url(ids.loc[latest]),
                    "_row": sub.rows,
                }
            )
            flags = pd.DataFrame(
                {
                    "id": ids,
                    "corsia": contains(certs, "CORSIA"),
                    "ccp": contains(certs, "CCP"),
                    "article6": contains(certs, r"Article 6 Authori"),
                    "_row": c.rows,
                }
            )[ok]
            projects = projects.merge(any_true(flags, "id", ["corsia", "ccp", "article6"]), on="id", how="left")

            # What the blocks add up to, per project: equals the issued total when the export is complete.
            blocks = (
                pd.DataFrame({"project_id": ids, "value": block_qty})[ok]
                .groupby("project_id", as_index=False)["value"]
                .sum()
            )
            stated = blocks.assign(metric="issued")
            yield Batch(projects=projects, events=events, stated=stated)
        if batches:
            yield Batch(events=issuance_events(pd.concat(batches, ignore_index=True), issues))


def issuance_events(blocks: pd.DataFrame, issues: Issues) -> pd.DataFrame:
    """Issuance events of a whole file from its block rows (see the module docstring)."""
    blocks = blocks.assign(
        _vs=blocks["vintage_start"].fillna(pd.Timestamp(0)), _ve=blocks["vintage_end"].fillna(pd.Timestamp(0))
    )
    gk = ["project_id", "_vs", "_ve"]
    per_date = blocks.groupby([*gk, "event_date"], as_index=False, sort=False).agg(
        registry=("registry", "first"),
        vintage=("vintage", "first"),
        vintage_start=("vintage_start", "first"),
        vintage_end=("vintage_end", "first"),
        quantity=("blocks", "sum"),
        _row=("_row", "min"),
        corsia=("corsia", lambda s: True if s.eq(True).any() else (False if s.eq(False).any() else pd.NA)),
    )
    per_vintage = blocks.groupby(gk, as_index=False, sort=False).agg(
        total=("total", "max"), listed=("blocks", "sum"), first_date=("event_date", "min"), _row=("_row", "min")
    )
    several = blocks.groupby(gk)["total"].nunique() > 1
    if several.any():
        bad = blocks.set_index(gk).loc[several[several].index].reset_index()
        issues.add(
            bad["_row"],
            "Total Vintage Quantity",
            "vintage total differs between rows of one vintage (the largest is used)",
            skip=False,
        )
    short = per_vintage[per_vintage["total"].notna() & (per_vintage["total"] > per_vintage["listed"])]
    rest = pd.DataFrame(
        {
            "project_id": short["project_id"],
            "event_date": short["first_date"],
            "quantity": short["total"] - short["listed"],
            "_row": short["_row"],
            "note": "vintage total not covered by the blocks in this export (dated at the vintage's first issuance)",
        }
    )
    first = per_date.drop_duplicates(gk).set_index(gk)
    rest_keys = pd.MultiIndex.from_frame(short[gk])
    for col in ("registry", "vintage", "vintage_start", "vintage_end"):
        rest[col] = first[col].reindex(rest_keys).to_numpy()
    over = per_vintage[per_vintage["total"].notna() & (per_vintage["total"] < per_vintage["listed"])]
    if len(over):
        issues.add(
            over["_row"],
            "Total Vintage Quantity",
            "the blocks of a vintage add up to more than its vintage total (the blocks are counted)",
            skip=False,
        )
    out = pd.concat([per_date.drop(columns=["_vs", "_ve"]), rest], ignore_index=True).assign(type="issuance")
    return out[out["quantity"] > 0]
