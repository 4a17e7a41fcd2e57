import io
import json
import zipfile

import geopandas as gpd
import pytest

from carbonscope.community import boundaries, documents, proposals
from carbonscope.errors import InvalidField, NotFoundError, PermissionDenied
from tests.conftest import SHARED

MTQ_PROJECT = SHARED / "redd" / "martinique" / "project_borders_MTQ_jurisdiction.gpkg"
MAX = 5 * 1024 * 1024


def test_only_the_owner_edits_and_withdraws_and_history_is_kept(engine, people):
    ana, ben, admin = people
    with engine.begin() as tx:
        pid = proposals.create(
            tx,
            ana,
            {
                "name": "Rupununi Forest Guardians",
                "country": "Guyana",
                "project_type": "REDD+",
                "expected_annual": "12,000",
            },
        )
        doc = proposals.get(tx, pid)
    assert (doc["country"], doc["project_type"], doc["category"], doc["expected_annual"]) == (
        "GY",
        "REDD+",
        "forestry-land-use",
        12000,
    )
    for action in (
        lambda tx: proposals.update_fields(tx, ben, pid, {"name": "Mine now"}),
        lambda tx: proposals.withdraw(tx, ben, pid),
    ):
        with pytest.raises(PermissionDenied), engine.begin() as tx:
            action(tx)
    with engine.begin() as tx:
        changes = proposals.update_fields(
            tx,
            ana,
            pid,
            {"name": "Rupununi Forest Guardians II", "links": "https://example.org/a https://example.org/b"},
        )
        proposals.withdraw(tx, ana, pid)
        history = proposals.revisions(tx, pid)
    assert changes["name"] == ["Rupununi Forest Guardians", "Rupununi Forest Guardians II"]
    assert [h["action"] for h in history] == ["withdrawn", "edited", "created"]
    with pytest.raises(PermissionDenied, match="withdrawn"), engine.begin() as tx:
        proposals.update_fields(tx, ana, pid, {"name": "Again"})


def test_field_validation_names_the_field(engine, people):
    ana = people[0]
    for data, field in [
        ({"name": "x"}, "name"),
        ({"name": "Fine name", "country": "Atlantis"}, "country"),
        ({"name": "Fine name", "expected_annual": "-5"}, "expected_annual"),
        ({"name": "Fine name", "links": ["javascript:alert(1)"]}, "links"),
        ({"name": "Fine name", "owner_id": 3}, "owner_id"),
        ({}, "name"),
    ]:
        with pytest.raises(InvalidField) as exc, engine.begin() as tx:
            proposals.create(tx, ana, data)
        assert exc.value.field == field


def test_hide_and_link(engine, people):
    from carbonscope.ingest import ingest
    from tests.conftest import NATIVE

    ingest([NATIVE / "art-trees"], engine)
    ana, ben, admin = people
    with engine.begin() as tx:
        pid = proposals.create(tx, ana, {"name": "Guyana forest plan"})
        with pytest.raises(InvalidField):
            proposals.link(tx, ana, pid, "ART999")
        proposals.link(tx, ana, pid, "ART102")
        proposals.set_hidden(tx, admin, pid, True)
    with engine.connect() as conn:
        with pytest.raises(NotFoundError):
            proposals.get(conn, pid, ben)  # hidden from others
        assert proposals.get(conn, pid, ana)["linked_project_id"] == "ART102"  # the owner still sees it
        assert proposals.search(conn)["total"] == 0


def test_geopackage_boundary_in_another_crs_is_reprojected_to_wgs84(tmp_path):
    """The real Martinique project polygon, saved in EPSG:5490 (UTM 20N, RRAF 1991)."""
    src = gpd.read_file(MTQ_PROJECT)
    path = tmp_path / "site.gpkg"
    src.to_crs(5490).to_file(path, driver="GPKG")
    b = boundaries.read("site.gpkg", path.read_bytes(), MAX)
    assert b.source_crs == "EPSG:5490" and b.features == 1 and b.geometry["type"] == "Polygon"
    expected_ha = src.to_crs(32620).area.sum() / 10_000  # 2,364.9 ha in UTM 20N
    assert abs(b.area_ha - expected_ha) / expected_ha < 0.003
    lon, lat = b.geometry["coordinates"][0][0]
    assert -61.1 < lon < -61.0 and 14.78 < lat < 14.84
    assert src.geometry.iloc[0].contains(__import__("shapely").geometry.Point(b.centroid_lon, b.centroid_lat))


def _geojson(geometry) -> bytes:
    return json.dumps(
        {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, "geometry": geometry}]}
    ).encode()


