"""Berkeley Carbon Trading Project's Voluntary Registry Offsets Database (VROD), PROJECTS sheet.

Read from the official workbook (``.xlsx``, sheet PROJECTS) or a Parquet copy of that sheet.
One row per project: descriptive fields, stated totals (issued, retired incl. cancelled,
remaining, buffer deposits, reversals) and four blocks of per-year columns, named ``1996``..``2025``
then with ``.1``, ``.2``, ``.3`` suffixes: issued by vintage, retired/cancelled by year (with a
"Year Unknown" column), remaining by vintage, issued by issuance year.

VROD's ``Type`` is Berkeley's hand-assigned project type; it overrides CarbonScope's rules.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from carbonscope.errors import InputError
from carbonscope.registry.base import Batch, Parser
from carbonscope.registry.codes import codes_of, normalise_ids
from carbonscope.registry.frames import Chunk, keep, stack_series
from carbonscope.registry.reading import Issues, read_excel_projects, read_parquet_table

BLOCKS = {
    "": "issued_by_vintage",
    ".1": "retired_by_year",
    ".2": "remaining_by_vintage",
    ".3": "issued_by_issuance_year",
}
STATED = {
    "Total Credits Issued": "issued",
    "Total Credits Retired": "retired_cancelled",
    "Total Credits Remaining": "remaining",
    "Total Buffer Pool Deposits": "buffer",
    "Reversals Covered by Buffer Pool": "reversals_covered",
    "Reversals Not Covered by Buffer": "reversals_not_covered",
    "Buffer Credits Released to Project": "buffer_released",
}
ID_RE = r"^(VCSOPR|VCS|GS|ACR|CAR|ART)(\d+)$"


# VROD's "ARB / WA Project" words: which compliance program, if any, the project belongs to.
# Early-action projects (ARB's pre-2013 voluntary credits transitioned into the compliance market)
# count as compliance projects; the word itself is kept in ``compliance_program``.
COMPLIANCE_WORDS = {"no": False, "yes": True, "arb compliance": True, "wa compliance": True, "arb early action": True}


def _compliance(words: pd.Series, issues: Issues, rows: pd.Series) -> pd.Series:
    low = words.str.strip().str.lower()
    out = low.map(COMPLIANCE_WORDS).astype("boolean")
    odd = low.notna() & ~low.isin(list(COMPLIANCE_WORDS))
    if odd.any():
        issues.add(
            rows[odd],
            "ARB / WA Project",
            f"unknown compliance word {words[odd].iloc[0]!r} (flag left unknown)",
            skip=False,
        )
    return out


def _certifications(s: pd.Series) -> pd.Series:
    return s.map(
        lambda v: [p.strip() for p in str(v).split(";") if p.strip()] if isinstance(v, str) and v.strip() else None
    )


def _removal(s: pd.Series) -> pd.Series:
    low = s.str.lower()
    return low.str.extract(r"(reduction|removal|mixed)")[0]


class Vrod(Parser):
    source, kind, label, rank = "vrod", "projects", "Berkeley VROD PROJECTS sheet", 20
    suffixes = (".parquet", ".xlsx", ".xlsm")
    required = {
        "project id": "Project ID",
        "voluntary registry": "Voluntary Registry",
        "total credits issued": "Total Credits \\nIssued",
        "total credits retired": "Total Credits \\nRetired",
        "first year of project (vintage)": "First Year of Project (Vintage)",
    }

    def parse(self, path: Path, issues: Issues) -> Iterator[Batch]:
        df = (
            read_excel_projects(path) if path.suffix.lower() in {".xlsx", ".xlsm"} else read_parquet_table(path, issues)
        )
        issues.rows = len(df)
        df = df.reset_index(drop=True)
        # Values may arrive as numbers (Parquet/Excel) or text; Chunk's accessors accept both.
        c = Chunk(df.astype({k: "string" for k in df.columns if df[k].dtype == object}), issues)
        ids = normalise_ids(c.text("Project ID"))
        bad = ids.notna() & ~ids.str.match(ID_RE, na=False)
        if bad.any():
            issues.add(
                c.rows[bad], "Project ID", f"not a VROD project ID: {ids[bad].iloc[0]!r} (row skipped)", skip=True
            )
        missing = ids.isna()
        if missing.any():
            issues.add(c.rows[missing], "Project ID", "missing project ID (row skipped)", skip=True)
        registry = codes_of(c.text("Voluntary Registry"))
        unknown = registry.isna()
        if unknown.any():
            issues.add(
                c.rows[unknown],
                "Voluntary Registry",
                f"unknown registry {c.text('Voluntary Registry')[unknown].iloc[0]!r} (row skipped)",
                skip=True,
            )
        dup = ids.duplicated(keep=False) & ids.notna()
        if dup.any():
            raise InputError(
                f"project ID {ids[dup].iloc[0]!r} appears on more than one row",
                file=str(path),
                row=int(c.rows[dup].iloc[0]),
                column="Project ID",
            )

        arb_words = c.text("ARB / WA Project")
        arb = _compliance(arb_words, issues, c.rows)
        certs = c.text("Sustainability Certifications")
        voluntary, compliance_status = c.text("Voluntary Status"), c.text("ARB / WA Status")
        notes = c.text("Notes from Registry")
        berkeley = c.text("Notes from Berkeley Carbon Trading Project")
        notes = notes.where(
            berkeley.isna(),
            (notes.fillna("") + "\n\nBerkeley Carbon Trading Project: " + berkeley.fillna("")).str.strip(),
        )
        projects = pd.DataFrame(
            {
                "id": ids,
                "registry": registry,
                "name": c.text("Project Name"),
                # A compliance-only project has no voluntary status: its ARB / WA status stands in
                "status_raw": voluntary.fillna(
                    compliance_status.where(~compliance_status.str.startswith("Not ARB", na=False))
                ),
                "compliance_status": compliance_status,
                "compliance_program": arb_words.where(arb_words.str.lower() != "no"),
                "scope": c.text("Scope"),
                "type_override": c.text("Type"),
                "reduction_removal": _removal(c.text("Reduction / Removal")),
                "methodology_raw": c.text("Methodology / Protocol"),
                "methodology_version": c.text("Methodology Version"),
                "region": c.text("Region"),
                "country_raw": c.text("Country"),
                "state": c.text("State"),
                "site": c.text("Project Site Location"),
                "proponent": c.text("Project Developer"),
                "owner": c.text("Project Owner"),
                "verifier": c.text("Verifier"),
                "estimated_annual": c.number("Estimated Annual Emission Reductions"),
                "first_vintage": c.year("First Year of Project (Vintage)"),
                "is_compliance": arb,
                "certifications": _certifications(certs),
                # Certifications VROD lists say yes or no; no list says nothing (null)
                "corsia": certs.str.contains("CORSIA", case=False).astype("boolean"),
                "ccp": certs.str.contains("CCP").astype("boolean"),
                "article6": certs.str.contains("Article 6 Authori").astype("boolean"),
                "pers": c.number("PERs"),
                "notes": notes.where(notes != ""),
                "compliance_id": c.text("ARB / WA ID"),
                "poa_id": c.text("PoA / Aggregate ID"),
                "listed_at": c.date("Project Listed"),
                "registered_at": c.date("Project Registered"),
                "type_raw": c.text("Project Type From the Registry"),
                "registry_url": c.text("Registry Documents"),
                "website": c.text("Project Website"),
                "description": c.text("Project Description"),
                "_row": c.rows,
            }
        )
        projects["registry_url"] = projects["registry_url"].where(
            projects["registry_url"].str.match(r"^https?://", na=False)
        )

        stated = []
        for label, metric in STATED.items():
            if c.has(label):
                v = c.number(label, allow_negative=True)
                stated.append(pd.DataFrame({"project_id": ids, "metric": metric, "value": v, "_row": c.rows}))
        stated_df = keep(pd.concat(stated, ignore_index=True), issues).dropna(subset=["value"])

        series = []
        year_cols: dict[str, dict[str, int]] = {suffix: {} for suffix in BLOCKS}
        for col in df.columns:
            m = re.fullmatch(r"(\d{4})(\.\d)?", col)
            if m and (m.group(2) or "") in BLOCKS:
                year_cols[m.group(2) or ""][col] = int(m.group(1))
        if not year_cols[""]:
            raise InputError("no per-year columns (1996, 1997, ...) in the VROD sheet", file=str(path))
        frame = df.assign(_id=ids)
        for suffix, name in BLOCKS.items():
            series.append(stack_series(frame, "_id", year_cols[suffix], name, "vrod"))
        if c.has("Year Unknown"):
            series.append(
                stack_series(frame.rename(columns={"year unknown": "0"}), "_id", {"0": 0}, "retired_by_year", "vrod")
            )
        series_df = keep(pd.concat(series, ignore_index=True), issues)
        yield Batch(projects=keep(projects, issues), stated=stated_df, series=series_df.drop(columns="_row"))
