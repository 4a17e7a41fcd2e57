"""Reading registry files: header quirks, encodings, numbers, dates and serial blocks.

Every problem is reported with the file, the spreadsheet row (header = row 1) and the column.
A bad value in a single row is a :class:`RowIssue` (the row is skipped or the value dropped and
counted); a problem with the file as a whole raises :class:`~carbonscope.errors.InputError`.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from carbonscope.errors import InputError
from carbonscope.uniques import on_uniques

HEADER_ROW = 1  # spreadsheet row of the header; data row i (0-based) is row i + 2


def norm_header(name: object) -> str:
    """``'Status Effective  (GMT)'`` -> ``'status effective'``; ``'Total Credits \\nIssued'`` -> ``'total credits issued'``."""
    text = str(name).replace("\ufeff", "")
    text = re.sub(r"\(\s*GMT\s*\)", " ", text, flags=re.IGNORECASE)
    text = re.sub(r"\s+", " ", text).strip().lower()
    return text


def is_unnamed(name: str) -> bool:
    return bool(re.fullmatch(r"unnamed: ?\d+", name)) or name == ""


@dataclass
class RowIssue:
    row: int | None
    column: str | None
    message: str


@dataclass
class Issues:
    """Warnings collected while parsing one file."""

    file: str
    items: list[RowIssue] = field(default_factory=list)
    rows: int = 0  # data rows read
    skipped_rows: set[int] = field(default_factory=set)

    def add(self, rows: Iterable[int], column: str | None, message: str, *, skip: bool) -> None:
        for r in rows:
            self.items.append(RowIssue(int(r), column, message))
            if skip:
                self.skipped_rows.add(int(r))


def _decode(path: Path, raw: bytes, issues: Issues | None) -> str:
    if not raw.strip():
        raise InputError("the file is empty", file=str(path))
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        if issues is not None:
            issues.add(
                [line],
                None,
                f"not UTF-8 (first invalid byte {raw[exc.start]:#04x} at line {line}); decoded as Windows-1252",
                skip=False,
            )
        return raw.decode("cp1252", errors="replace")


def _first_bad_utf8(path: Path) -> tuple[int, int] | None:
    """(line, byte) of the first byte that is not UTF-8, reading the file in blocks."""
    dec = codecs.getincrementaldecoder("utf-8")()
    line = 1
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            try:
                dec.decode(block)
            except UnicodeDecodeError as exc:
                return line + block[: exc.start].count(b"\n"), block[exc.start]
            line += block.count(b"\n")
    return None


def read_header(path: Path) -> list[str]:
    """Normalised header names of a CSV, Parquet or Excel file (for source detection)."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        try:
            return [norm_header(c) for c in pq.read_schema(path).names]
        except Exception as exc:  # pyarrow raises several types for a damaged file
            raise InputError(f"not a readable Parquet file ({exc})", file=str(path)) from exc
    if suffix in {".xlsx", ".xlsm"}:
        return [norm_header(c) for c in read_excel_projects(path, nrows=0).columns]
    with open(path, "rb") as fh:
        head = fh.read(64 * 1024)
    text = _decode(path, head, None)
    first_line = next(iter(text.splitlines()), "")
    if not first_line.strip():
        raise InputError("no header row (the first line is blank)", file=str(path))
    return [norm_header(c) for c in pd.read_csv(io.StringIO(first_line + "\n"), nrows=0, dtype=str).columns]


def read_csv_chunks(path: Path, issues: Issues, chunksize: int = 250_000) -> Iterator[pd.DataFrame]:
    """Yield string-typed chunks with normalised headers and a ``_row`` column (spreadsheet row).

    The file is streamed (memory does not grow with its size). A file that is not UTF-8 is read
    as Windows-1252, with a warning naming the line of the first byte that is not UTF-8.
    """
    with open(path, "rb") as fh:
        if not fh.read(1 << 16).strip():
            raise InputError("the file is empty", file=str(path))
    check_complete(path)
    bad = _first_bad_utf8(path)
    encoding = "utf-8-sig"
    if bad is not None:
        issues.add(
            [bad[0]],
            None,
            f"not UTF-8 (first invalid byte {bad[1]:#04x} at line {bad[0]}); decoded as Windows-1252",
            skip=False,
        )
        encoding = "cp1252"
    try:
        reader = pd.read_csv(
            path,
            dtype=str,
            chunksize=chunksize,
            keep_default_na=False,
            na_values=[""],
            on_bad_lines="error",
            encoding=encoding,
            encoding_errors="replace",
        )
        start = 0
        for chunk in reader:
            chunk = _tidy_columns(chunk, path)
            chunk["_row"] = np.arange(start, start + len(chunk)) + HEADER_ROW + 1
            _limit_cells(chunk, issues)
            start += len(chunk)
            issues.rows = start
            yield chunk
        if start == 0:
            raise InputError("the file has a header but no data rows", file=str(path))
    except pd.errors.ParserError as exc:
        detail = re.sub(r"^Error tokenizing data\. C error: ", "", str(exc).strip())
        m = re.search(r"line (\d+)", detail)
        raise InputError(f"malformed CSV: {detail}", file=str(path), row=int(m.group(1)) if m else None) from exc
    except pd.errors.EmptyDataError as exc:
        raise InputError("the file is empty", file=str(path)) from exc


