"""CarbonPlan OffsetsDB's projects table (Parquet or CSV), lowest in merge precedence.

OffsetsDB writes Gold Standard IDs as ``GLD<n>``; CarbonScope writes ``GS<n>``. Its ``protocol``
column is a JSON list of lower-cased codes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from carbonscope.registry.base import Batch, Parser
from carbonscope.registry.codes import codes_of, normalise_ids
from carbonscope.registry.frames import Chunk, keep
from carbonscope.registry.reading import Issues, read_csv_chunks, read_parquet_table


def _protocols(value) -> str | None:
    if value is None or value is pd.NA:
        return None
    try:
        items = json.loads(value) if isinstance(value, str) else list(value)
    except (ValueError, TypeError):
        items = [value]
    items = [str(i).strip() for i in items if i is not None and str(i).strip() and str(i).lower() != "unknown"]
    return "; ".join(i.upper() if len(i) < 12 else i for i in items) or None


class OffsetsDb(Parser):
    source, kind, label, rank = "offsetsdb", "projects", "CarbonPlan OffsetsDB projects table", 30
    suffixes = (".parquet", ".csv")
    required = {
        "project_id": "project_id",
        "registry": "registry",
        "protocol": "protocol",
        "project_type_source": "project_type_source",
        "issued": "issued",
    }

    def parse(self, path: Path, issues: Issues) -> Iterator[Batch]:
        frames = (
            [read_parquet_table(path, issues)]
            if path.suffix.lower() == ".parquet"
            else read_csv_chunks(path, issues, self.chunksize)
        )
        for df in frames:
            c = Chunk(df.astype({k: "string" for k in df.columns if df[k].dtype == object}), issues)
            ids = normalise_ids(c.text("project_id"))
            bad = ~ids.str.match(r"^(VCSOPR|VCS|GS|ACR|CAR|ART)\d+$", na=False)
            if bad.any():
                issues.add(
                    c.rows[bad],
                    "project_id",
                    f"not a project ID of the five registries: {c.text('project_id')[bad].iloc[0]!r} (row skipped)",
                    skip=True,
                )
            registry = codes_of(c.text("registry"))
            status = c.text("status")
            ptype = c.text("project_type")
            projects = pd.DataFrame(
                {
                    "id": ids,
                    "registry": registry.fillna(ids.str.extract(r"^(VCS|GS|ACR|CAR|ART)")[0]),
                    "name": c.text("name"),
                    "proponent": c.text("proponent"),
                    "status_raw": status.mask(status.str.lower() == "unknown"),
                    "methodology_raw": df["protocol"].map(_protocols).astype("string") if "protocol" in df else None,
                    "type_override": ptype.mask(ptype.str.lower() == "unknown"),
                    "country_raw": c.text("country"),
                    "listed_at": c.date("listed_at"),
                    "is_compliance": c.flag("is_compliance")
                    if df["is_compliance"].dtype != bool
                    else df["is_compliance"].astype("boolean"),
                    "registry_url": c.text("project_url"),
                    "stated_first_issuance": c.date("first_issuance_at") if c.has("first_issuance_at") else pd.NaT,
                    "stated_first_retirement": c.date("first_retirement_at")
                    if c.has("first_retirement_at")
                    else pd.NaT,
                    "_row": c.rows,
                }
            )
            stated = pd.concat(
                [
                    pd.DataFrame({"project_id": ids, "metric": "issued", "value": c.number("issued"), "_row": c.rows}),
                    pd.DataFrame(
                        {"project_id": ids, "metric": "retired", "value": c.number("retired"), "_row": c.rows}
                    ),
                ],
                ignore_index=True,
            )
            stated = keep(stated, issues).dropna(subset=["value"])
            yield Batch(projects=keep(projects, issues), stated=stated)
