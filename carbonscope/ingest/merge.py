"""Merge what every source says about a project into one row, with per-field provenance.

Precedence (lower rank wins, then the newest retrieval): the registry's own projects export
(10), its credit reports (11-13), Berkeley VROD (20), CarbonPlan OffsetsDB (30). For each field
the first source with a value gives it; ``provenance`` records which source, file, row and
retrieval time did. Harmonised fields (status, methodology codes, type, category, country) are
derived from the merged raw fields by :mod:`carbonscope.registry.vocab`.
"""

from __future__ import annotations

import json
import math
from datetime import datetime

import numpy as np
import pandas as pd

from carbonscope.jsonsafe import json_safe
from carbonscope.registry import vocab
from carbonscope.registry.base import PROJECT_FIELDS, any_true
from carbonscope.registry.countries import country_name, to_alpha2

DATE_FIELDS = ("listed_at", "registered_at", "crediting_start", "crediting_end")
FLAG_FIELDS = ("corsia", "ccp", "article6", "corresponding_adjustment", "is_compliance")


def _jsonable(v):
    """A project field's value for JSON: a timestamp is the date it falls on, a whole float an integer."""
    if isinstance(v, (pd.Timestamp, datetime)) and v is not pd.NaT:
        v = v.date()
    elif isinstance(v, (float, np.floating)) and math.isfinite(v) and float(v).is_integer():
        v = int(v)
    return json_safe(v)