MAX_CELL = 100_000  # characters: a registry's longest real field (project descriptions) is a few thousand


def _limit_cells(chunk: pd.DataFrame, issues: Issues) -> None:
    """A cell longer than :data:`MAX_CELL` is not a registry value (a 20 MB "project name"): its row is skipped, named."""
    for col in chunk.columns:
        if col == "_row" or chunk[col].dtype != object:
            continue
        lengths = chunk[col].str.len()
        if not (lengths > MAX_CELL).any():
            continue
        bad = lengths > MAX_CELL
        issues.add(
            chunk.loc[bad, "_row"],
            col,
            f"a cell of {int(lengths[bad].iloc[0]):,} characters (the limit is {MAX_CELL:,}; row skipped)",
            skip=True,
        )
        chunk.loc[bad, col] = None


def check_complete(path: Path) -> None:
    """Refuse a CSV that is damaged or cut short before any of its rows is used.

    One pass in C-speed byte counts: a NUL byte (a binary or damaged file) is refused naming its
    line; an odd number of quote characters means a quoted field is never closed; and the last
    record must have as many fields as the header (a download cut in the middle of a row has fewer).
    A file cut exactly at a line end cannot be told from a shorter export: the download checks
    (sizes, row counts against the previous file) catch those.
    """
    quotes, lines = 0, 1
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 22):
            nul = chunk.find(b"\x00")
            if nul >= 0:
                raise InputError(
                    "a NUL byte: the file is binary or damaged, not a CSV export",
                    file=str(path),
                    row=lines + chunk.count(b"\n", 0, nul),
                )
            quotes += chunk.count(b'"')
            lines += chunk.count(b"\n")
    if quotes % 2:
        raise InputError(
            "a quoted field is never closed (unbalanced quotes): the file is damaged or cut short", file=str(path)
        )
    size = path.stat().st_size
    with open(path, "rb") as fh:
        header = fh.readline()
        start = fh.tell()
        fh.seek(max(start, size - (1 << 20)))
        raw_tail = fh.read()
        tail = raw_tail.rstrip(b"\r\n")
    last_line = lines - 1 if raw_tail.endswith(b"\n") else lines
    if not tail:
        return
    width = len(next(csv.reader([header.decode("utf-8", "replace").lstrip("\ufeff")])))
    pos, last = len(tail), None
    while True:  # the last newline outside quotes: an even number of quotes follows it
        j = tail.rfind(b"\n", 0, pos)
        if j < 0:
            last = tail if size - len(tail) <= start + 2 else None  # the window holds the whole last record?
            break
        if tail[j + 1 :].count(b'"') % 2 == 0:
            last = tail[j + 1 :]
            break
        pos = j
    if last is None:
        return
    fields = next(csv.reader([last.decode("utf-8", "replace").replace("\r", "")]), [])
    if len(fields) < width:
        raise InputError(
            f"the last row has {len(fields)} of the header's {width} fields: the file looks cut short (an interrupted download?)",
            file=str(path),
            row=last_line,
        )


def _tidy_columns(df: pd.DataFrame, path: Path) -> pd.DataFrame:
    names = [norm_header(c) for c in df.columns]
    keep = [i for i, n in enumerate(names) if not is_unnamed(n)]
    # A trailing unnamed column must be empty; otherwise the header lost a name and we say so.
    for i, n in enumerate(names):
        if is_unnamed(n) and df.iloc[:, i].notna().any():
            first = int(df.iloc[:, i].notna().to_numpy().argmax())
            raise InputError(
                f"values under a column without a header ({df.columns[i]!r})", file=str(path), row=first + 2
            )
    df = df.iloc[:, keep]
    df.columns = [names[i] for i in keep]
    return df