@pytest.mark.parametrize(
    "name,data,message",
    [
        ("site.shp", b"whatever", "GeoJSON (.geojson) or GeoPackage"),
        ("site.geojson", b"", "is empty"),
        ("site.geojson", b"{not json", "not valid GeoJSON"),
        (
            "site.geojson",
            _geojson({"type": "Point", "coordinates": [1, 2]}),
            "a Point; a site boundary must be a polygon",
        ),
        (
            "site.geojson",
            _geojson({"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}),
            "invalid polygon (Self-intersection",
        ),
        (
            "site.geojson",
            _geojson(
                {
                    "type": "Polygon",
                    "coordinates": [[[500000, 1600000], [510000, 1600000], [510000, 1610000], [500000, 1600000]]],
                }
            ),
            "outside the globe",
        ),
        ("site.gpkg", b"not sqlite at all", "not a GeoPackage"),
        ("site.geojson", b"{" + b" " * (MAX + 1) + b"}", "the limit is"),
    ],
)
def test_bad_boundaries_are_refused_with_the_reason(name, data, message):
    with pytest.raises(InvalidField) as exc:
        boundaries.read(name, data, MAX)
    assert exc.value.field == "boundary" and message in exc.value.message


def test_documents_checked_by_content_and_size(tmp_path):
    pdf = b"%PDF-1.7\n1 0 obj\n"
    name, ctype, sha = documents.check("../../etc/Plan <v1>.pdf", pdf, 1000)
    assert name == "Plan _v1_.pdf" and ctype == "application/pdf" and len(sha) == 64
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("word/document.xml", "<w/>")
    assert documents.check("plan.docx", buf.getvalue(), 10_000)[1].endswith("wordprocessingml.document")
    for fname, data, msg in [
        ("evil.exe", b"MZ\x90", "allowed types"),
        ("fake.pdf", b"<html><script>", "not a PDF"),
        ("big.pdf", b"%PDF-" + b"0" * 2000, "the limit is"),
        ("bin.txt", b"\x00\x01", "not a TXT"),
        ("x.xlsx", buf.getvalue(), "not a XLSX"),
        ("empty.csv", b"", "is empty"),
    ]:
        with pytest.raises(InvalidField, match=msg):
            documents.check(fname, data, 1000 if fname == "big.pdf" else 100_000)
    path = documents.store(tmp_path, sha, pdf)
    assert path.read_bytes() == pdf and documents.stored_path(tmp_path, sha) == path
    with pytest.raises(InvalidField):
        documents.stored_path(tmp_path, "../../etc/passwd")


def _gpkg_with(tmp_path, sql: str, name: str) -> bytes:
    import sqlite3

    path = tmp_path / name
    gpd.read_file(MTQ_PROJECT).to_file(path, driver="GPKG")
    con = sqlite3.connect(path)
    con.executescript(sql)
    con.commit()
    con.close()
    return path.read_bytes()


def test_a_geopackage_that_runs_its_own_sql_is_refused_before_gdal_opens_it(tmp_path):
    # A view over a recursive query kept a worker busy for as long as its author liked
    view = _gpkg_with(
        tmp_path,
        """
        CREATE VIEW slow AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100000000) SELECT x AS fid, NULL AS geom FROM c;
        INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id) VALUES ('slow', 'features', 'slow', 4326);
    """,
        "view.gpkg",
    )
    with pytest.raises(InvalidField, match="holds a view .'slow'."):
        boundaries.read("site.gpkg", view, MAX)
    trigger = _gpkg_with(
        tmp_path, "CREATE TABLE t (a); CREATE TRIGGER evil AFTER INSERT ON t BEGIN SELECT 1; END;", "trigger.gpkg"
    )
    with pytest.raises(InvalidField, match="holds a trigger .'evil'."):
        boundaries.read("site.gpkg", trigger, MAX)
    # GDAL's own spatial-index triggers are fine (the reprojection test above reads such a file)


def test_geojson_nested_too_deeply_or_with_an_unknown_crs_is_refused(tmp_path):
    deep = b"[" * 100_000 + b"]" * 100_000
    with pytest.raises(InvalidField, match="nested 100,001 levels deep"):
        boundaries.read("site.geojson", b'{"type": "FeatureCollection", "features": ' + deep + b"}", 10 * MAX)
    square = {"type": "Polygon", "coordinates": [[[-61.05, 14.8], [-61.04, 14.8], [-61.04, 14.81], [-61.05, 14.8]]]}
    for name in ("EPSG:999999", "not a crs"):
        doc = json.loads(_geojson(square))
        doc["crs"] = {"type": "name", "properties": {"name": name}}
        with pytest.raises(InvalidField, match="unknown CRS"):
            boundaries.read("site.geojson", json.dumps(doc).encode(), MAX)
    doc["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}
    assert boundaries.read("site.geojson", json.dumps(doc).encode(), MAX).features == 1
