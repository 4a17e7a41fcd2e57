from pathlib import Path

import pandas as pd
import pytest

from carbonscope.errors import InputError
from carbonscope.registry import reading as t
from carbonscope.registry.reading import Issues


def test_header_quirks_normalise_to_one_name():
    assert t.norm_header("Status Effective  (GMT)") == "status effective"
    assert t.norm_header("Status Effective (GMT)") == "status effective"
    assert t.norm_header("Total Credits \nIssued") == "total credits issued"
    assert t.norm_header("\ufeffID") == "id"
    assert t.norm_header("Program  Country") == "program country"


def _num(values, required=False):
    s = pd.Series(values, dtype="string")
    issues = Issues("f.csv")
    out = t.numbers(s, column="Quantity", issues=issues, rows=pd.Series(range(2, 2 + len(values))), required=required)
    return out, issues


def test_numbers_with_thousands_separators_and_bad_values():
    out, issues = _num(["1,454,054", "550369.0", "abc", "-5", None], required=True)
    assert out.iloc[0] == 1454054 and out.iloc[1] == 550369
    assert pd.isna(out.iloc[2]) and pd.isna(out.iloc[3])
    assert issues.skipped_rows == {4, 5, 6}
    msgs = {i.row: i.message for i in issues.items}
    assert "not a number: 'abc'" in msgs[4] and "negative" in msgs[5] and "missing" in msgs[6]
    assert all(i.column == "Quantity" for i in issues.items)


def test_dates_in_every_registry_format_and_impossible_dates():
    s = pd.Series(
        ["11/3/2025 7:10:41 PM", "2026-04-13T12:35:58.842275", "03/19/2026", "2026-04-03", "2/30/2024", "1/15/2020"],
        dtype="string",
    )
    issues = Issues("f.csv")
    out = t.dates(s, column="Date", issues=issues, rows=pd.Series(range(2, 8)))
    assert [d.date().isoformat() if not pd.isna(d) else None for d in out] == [
        "2025-11-03",
        "2026-04-13",
        "2026-03-19",
        "2026-04-03",
        None,
        "2020-01-15",
    ]
    assert [(i.row, i.column) for i in issues.items] == [(6, "Date")]
    assert "2/30/2024" in issues.items[0].message


def test_apx_serial_blocks():
    start, end = t.apx_serials(
        pd.Series(["ACR-US-1185-2025-3078-1 to 85847", "CAR-1-US-1335-31-983-KS-2025-9659-43177 to 43276", "junk"])
    )
    assert start.tolist()[:2] == [1, 43177] and end.tolist()[:2] == [85847, 43276]
    assert pd.isna(start.iloc[2])


def test_sdg_lists_from_each_style():
    s = pd.Series(
        [
            "09: Industry, Innovation and Infrastructure;13: Climate Action",
            "4,13,6,5,3,8",
            "01: No Poverty; 03: Good Health and Well-being",
            None,
        ]
    )
    assert t.sdg_list(s).tolist()[:3] == [[9, 13], [3, 4, 5, 6, 8, 13], [1, 3]]


def test_empty_file_is_refused(tmp_path: Path):
    f = tmp_path / "empty.csv"
    f.write_text("")
    with pytest.raises(InputError, match="empty.csv: the file is empty"):
        list(t.read_csv_chunks(f, Issues(str(f))))


def test_header_without_rows_is_refused(tmp_path: Path):
    f = tmp_path / "h.csv"
    f.write_text("ID,Name\n")
    with pytest.raises(InputError, match="header but no data rows"):
        list(t.read_csv_chunks(f, Issues(str(f))))


def test_values_under_an_unnamed_column_are_refused(tmp_path: Path):
    f = tmp_path / "x.csv"
    f.write_text("ID,Name,\n1,a,\n2,b,oops\n")
    with pytest.raises(InputError, match=r"x.csv, row 3: values under a column without a header"):
        list(t.read_csv_chunks(f, Issues(str(f))))


def test_windows_1252_file_is_read_with_a_warning(tmp_path: Path):
    f = tmp_path / "w.csv"
    f.write_bytes("ID,Name\n1,Paraná\n".encode("cp1252"))
    issues = Issues(str(f))
    chunk = next(t.read_csv_chunks(f, issues))
    assert chunk["name"].iloc[0] == "Paraná"
    assert "not UTF-8" in issues.items[0].message and issues.items[0].row == 2


def test_truncated_parquet_is_refused(tmp_path: Path):
    from tests.conftest import OFFSETSDB

    f = tmp_path / "cut.parquet"
    f.write_bytes(OFFSETSDB.read_bytes()[:5000])
    with pytest.raises(InputError, match="cut.parquet: not a readable Parquet file"):
        t.read_parquet_table(f)


def test_a_csv_cut_in_half_is_refused_naming_its_last_row(tmp_path):
    import pytest

    from carbonscope.errors import InputError
    from carbonscope.registry.reading import check_complete
    from tests.conftest import NATIVE

    src = (NATIVE / "verra/projects.csv").read_bytes()
    cut = tmp_path / "projects.csv"
    cut.write_bytes(src[: len(src) // 2])  # ends inside VCS5894's row: "...,AMS-III.D.; AM"
    with pytest.raises(InputError, match=r"the last row has 6 of the header's 13 fields") as exc:
        check_complete(cut)
    assert exc.value.row == 27
    nul = tmp_path / "nul.csv"
    nul.write_bytes(src.replace(b"Tubura", b"Tub\x00ra", 1))
    with pytest.raises(InputError, match="NUL byte"):
        check_complete(nul)
    quote = tmp_path / "quote.csv"
    quote.write_bytes(src.replace(b",Tubura", b',"Tubura', 1))
    with pytest.raises(InputError, match="never closed"):
        check_complete(quote)
    for f in sorted(NATIVE.glob("*/*.csv")):  # every real export passes
        check_complete(f)


def test_a_truncated_export_leaves_the_database_as_it_was(engine, tmp_path):
    import pytest

    from carbonscope.errors import InputError
    from carbonscope.ingest import ingest
    from tests.conftest import NATIVE
    from tests.ingest.helpers import dump

    ingest([NATIVE / "art-trees"], engine)
    before = dump(engine)
    src = (NATIVE / "verra/projects.csv").read_bytes()
    (tmp_path / "projects.csv").write_bytes(src[: len(src) // 2])
    with pytest.raises(InputError, match="cut short"):
        ingest([tmp_path / "projects.csv"], engine)
    assert dump(engine) == before


def test_a_20_mb_cell_is_not_stored_as_a_project_name(engine, tmp_path):
    from sqlalchemy import select

    from carbonscope.db.schema import projects
    from carbonscope.ingest import ingest
    from tests.conftest import NATIVE

    p = pd.read_csv(NATIVE / "art-trees/projects.csv", dtype=str, keep_default_na=False)
    p.loc[p["Program ID"] == "ART102", "Program Name"] = "G" * 20_000_000
    (tmp_path / "art").mkdir()
    p.to_csv(tmp_path / "art" / "projects.csv", index=False)
    report = ingest([tmp_path / "art" / "projects.csv"], engine)
    warning = report.files[0].warnings[0]
    assert (
        warning.column == "program name"
        and "20,000,000 characters" in warning.message
        and report.files[0].skipped_rows == 1
    )
    with engine.connect() as conn:
        ids = set(conn.execute(select(projects.c.id)).scalars())
        longest = max(len(n or "") for n in conn.execute(select(projects.c.name)).scalars())
    assert "ART102" not in ids and len(ids) == len(p) - 1 and longest < 1_000