def read_parquet_table(path: Path, issues: Issues | None = None) -> pd.DataFrame:
    try:
        df = pd.read_parquet(path)
    except Exception as exc:
        raise InputError(f"not a readable Parquet file ({type(exc).__name__}: {exc})", file=str(path)) from exc
    if df.empty:
        raise InputError("the Parquet file has no rows", file=str(path))
    df.columns = [norm_header(c) for c in df.columns]
    df["_row"] = np.arange(len(df)) + HEADER_ROW + 1
    if issues is not None:
        issues.rows = len(df)
    return df


def read_excel_projects(path: Path, nrows: int | None = None) -> pd.DataFrame:
    """The PROJECTS sheet of VROD's workbook; the header is the first row that names 'Project ID'."""
    try:
        xl = pd.ExcelFile(path, engine="openpyxl")
    except Exception as exc:
        raise InputError(f"not a readable Excel workbook ({exc})", file=str(path)) from exc
    sheet = next((s for s in xl.sheet_names if s.strip().upper() == "PROJECTS"), None)
    if sheet is None:
        raise InputError(f"no sheet named PROJECTS (sheets: {', '.join(xl.sheet_names)})", file=str(path))
    probe = xl.parse(sheet, header=None, nrows=15)
    header_row = next(
        (i for i, row in probe.iterrows() if any(str(v).strip() == "Project ID" for v in row.values)), None
    )
    if header_row is None:
        raise InputError("sheet PROJECTS has no header row with 'Project ID' in its first 15 rows", file=str(path))
    df = xl.parse(sheet, header=header_row, nrows=nrows)
    df.columns = [str(c) if not isinstance(c, (int, float)) else str(int(c)) for c in df.columns]
    df.columns = _dedupe_year_columns(df.columns)
    df = df.dropna(how="all")
    df["_row"] = df.index.to_numpy() + header_row + 2
    df.columns = [norm_header(c) if c != "_row" else c for c in df.columns]
    return df


def _dedupe_year_columns(cols) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for c in cols:
        base = re.sub(r"\.\d+$", "", c)
        n = seen.get(base, 0)
        out.append(base if n == 0 else f"{base}.{n}")
        seen[base] = n + 1
    return out


# ---------------------------------------------------------------- values

NULL_WORDS = {"", "nan", "none", "n/a", "na", "null", "-"}


def _clean_text(u: pd.Series) -> pd.Series:
    s = u.astype("string").str.strip()
    return s.mask(s.str.lower().isin(NULL_WORDS))


def text(series: pd.Series) -> pd.Series:
    """Strip whitespace; empty and null words become missing."""
    if series.dtype == object or str(series.dtype) == "string":
        return on_uniques(series, _clean_text, "string")
    return _clean_text(series)


def _to_number(u: pd.Series) -> pd.Series:
    cleaned = (
        u.astype("string")
        .str.strip()
        .str.replace(r"[,\s]", "", regex=True)
        .str.replace(r"^\((.*)\)$", r"-\1", regex=True)
    )
    return pd.to_numeric(cleaned, errors="coerce")


def numbers(
    series: pd.Series, *, column: str, issues: Issues, rows: pd.Series, required: bool, allow_negative: bool = False
) -> pd.Series:
    """Parse quantities like ``'1,454,054'`` or ``'550369.0'``. Bad values: row skipped (required) or dropped."""
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        s = series.astype("Float64").astype("string")
        values = series.astype("Float64")
    else:
        s = text(series)
        values = on_uniques(s, _to_number, "Float64")
    values = values.astype("Float64")
    bad = s.notna() & values.isna()
    if bad.any():
        issues.add(
            rows[bad],
            column,
            f"not a number: {s[bad].iloc[0]!r}" + (" (row skipped)" if required else " (value dropped)"),
            skip=required,
        )
    if not allow_negative:
        neg = (values < 0).fillna(False)
        if neg.any():
            issues.add(
                rows[neg],
                column,
                f"negative quantity {values[neg].iloc[0]:g}" + (" (row skipped)" if required else " (value dropped)"),
                skip=required,
            )
            values = values.mask(neg)
    if required:
        missing = s.isna()
        if missing.any():
            issues.add(rows[missing], column, "missing quantity (row skipped)", skip=True)
    frac = (values.notna() & ((values % 1) != 0)).fillna(False)
    if frac.any():
        issues.add(
            rows[frac],
            column,
            f"not a whole number of credits: {values[frac].iloc[0]}"
            + (" (row skipped)" if required else " (value dropped)"),
            skip=required,
        )
        values = values.mask(frac)
    return values


DATE_FORMATS = (
    "%Y-%m-%d",
    "%m/%d/%Y",
    "%m/%d/%Y %I:%M:%S %p",
    "%Y-%m-%dT%H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
    "%d/%m/%Y",
)


