"""The REST API against a database loaded from the real files; expected values from the raw files."""

import io
import json

import pandas as pd
import pyarrow.parquet as pq
import pytest

from carbonscope.queries.projects import project_detail
from tests.conftest import NATIVE, OFFSETSDB, VROD


def vcs_ids_in_raw_files() -> set[str]:
    vrod = pd.read_parquet(VROD, columns=["Project ID", "Voluntary Registry"])
    ids = set(vrod.loc[vrod["Voluntary Registry"] == "VCS", "Project ID"])
    odb = pd.read_parquet(OFFSETSDB, columns=["project_id", "registry"])
    ids |= set(odb.loc[odb["registry"] == "verra", "project_id"])
    ids |= {f"VCS{i}" for i in pd.read_csv(NATIVE / "verra/projects.csv")["ID"]}
    ids |= {f"VCS{i}" for i in pd.read_csv(NATIVE / "verra/transactions.csv")["ID"]}
    return ids


def test_registry_filter_returns_every_verra_project_of_the_raw_files(client):
    r = client.get("/api/v1/projects", params={"registry": "VCS", "limit": 1})
    assert r.status_code == 200
    assert r.json()["total"] == len(vcs_ids_in_raw_files()) == 4888


def test_country_filter_matches_a_pandas_query_on_the_raw_files(client):
    """ACR projects in the US: the native export's country wins over VROD's where both exist."""
    vrod = pd.read_parquet(VROD, columns=["Project ID", "Voluntary Registry", "Country"])
    vrod = vrod[vrod["Voluntary Registry"] == "ACR"].set_index("Project ID")["Country"].map({"United States": "US"})
    native = {}
    for kind in ("cancellations", "issuances", "retirements", "projects"):  # later kinds of higher precedence overwrite
        df = pd.read_csv(NATIVE / f"american-carbon-registry/{kind}.csv", dtype=str)
        native.update(dict(zip(df["Project ID"], df["Project Site Country"])))
    odb = pd.read_parquet(OFFSETSDB, columns=["project_id", "registry", "country"])
    odb = (
        odb[odb["registry"] == "american-carbon-registry"]
        .set_index("project_id")["country"]
        .map({"United States": "US"})
    )
    ids = set(vrod.index) | set(native) | set(odb.index)
    expected = {
        i for i in ids if (native.get(i) if i in native else (vrod.get(i) if i in vrod.index else odb.get(i))) == "US"
    }
    got = set()
    page = 1
    while True:
        r = client.get(
            "/api/v1/projects", params={"registry": "ACR", "country": "US", "limit": 500, "page": page, "sort": "id"}
        ).json()
        got |= {p["id"] for p in r["items"]}
        if page >= r["pages"]:
            break
        page += 1
    assert got == expected and r["total"] == len(expected)


def test_named_project_totals_and_show_json_agree(client, loaded_engine):
    r = client.get("/api/v1/projects/ART102")
    assert r.status_code == 200
    doc = r.json()
    ev = pd.concat([pd.read_csv(NATIVE / f"art-trees/{k}.csv") for k in ("retirements", "cancellations")])
    issued = pd.read_csv(NATIVE / "art-trees/issuances.csv").query("`Program ID` == 'ART102'")
    assert doc["totals"]["issued"] == issued["Credits Verified"].sum() == 58_433_813
    assert doc["totals"]["buffer"] == issued["Credits Deposited in Buffer"].sum()
    assert (
        doc["totals"]["retired"] + doc["totals"]["cancelled"]
        == ev.query("`Program ID` == 'ART102'")["Quantity of Credits"].sum()
    )
    with loaded_engine.connect() as conn:
        show = json.loads(json.dumps(project_detail(conn, "ART102"), default=str))
    assert {k: doc[k] for k in show} == show
    vrod_only = client.get("/api/v1/projects/VCS1477").json()
    row = pd.read_parquet(VROD).set_index("Project ID").loc["VCS1477"]
    assert (
        vrod_only["totals"]["issued"] == row["Total Credits \nIssued"]
        and vrod_only["totals"]["retired_or_cancelled"] == row["Total Credits \nRetired"]
    )
    assert vrod_only["totals"]["retired"] is None and vrod_only["ledger_complete"] is False
    assert vrod_only["country"] == "ID" and vrod_only["registry"] == "VCS"