def reduce_file_projects(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """One row per project from all batches of one file: the last value seen per field, flags OR-ed."""
    df = pd.concat([f for f in frames if f is not None and len(f)], ignore_index=True)
    if df.empty:
        return df
    flags = [c for c in FLAG_FIELDS if c in df]
    row_lists = [c for c in df.columns if c.startswith("_rows_")]
    others = [c for c in df.columns if c not in flags and c != "id" and c not in row_lists]
    out = df.groupby("id", sort=False)[others].last()
    if flags:
        mx = any_true(df, "id", flags).set_index("id")
        for c in flags:
            out[c] = mx[c].astype(object).where(mx[c].notna(), None)
            if "_rows_" + c in df:
                # Rows of every chunk whose value is the project's result.
                per = df[["id", c, "_rows_" + c]].dropna(subset=[c])
                per = per[per[c].astype(bool) == per["id"].map(mx[c]).astype("boolean").fillna(False).astype(bool)]
                out["_rows_" + c] = (
                    per.groupby("id", sort=False)["_rows_" + c]
                    .agg(lambda ls: sorted({int(r) for rows in ls if isinstance(rows, list) for r in rows}))
                    .reindex(out.index)
                )
    return out.reset_index()


def record_payloads(df: pd.DataFrame) -> pd.DataFrame:
    """``project_id``, ``row`` and ``data`` (a JSON object of the non-missing fields) for source_records."""
    fields = [f for f in PROJECT_FIELDS if f in df]
    frame = df[fields].copy()
    for f in fields:
        if pd.api.types.is_datetime64_any_dtype(frame[f]):
            frame[f] = frame[f].dt.strftime("%Y-%m-%d")
    docs = json.loads(frame.to_json(orient="records", force_ascii=False, date_format="iso"))
    lists = [c for c in df.columns if c.startswith("_rows_")]
    if lists:  # rows that gave each flag: {"flag_rows": {"corsia": [12, 40]}}
        for d, rows in zip(docs, df[lists].to_dict("records")):
            fr = {c[6:]: v for c, v in rows.items() if isinstance(v, list) and v}
            if fr:
                d["flag_rows"] = fr
    texts = [
        json.dumps({k: v for k, v in d.items() if v is not None}, ensure_ascii=False, separators=(",", ":"))
        for d in docs
    ]
    rows = (
        pd.to_numeric(df["_row"], errors="coerce").astype("Int64")
        if "_row" in df
        else pd.Series(pd.NA, index=df.index, dtype="Int64")
    )
    return pd.DataFrame({"project_id": df["id"].to_numpy(), "row": rows.to_numpy(), "data": texts})


def merge_records(records: pd.DataFrame, files: dict[int, tuple[str, str | None]]) -> pd.DataFrame:
    """``records``: project_id, source, rank, file_id, row, retrieved_at, data (dict)[, delisted_snapshot]
    -> merged projects. ``files``: file id -> (path, what its date is based on)."""
    if records.empty:
        return pd.DataFrame(columns=["id"])
    records = records.sort_values(
        ["project_id", "rank", "retrieved_at"], ascending=[True, True, False], kind="stable"
    ).reset_index(drop=True)
    docs = records["data"].map(lambda d: d if isinstance(d, dict) else json.loads(d)).tolist()
    data = pd.DataFrame.from_records(docs)
    data = data.reindex(columns=list(PROJECT_FIELDS))
    data["project_id"] = records["project_id"].to_numpy()
    data["_rec"] = np.arange(len(records))

    merged = data.groupby("project_id", sort=False)[list(PROJECT_FIELDS)].first()
    # Which record gave each field: index of the first non-missing value per project.
    prov_fields: dict[str, pd.Series] = {}
    for f in PROJECT_FIELDS:
        has = data[f].notna()
        if has.any():
            prov_fields[f] = data.loc[has].groupby("project_id", sort=False)["_rec"].first()
    delisted = records["delisted_snapshot"] if "delisted_snapshot" in records else pd.Series(None, index=records.index)
    rec_info = []
    for s, fid, r, t, d, doc in zip(
        records["source"], records["file_id"], records["row"], records["retrieved_at"], delisted, docs
    ):
        path, basis = _file(files, fid)
        info = {
            "source": s,
            "file": path,
            "row": None if pd.isna(r) else int(r),
            "exported_at": _iso(t),
            "date_basis": basis,
        }
        if d is not None and not pd.isna(d):
            info["delisted_snapshot"] = int(d)  # a newer export of this kind no longer lists the project
        if doc.get("flag_rows"):
            info["flag_rows"] = doc["flag_rows"]
        rec_info.append(info)
    # Records of one project are contiguous (sorted above): local index = global index - first index.
    grouped = data.groupby("project_id", sort=False)["_rec"]
    start, count = grouped.min(), grouped.size()
    local = pd.DataFrame(prov_fields).reindex(start.index).sub(start, axis=0)
    field_maps = [{k: int(v) for k, v in d.items() if v == v} for d in local.to_dict("records")]
    merged["provenance"] = pd.Series(
        [{"records": rec_info[a : a + n], "fields": f} for a, n, f in zip(start.tolist(), count.tolist(), field_maps)],
        index=start.index,
    )
    merged["sources"] = records.groupby("project_id", sort=False)["source"].agg(list)
    # Listed: the registry's own projects export lists it (null when no such export was loaded).
    own = records[
        records["source"].str.endswith("/projects") & ~records["source"].isin(["vrod/projects", "offsetsdb/projects"])
    ]
    merged["listed"] = (
        own.assign(on=delisted.loc[own.index].isna())
        .groupby("project_id", sort=False)["on"]
        .any()
        .reindex(merged.index)
        .astype(object)
    )
    merged["listed"] = merged["listed"].where(merged["listed"].notna(), None)
    # Countries: the highest-precedence source's value is the project's; every source's value is
    # kept in ``countries`` when they disagree (e.g. VROD's "Brazil" against an export's "BR; PY").
    codes = data["country_raw"].map(lambda v: to_alpha2(v) if isinstance(v, str) else None)
    per = pd.DataFrame(
        {"project_id": data["project_id"], "code": codes, "source": records["source"].to_numpy()}
    ).dropna(subset=["code"])
    lists: dict[str, list[dict]] = {}
    if len(per):
        grouped_c = per.groupby(["project_id", "code"], sort=False)["source"].agg(list).reset_index()
        grouped_c = grouped_c[grouped_c.groupby("project_id")["code"].transform("size") > 1]
        for pid, code, srcs in zip(grouped_c["project_id"], grouped_c["code"], grouped_c["source"]):
            lists.setdefault(pid, []).append({"country": code, "sources": srcs})
    merged["countries"] = pd.Series([lists.get(pid) for pid in merged.index], index=merged.index, dtype=object)
    merged["countries"] = merged["countries"].astype(object).where(merged["countries"].notna(), None)
    merged = merged.reset_index().rename(columns={"project_id": "id"})
    return derive(merged)


def _file(files: dict, fid) -> tuple[str | None, str | None]:
    v = files.get(int(fid))
    if isinstance(v, tuple):
        return v
    return v, None


def _iso(t) -> str | None:
    if t is None or pd.isna(t):
        return None
    return pd.Timestamp(t).isoformat()


def derive(df: pd.DataFrame) -> pd.DataFrame:
    """Harmonised fields from merged raw fields."""
    df = df.copy()
    df["status"] = df["status_raw"].map(lambda s: vocab.harmonise_status(s) if isinstance(s, str) else None)
    codes = df["methodology_raw"].map(lambda s: vocab.parse_methodologies(s) if isinstance(s, str) else ())
    df["methodologies"] = codes.map(list)
    df["methodology_codes"] = codes.map(lambda c: "|" + "|".join(c) + "|" if c else None)
    cls = [
        vocab.classify(c, tuple(x for x in (tr, sc) if isinstance(x, str)), ov if isinstance(ov, str) else None)
        for c, tr, sc, ov in zip(codes, df["type_raw"], df["scope"], df["type_override"])
    ]
    df["project_type"] = [c.type for c in cls]
    df["category"] = [c.category for c in cls]
    df["type_source"] = [c.source for c in cls]
    df["country"] = df["country_raw"].map(lambda s: to_alpha2(s) if isinstance(s, str) else None)
    df["country_name"] = df["country"].map(country_name)
    for f in DATE_FIELDS:
        df[f] = pd.to_datetime(df[f], errors="coerce").dt.date
    df["first_vintage"] = pd.to_numeric(df["first_vintage"], errors="coerce").astype("Int64")
    df["estimated_annual"] = pd.to_numeric(df["estimated_annual"], errors="coerce")
    df["search_text"] = (
        df["id"].str.lower()
        + " "
        + df["name"].fillna("").str.lower()
        + " "
        + df["proponent"].fillna("").str.lower()
        + " "
        + df["methodology_raw"].fillna("").str.lower()
        + " "
        + df["methodologies"].map(lambda c: " ".join(c).lower())
    )
    return df
