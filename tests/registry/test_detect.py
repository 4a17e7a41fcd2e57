import shutil

import pandas as pd
import pytest

from carbonscope.errors import InputError, UnrecognisedFileError
from carbonscope.registry.detect import detect, expand_paths
from carbonscope.registry.reading import Issues
from tests.conftest import NATIVE, REGISTRY_DATA, VROD


def test_folder_expansion_finds_every_real_export():
    files = expand_paths([REGISTRY_DATA])
    assert len(files) == 19
    assert {detect(f).source for f in files} == {
        "verra",
        "gold-standard",
        "american-carbon-registry",
        "climate-action-reserve",
        "art-trees",
        "vrod",
        "offsetsdb",
    }


def test_unrecognised_file_names_the_file_and_what_was_expected(tmp_path):
    f = tmp_path / "mystery.csv"
    f.write_text("Foo,Bar\n1,2\n")
    with pytest.raises(UnrecognisedFileError) as exc:
        detect(f)
    msg = str(exc.value)
    assert msg.startswith(str(f)) and "headers match no known registry export" in msg and "closest is a" in msg


def test_renamed_column_is_reported(tmp_path):
    f = tmp_path / "retirements.csv"
    text = (
        (NATIVE / "climate-action-reserve/retirements.csv").read_text().replace("Quantity of Offset Credits", "Qty", 1)
    )
    f.write_text(text)
    with pytest.raises(UnrecognisedFileError, match="'Quantity of Offset Credits'"):
        detect(f)


def test_source_option_forces_and_restricts(tmp_path):
    assert detect(NATIVE / "art-trees/issuances.csv", "art-trees").key == "art-trees/issuances"
    with pytest.raises(UnrecognisedFileError, match="of source 'verra'"):
        detect(NATIVE / "art-trees/issuances.csv", "verra")
    with pytest.raises(InputError, match="unknown source 'nope'"):
        detect(NATIVE / "art-trees/issuances.csv", "nope")


def test_other_file_types_are_refused(tmp_path):
    f = tmp_path / "notes.txt"
    f.write_text("hello")
    with pytest.raises(UnrecognisedFileError, match="not a CSV, Parquet or Excel file"):
        detect(f)


def test_missing_path_is_reported(tmp_path):
    with pytest.raises(InputError, match="no such file or folder"):
        expand_paths([tmp_path / "nowhere"])


def test_vrod_from_the_official_workbook_layout(tmp_path):
    """The PROJECTS sheet of the .xlsx: a title above the header, year columns repeated per block."""
    from openpyxl import Workbook

    df = pd.read_parquet(VROD).head(40)
    wb = Workbook()
    wb.active.title = "README"
    ws = wb.create_sheet("PROJECTS")
    ws.append(["Voluntary Registry Offsets Database v2025-12"])
    ws.append([])
    header = [int(c.split(".")[0]) if c[:4].isdigit() and c[:4] == c.split(".")[0] else c for c in df.columns]
    ws.append(header)
    for row in df.itertuples(index=False):
        ws.append(
            [
                None
                if (isinstance(v, float) and pd.isna(v)) or v is pd.NaT
                else (v.to_pydatetime() if isinstance(v, pd.Timestamp) else v)
                for v in row
            ]
        )
    path = tmp_path / "VROD.xlsx"
    wb.save(path)

    parser = detect(path)
    assert parser.key == "vrod/projects"
    issues = Issues(str(path))
    batch = next(parser.parse(path, issues))
    assert issues.items == []
    assert batch.projects["id"].tolist() == df["Project ID"].tolist()
    assert batch.projects["_row"].iloc[0] == 4  # title, blank, header, then data
    st = batch.stated[batch.stated["project_id"] == "ACR102"].set_index("metric")["value"]
    assert st["issued"] == 7_984_006
    ser = batch.series[(batch.series["project_id"] == "ACR102")]
    assert set(ser["series"]) <= {
        "issued_by_vintage",
        "retired_by_year",
        "remaining_by_vintage",
        "issued_by_issuance_year",
    }
    parquet_batch = next(detect(VROD).parse(VROD, Issues("v")))
    pser = parquet_batch.series[parquet_batch.series["project_id"] == "ACR102"]
    assert sorted(map(tuple, ser[["series", "year", "quantity"]].values.tolist())) == sorted(
        map(tuple, pser[["series", "year", "quantity"]].values.tolist())
    )


def test_copy_in_other_folder_is_still_recognised(tmp_path):
    dst = tmp_path / "whatever-name.csv"
    shutil.copy(NATIVE / "verra/transactions.csv", dst)
    assert detect(dst).key == "verra/transactions"
