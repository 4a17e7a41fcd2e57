"""Verra (VCS) registry exports: ``projects.csv`` and ``transactions.csv`` (VCU blocks).

Each transactions row is a block of VCUs with its serial range. A block with a
retirement/cancellation date was retired (or cancelled: Verra's export does not separate them;
a reason or note that says "cancel" marks a cancellation). The issuance itself is the batch the
block belongs to: one issuance event per (project, vintage period, issuance date, Total Vintage
Quantity), of that total. The vintage year is the year the vintage period ends.
"""

from __future__ import annotations

from typing import Iterator

import pandas as pd

from carbonscope.registry.base import Batch, Parser, any_true
from carbonscope.registry.frames import Chunk, contains, keep, year_of
from carbonscope.registry.tables import Issues, read_csv_chunks

URL = "https://registry.verra.org/app/projectDetail/VCS/{}"


def _url(ids: pd.Series) -> pd.Series:
    return "https://registry.verra.org/app/projectDetail/VCS/" + ids.str.removeprefix("VCS")


class VerraProjects(Parser):
    source, kind, label, rank = "verra", "projects", "Verra projects export", 10
    required = {"id": "ID", "name": "Name", "proponent": "Proponent", "methodology": "Methodology", "status": "Status", "country/area": "Country/Area"}

    def parse(self, path, issues: Issues) -> Iterator[Batch]:
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

    def parse(self, path, issues: Issues) -> Iterator[Batch]:
        seen_batches: set[tuple] = set()
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

            # Issuance: one per batch, the first block row that names it (in this file).
            iss = base.assign(type="issuance", quantity=vintage_qty, event_date=issued_on)[ok & vintage_qty.notna()]
            iss = iss.drop_duplicates(["project_id", "vintage_start", "vintage_end", "event_date", "quantity"])
            keys = list(zip(iss["project_id"].tolist(), iss["vintage_start"].astype("int64").tolist(), iss["vintage_end"].astype("int64").tolist(),
                            iss["event_date"].astype("int64").tolist(), iss["quantity"].tolist()))
            first = [k not in seen_batches for k in keys]
            seen_batches.update(keys)
            iss = iss[first]

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
            )[ok & retired_on.notna()]
            events = pd.concat([iss, ret], ignore_index=True)

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
                {"id": ids, "corsia": contains(certs, "CORSIA"), "ccp": contains(certs, "CCP"), "article6": contains(certs, r"Article 6 Authori")}
            )[ok]
            projects = projects.merge(any_true(flags, "id", ["corsia", "ccp", "article6"]), on="id", how="left")

            # What the blocks add up to, per project: equals the issued total when the export is complete.
            blocks = pd.DataFrame({"project_id": ids, "value": block_qty})[ok].groupby("project_id", as_index=False)["value"].sum()
            stated = blocks.assign(metric="issued")
            yield Batch(projects=projects, events=events, stated=stated)