def test_sort_both_directions_and_stable_pagination(client):
    desc = client.get("/api/v1/projects", params={"registry": "CAR", "sort": "-retired", "limit": 200}).json()["items"]
    known = [p["retired"] for p in desc if p["retired"] is not None]
    assert known == sorted(known, reverse=True) and [p["retired"] for p in desc[len(known) :]] == [None] * (
        len(desc) - len(known)
    )
    assert any(p["retired"] is None for p in desc)  # unknown where VROD states only retired + cancelled: last
    asc = client.get("/api/v1/projects", params={"registry": "CAR", "sort": "name", "limit": 50}).json()["items"]
    names = [p["name"] for p in asc if p["name"]]
    assert names == sorted(names)
    total = client.get("/api/v1/projects", params={"registry": "GS", "limit": 1}).json()["total"]
    seen = []
    for page in range(1, total // 300 + 2):
        seen += [
            p["id"]
            for p in client.get(
                "/api/v1/projects", params={"registry": "GS", "limit": 300, "page": page, "sort": "-issued"}
            ).json()["items"]
        ]
    assert len(seen) == len(set(seen)) == total


def test_filters_combine(client):
    r = client.get("/api/v1/projects", params={"q": "guyana", "registry": "ART"}).json()
    assert [p["id"] for p in r["items"]] == ["ART102"]
    r = client.get("/api/v1/projects", params={"methodology": "VM0007", "limit": 500}).json()
    assert r["total"] > 100 and all("VM0007" in p["methodologies"] for p in r["items"])
    r = client.get(
        "/api/v1/projects", params={"type": "REDD+", "country": ["BR", "PE"], "issued_min": 1_000_000, "limit": 500}
    ).json()
    assert r["total"] > 0 and all(
        p["project_type"] == "REDD+" and p["country"] in ("BR", "PE") and p["issued"] >= 1_000_000 for p in r["items"]
    )
    r = client.get("/api/v1/projects", params={"vintage_min": 2023, "registry": "ART"}).json()
    assert "ART102" in {p["id"] for p in r["items"]}
    r = client.get("/api/v1/projects", params={"corsia": "true", "limit": 500}).json()
    assert r["total"] > 0 and all(p["corsia"] is True for p in r["items"])


def test_facets_come_from_the_data(client):
    f = client.get("/api/v1/projects/facets", params={"registry": "ART"}).json()
    assert {x["value"] for x in f["registry"]} == {
        "VCS",
        "GS",
        "ACR",
        "CAR",
        "ART",
    }  # own filter not applied to its facet
    assert sum(x["count"] for x in f["country"]) == 28  # other facets under registry=ART
    assert {"value": "Jurisdictional REDD+", "count": 28} in f["type"]


def test_events_of_a_project_with_filters(client):
    r = client.get("/api/v1/projects/ART102/events", params={"type": "cancellation"}).json()
    assert r["total"] == 3 and r["quantity"] == 36_100
    r = client.get(
        "/api/v1/projects/ART102/events",
        params={"vintage_min": 2022, "type": ["issuance", "buffer_deposit"], "sort": "quantity"},
    ).json()
    assert [e["quantity"] for e in r["items"]] == sorted(e["quantity"] for e in r["items"]) and {
        e["vintage"] for e in r["items"]
    } == {2022, 2023}
    assert client.get("/api/v1/projects/ART999/events").status_code == 404


def test_credits_ledger_filters(client):
    r = client.get("/api/v1/credits", params={"beneficiary": "hilti", "type": "retirement"}).json()
    gs = pd.read_csv(NATIVE / "gold-standard/retirements.csv")
    hilti = gs[
        gs["Using Entity"].fillna("").str.contains("Hilti", case=False)
        | gs["Note"].fillna("").str.contains("Hilti", case=False)
    ]
    assert (
        r["total"] == len(hilti[hilti["Credit Status"] == "Retired"])
        and r["quantity"] == hilti.loc[hilti["Credit Status"] == "Retired", "Quantity"].sum()
    )
    r = client.get(
        "/api/v1/credits",
        params={"date_from": "2026-04-01", "date_to": "2026-04-30", "quantity_min": 10_000, "limit": 500},
    ).json()
    assert r["total"] > 0 and all(
        "2026-04-01" <= e["event_date"] <= "2026-04-30" and e["quantity"] >= 10_000 for e in r["items"]
    )


def test_stats_endpoints(client):
    s = client.get("/api/v1/stats/summary").json()
    assert s["projects"] == 11_077 and s["events"] == 1051 and s["registries"] == 5
    by_reg = {x["value"]: x for x in client.get("/api/v1/stats/by/registry").json()["items"]}
    assert by_reg["ART"]["projects"] == 28
    years = client.get("/api/v1/stats/by-year", params={"basis": "vintage"}).json()["items"]
    assert all(y["year"] > 1990 for y in years) and sum(y["issued"] for y in years) > 2_000_000_000
    top = client.get("/api/v1/stats/top-projects", params={"metric": "retired_or_cancelled", "limit": 3}).json()[
        "items"
    ]
    assert top[0]["id"] == "VCS1477"
    # by retirements alone: only projects whose retirements are known (VROD states them with cancellations)
    strict = client.get("/api/v1/stats/top-projects", params={"metric": "retired", "limit": 3}).json()["items"]
    assert strict[0]["id"] == "GS12285" and all(x["quantity"] is not None for x in strict)
    ben = client.get("/api/v1/stats/top-beneficiaries").json()["items"]
    assert ben and ben[0]["quantity"] >= ben[-1]["quantity"]
    assert client.get("/api/v1/stats/listings").json()["items"]
    assert (
        client.get("/api/v1/changes", params={"since": "2000-01-01", "kind": "new_project", "limit": 5}).json()["total"]
        == 5
    )


@pytest.mark.parametrize(
    "params,field",
    [
        ({"sort": "password"}, "sort"),
        ({"sort": "-issued; DROP TABLE projects"}, "sort"),
        ({"limit": 100000}, "limit"),
        ({"limit": 0}, "limit"),
        ({"page": -1}, "page"),
        ({"country": "US' OR '1'='1"}, "country"),
        ({"registry": "XYZ"}, "registry.0"),
        ({"issued_min": "lots"}, "issued_min"),
        ({"listed_from": "2024-02-30"}, "listed_from"),
        ({"q": "x" * 500}, "q"),
        ({"nonsense": "1"}, "nonsense"),
    ],
)
def test_bad_parameters_get_422_problem_naming_the_field(client, params, field):
    r = client.get("/api/v1/projects", params=params)
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["status"] == 422 and body["title"] == "Invalid parameter"
    assert field in {e["field"] for e in body["errors"]}


@pytest.mark.parametrize(
    "text",
    ["' OR 1=1 --", "'; DROP TABLE projects; --", "%", "_", "\\", '" OR ""="', "1) UNION SELECT id FROM projects --"],
)
def test_injection_strings_are_just_text(client, text):
    """Each string is searched for literally (LIKE wildcards escaped): whatever matches contains it."""
    for key in ("category", "status", "methodology"):
        r = client.get("/api/v1/projects", params={key: text})
        assert r.status_code == 200 and r.json()["total"] == 0, key
    r = client.get("/api/v1/projects", params={"q": text, "limit": 500})
    assert r.status_code == 200
    for p in r.json()["items"]:
        hay = " ".join(str(p.get(k) or "") for k in ("id", "name", "proponent", "methodologies")).lower()
        assert (
            text.lower() in hay
            or text.lower() in client.get(f"/api/v1/projects/{p['id']}").json().get("methodology_raw", "").lower()
        )
    r = client.get("/api/v1/credits", params={"beneficiary": text, "limit": 500})
    assert r.status_code == 200
    for e in r.json()["items"]:
        assert any(text.lower() in (e.get(k) or "").lower() for k in ("beneficiary", "account", "note"))
    if text == "%":
        assert r.json()["total"] > 0  # "2% retirement as required under ... Article 6" is in a Verra note
    assert client.get("/api/v1/stats/summary").json()["projects"] == 11_077


def test_unknown_project_is_a_problem_document(client):
    r = client.get("/api/v1/projects/VCS99999999")
    assert r.status_code == 404 and r.json()["detail"] == "no project 'VCS99999999'"
    assert client.get("/api/v1/projects/<script>").status_code == 422


def test_exports_are_exactly_the_filtered_view(client):
    want = client.get("/api/v1/credits", params={"registry": "CAR", "type": "retirement", "limit": 1}).json()["total"]
    r = client.get("/api/v1/credits", params={"registry": "CAR", "type": "retirement", "format": "csv"})
    assert (
        r.status_code == 200
        and r.headers["content-type"].startswith("text/csv")
        and "attachment" in r.headers["content-disposition"]
    )
    df = pd.read_csv(io.StringIO(r.text))
    assert len(df) == want == 100 and set(df["type"]) == {"retirement"} and set(df["registry"]) == {"CAR"}
    pq_bytes = client.get("/api/v1/projects", params={"registry": "ART", "format": "parquet"}).content
    table = pq.read_table(io.BytesIO(pq_bytes))
    assert table.num_rows == 28 and table.schema.field("issued").type == "int64"
    from openpyxl import load_workbook

    wb = load_workbook(
        io.BytesIO(client.get("/api/v1/projects", params={"registry": "ART", "format": "xlsx"}).content), read_only=True
    )
    rows = list(wb.active.iter_rows(values_only=True))
    assert rows[0][0] == "id" and len(rows) == 29


def test_cache_etag_and_invalidation_by_ingest(engine, tmp_path):
    from fastapi.testclient import TestClient

    from carbonscope.ingest import ingest
    from carbonscope.web.app import create_app
    from tests.web.conftest import app_settings

    ingest([NATIVE / "art-trees"], engine)
    app = create_app(app_settings(engine.url.render_as_string(hide_password=False), tmp_path))
    with TestClient(app) as c:
        first = c.get("/api/v1/stats/summary")
        assert first.headers["x-cache"] == "miss" and first.headers["cache-control"].startswith("public")
        second = c.get("/api/v1/stats/summary")
        assert second.headers["x-cache"] == "hit" and second.json() == first.json()
        assert c.get("/api/v1/stats/summary", headers={"If-None-Match": first.headers["etag"]}).status_code == 304
        # a new snapshot makes the old entries unreachable (the version is re-read once bumped)
        ingest([NATIVE / "gold-standard"], engine)
        app.state.version.bump()
        third = c.get("/api/v1/stats/summary")
        assert third.headers["x-cache"] == "miss" and third.json()["projects"] > first.json()["projects"] == 28


def test_gzip_for_large_responses(client):
    r = client.get("/api/v1/projects", params={"limit": 200}, headers={"Accept-Encoding": "gzip"})
    assert r.headers.get("content-encoding") == "gzip"


def test_rate_limit_per_client(loaded_url, tmp_path):
    from fastapi.testclient import TestClient

    from carbonscope.web.app import create_app
    from tests.web.conftest import app_settings

    with TestClient(create_app(app_settings(loaded_url, tmp_path, rate_limit_per_minute=30))) as c:
        codes = [c.get("/api/v1/projects/facets").status_code for _ in range(12)]
    assert codes[:10] == [200] * 10 and codes[-1] == 429


def test_openapi_documents_the_api(client):
    spec = client.get("/api/v1/openapi.json").json()
    assert {
        "/api/v1/projects",
        "/api/v1/projects/{project_id}",
        "/api/v1/projects/{project_id}/events",
        "/api/v1/credits",
        "/api/v1/changes",
    } <= set(spec["paths"])
    params = {p["name"] for p in spec["paths"]["/api/v1/projects"]["get"]["parameters"]}
    assert {"registry", "country", "category", "status", "q", "sort", "limit", "page", "format"} <= params
    assert client.get("/api/docs").status_code == 200