def _parse_dates(u: pd.Series, formats) -> pd.Series:
    u = u.astype("string")
    out = pd.Series(pd.NaT, index=u.index, dtype="datetime64[ns]")
    todo = u.notna()
    for fmt in formats:
        if not todo.any():
            break
        parsed = pd.to_datetime(u[todo], format=fmt, errors="coerce")
        out.loc[parsed.index[parsed.notna()]] = parsed[parsed.notna()]
        todo = todo & out.isna()
    # A remaining value may carry a suffix ("(GMT)") or unusual spacing: last try, pandas' own parser
    if todo.any():
        parsed = pd.to_datetime(u[todo].str.replace(r"\s*\(?GMT\)?", "", regex=True), errors="coerce", format="mixed")
        out.loc[parsed.index[parsed.notna()]] = parsed[parsed.notna()]
    return out


def dates(
    series: pd.Series,
    *,
    column: str,
    issues: Issues,
    rows: pd.Series,
    required: bool = False,
    formats: Sequence[str] = DATE_FORMATS,
) -> pd.Series:
    """Dates in any of the registries' formats -> midnight timestamps (or missing).

    Formats are tried in order on the values not yet parsed, so day-first is only a last resort.
    Impossible dates (2/30/2024) and years outside 1980-2100 are reported.
    """
    if pd.api.types.is_datetime64_any_dtype(series):
        out = pd.to_datetime(series, errors="coerce")
        if getattr(out.dt, "tz", None) is not None:
            out = out.dt.tz_convert(None)
        s = out
    else:
        s = text(series)
        out = on_uniques(s, lambda u: _parse_dates(u, formats), "datetime64[ns]")
        bad = s.notna() & out.isna()
        if bad.any():
            issues.add(
                rows[bad],
                column,
                f"not a valid date: {s[bad].iloc[0]!r}" + (" (row skipped)" if required else " (value dropped)"),
                skip=required,
            )
    out = out.astype("datetime64[ns]")
    odd = out.notna() & ((out.dt.year < 1980) | (out.dt.year > 2100))
    if odd.any():
        issues.add(
            rows[odd],
            column,
            f"date out of range: {out[odd].iloc[0].date()}" + (" (row skipped)" if required else " (value dropped)"),
            skip=required,
        )
        out = out.mask(odd)
    if required:
        missing = s.isna()
        if missing.any():
            issues.add(rows[missing], column, "missing date (row skipped)", skip=True)
    return out.dt.normalize()


def years(series: pd.Series, *, column: str, issues: Issues, rows: pd.Series) -> pd.Series:
    v = numbers(series, column=column, issues=issues, rows=rows, required=False)
    bad = v.notna() & ((v < 1980) | (v > 2100))
    if bad.any():
        issues.add(rows[bad], column, f"vintage year out of range: {v[bad].iloc[0]:g} (value dropped)", skip=False)
        v = v.mask(bad)
    return v.astype("Int64")


_FLAG_WORDS = {"yes": True, "y": True, "true": True, "1": True, "no": False, "n": False, "false": False, "0": False}


def flags(series: pd.Series) -> pd.Series:
    """'Yes'/'No'/'' -> True/False/<NA>."""
    if pd.api.types.is_bool_dtype(series):
        return series.astype("boolean")
    return on_uniques(series, lambda u: u.astype("string").str.strip().str.lower().map(_FLAG_WORDS), "boolean")


def apx_serials(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    """``'ACR-US-1185-2025-3078-1 to 85847'`` -> (1, 85847)."""
    parts = text(series).str.extract(r"-(\d+)\s+to\s+(\d+)\s*$", flags=re.IGNORECASE)
    return pd.to_numeric(parts[0], errors="coerce").astype("Int64"), pd.to_numeric(parts[1], errors="coerce").astype(
        "Int64"
    )


def _sdgs(v):
    if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
        return None
    # "09: Industry...", "4,13,6" and CAR's "2. Zero Hunger;3. Good Health..."
    nums = sorted(
        {int(n) for n in re.findall(r"(?:^|[;,]\s*)(\d{1,2})(?=\s*(?::|\.\s|,|;|$))", str(v)) if 1 <= int(n) <= 17}
    )
    return nums or None


def sdg_list(series: pd.Series) -> pd.Series:
    """'09: Industry...;13: Climate Action', '4,13,6', '01: No Poverty; 03: ...' or '2. Zero Hunger;3. ...' -> sorted unique ints."""
    return on_uniques(text(series), lambda u: u.map(_sdgs), object)
