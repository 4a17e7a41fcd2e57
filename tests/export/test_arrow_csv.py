"""The Arrow CSV path of SQLite exports gives the same values as the driver's rows, NULLs included."""

import csv
import io
from datetime import date

import pytest

from carbonscope.db.engine import make_engine
from carbonscope.export import arrow_csv
from carbonscope.export.cells import stream_raw_rows, text_booleans
from carbonscope.export.to_csv import csv_lines
from carbonscope.queries.filters import EventFilters, ProjectFilters
from carbonscope.queries.lists import events_query, project_query


@pytest.fixture
def sqlite_engine(loaded_url):
    if not loaded_url.startswith("sqlite"):
        pytest.skip("the Arrow path reads SQLite files")
    engine = make_engine(loaded_url)
    yield engine
    engine.dispose()


def _driver_rows(conn, query) -> list[list[str]]:
    return [
        ["" if v is None else str(v) for v in row]
        for part in stream_raw_rows(conn, query.with_only_columns(*text_booleans(query)))
        for row in part
    ]


@pytest.mark.parametrize(
    "filters",
    [
        EventFilters(),
        EventFilters(registry=["GS"], type=["retirement"], date_from=date(2024, 1, 1), vintage_min=2015),
        EventFilters(project=["ART102"], quantity_min=10),
    ],
)
def test_arrow_csv_equals_driver_rows(sqlite_engine, filters):
    query = events_query(filters, "id")
    with sqlite_engine.connect() as conn:
        assert arrow_csv.supported(conn, query)
        # batches of 7 rows: many batches whose text columns are NULL throughout (Verra issuances have
        # no beneficiary), which the driver's type inference would otherwise take for integers
        text = b"".join(arrow_csv.csv_batches(conn, query, batch=7)).decode()
        want = _driver_rows(conn, query)
    got = list(csv.reader(io.StringIO(text)))
    assert len(got) == len(want) > 0 and got == want


def test_null_and_empty_text_stay_apart(sqlite_engine):
    query = events_query(EventFilters(registry=["VCS"], type=["issuance"]), "id")
    with sqlite_engine.connect() as conn:
        first = b"".join(arrow_csv.csv_batches(conn, query, batch=5)).decode().splitlines()[0]
        row = _driver_rows(conn, query)[0]
    fields = next(csv.reader([first]))
    assert fields == row and fields[12] == "" and ",," in first  # a NULL beneficiary is an empty, unquoted field


def test_queries_with_float_or_json_columns_take_the_csv_module_path(sqlite_engine):
    query = project_query(ProjectFilters(registry=["ART"]), "id")
    with sqlite_engine.connect() as conn:
        assert not arrow_csv.supported(conn, query)
        rows = list(csv.reader(io.StringIO(b"".join(csv_lines(conn, query)).decode())))
    assert len(rows) == 28 and rows[0][0].startswith("ART")
