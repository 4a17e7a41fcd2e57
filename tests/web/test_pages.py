"""HTML pages without a browser: content, escaping, empty database, errors."""

import re

from fastapi.testclient import TestClient

from carbonscope.web.app import create_app
from tests.web.conftest import app_settings

HTML = {"Accept": "text/html"}


def test_pages_render_with_data(client):
    home = client.get("/", headers=HTML)
    assert home.status_code == 200 and 'id="kpi-projects">11,077<' in home.text
    assert 'data-chart="by_year"' in home.text and "/static/vendor/chart.umd.min.js" in home.text
    projects = client.get("/projects", params={"registry": "ART", "sort": "-retired"}, headers=HTML)
    assert projects.status_code == 200 and '<span id="total">28</span>' in projects.text
    assert "format=csv" in projects.text and "registry=ART" in projects.text
    page = client.get("/projects/ART102", headers=HTML)
    assert page.status_code == 200 and "Guyana" in page.text and "ART TREES programs report, row 16" in page.text
    assert 'id="map-data"' in page.text and "https://art.apx.com/mymodule/reg/prjView.asp?id1=102" in page.text
    for path in ("/credits?type=retirement", "/stats", "/data", "/api/docs"):
        r = client.get(path, headers=HTML)
        assert r.status_code == 200, path
    assert "retired exceeds issued" in client.get("/data", headers=HTML).text


def test_no_cdn_anywhere(client):
    for path in ("/", "/projects", "/projects/ART102", "/stats", "/api/docs"):
        text = client.get(path, headers=HTML).text
        srcs = re.findall(r'(?:src|href)="([^"]+)"', text)
        external = [
            s
            for s in srcs
            if s.startswith(("http://", "https://", "//")) and "apx.com" not in s and "verra.org" not in s
        ]
        assert external == [], (path, external)


def test_user_input_is_escaped(client):
    evil = '"><script>alert(1)</script>'
    r = client.get("/projects", params={"q": evil}, headers=HTML)
    assert r.status_code == 200
    assert "<script>alert(1)</script>" not in r.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text
    r = client.get("/credits", params={"beneficiary": evil}, headers=HTML)
    assert "<script>alert(1)</script>" not in r.text


def test_security_headers(client):
    r = client.get("/", headers=HTML)
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff" and r.headers["x-frame-options"] == "DENY"


def test_a_bad_filter_keeps_the_page_says_what_is_allowed_and_applies_the_rest(client):
    import re

    def total(r):
        return int(re.search(r'<span id="total">([\d,]+)</span>', r.text).group(1).replace(",", ""))

    kenya = client.get("/projects", params={"country": "KE"}, headers=HTML)
    r = client.get("/projects", params=[("registry", "NOPE"), ("country", "KE")], headers=HTML)
    assert r.status_code == 422 and 'id="filter-problems"' in r.text and total(r) == total(kenya) > 0
    assert "Registry “NOPE” is not one of the registries here: choose Verra (VCS)" in r.text
    # a country's name is taken for its code
    named = client.get("/projects", params={"country": "Kenya"}, headers=HTML)
    assert named.status_code == 200 and total(named) == total(kenya)
    r = client.get("/projects", params={"country": "Narnia"}, headers=HTML)
    assert r.status_code == 422 and "Country “Narnia” is not a country name or two-letter ISO code we know" in r.text
    r = client.get("/projects", params={"sort": "bogus"}, headers=HTML)
    assert r.status_code == 422 and "Sort “bogus” is not a column of this list" in r.text and total(r) > 1000
    r = client.get("/credits", params=[("type", "gift"), ("registry", "GS")], headers=HTML)
    assert r.status_code == 422 and 'id="filter-problems"' in r.text and "“gift”" in r.text
    # the API stays strict: a bad value is a 422 naming the field
    assert client.get("/api/v1/projects", params={"registry": "NOPE"}).status_code == 422
    r = client.get("/projects/VCS0000000001", headers=HTML)
    assert r.status_code == 404 and "no project" in r.text


def test_a_misspelt_search_suggests_the_name_it_resembles(client):
    r = client.get("/projects", params={"q": "Kasigua"}, headers=HTML)
    assert "No project matches" in r.text and 'Did you mean <a href="?q=kasigau">kasigau</a>?' in r.text
    assert "VCS612" in client.get("/projects", params={"q": "kasigau"}, headers=HTML).text
    assert 'id="suggestion"' not in client.get("/projects", params={"q": "zzzzqqqq"}, headers=HTML).text


def test_empty_database_says_how_to_load_data(tmp_path):
    with TestClient(create_app(app_settings(f"sqlite:///{tmp_path / 'empty.db'}", tmp_path))) as c:
        for path in ("/", "/projects", "/credits", "/stats"):
            r = c.get(path, headers=HTML)
            assert r.status_code == 200 and "carbonscope refresh" in r.text and "carbonscope ingest PATH" in r.text, (
                path
            )
        assert c.get("/api/v1/projects").json()["total"] == 0


def test_project_page_says_which_rule_chose_each_total(client):
    page = client.get("/projects/ACR212").text
    assert "not the whole story" in page
    assert "Issued: as stated by the Berkeley VROD PROJECTS sheet (row " in page
    assert "because the events loaded hold only 0" in page
    assert "Retired and cancelled are not stated apart" in page and "not stated apart" in page
    full = client.get("/projects/ART102").text
    assert (
        "Every total is the sum of the credit events listed below" in full and "Issued: the sum of the events" in full
    )


def test_the_page_of_a_project_whose_totals_are_stated_without_events(client):
    """VCS1477's totals come from a statement with no events loaded for them: the page says so."""
    r = client.get("/projects/VCS1477")
    assert r.status_code == 200, r.text[:300]
    assert "as stated by" in r.text and "which gives no events" in r.text
    r = client.get("/projects/ACR102")
    assert r.status_code == 200 and "as stated by the Berkeley VROD PROJECTS sheet" in r.text


def test_an_exact_id_in_search_opens_the_project_and_a_page_past_the_last_says_so(client):
    r = client.get("/projects", params={"q": "vcs 612"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/projects/VCS612"
    assert client.get("/projects", params={"q": "VCS612"}).url.path == "/projects/VCS612"
    # with other filters it stays a search; an ID that is not loaded, or a word, is searched for
    kept = client.get("/projects", params={"q": "VCS612", "registry": "VCS"}, follow_redirects=False)
    assert kept.status_code == 200 and "VCS612" in kept.text
    assert client.get("/projects", params={"q": "VCS999999999"}, follow_redirects=False).status_code == 200
    assert client.get("/projects", params={"q": "Kasigau"}, follow_redirects=False).status_code == 200
    past = client.get("/projects", params={"registry": "ART", "page": 999}).text
    pages = int(re.search(r"fill (\d+) pages?", past).group(1))
    assert "This page is past the last one" in past and f"page={pages}" in past
    none = client.get("/projects", params={"q": "no-such-project-anywhere"}).text
    assert "No project matches these filters" in none and 'href="/projects">Clear all filters' in none


def test_the_explorer_shows_the_views_totals_its_filters_as_chips_and_charts(client, loaded_engine):
    import json
    import re

    from sqlalchemy import func, select

    from carbonscope.db.schema import projects

    r = client.get("/projects", params=[("registry", "VCS"), ("country", "KE")], headers=HTML)
    p = projects.c
    with loaded_engine.connect() as conn:
        issued, retired, n, with_credits = conn.execute(
            select(
                func.sum(p.issued), func.sum(p.retired_or_cancelled), func.count(), func.count().filter(p.issued > 0)
            ).where(p.registry == "VCS", p.country == "KE")
        ).one()
    totals = re.search(r'id="view-totals".*?</section>', r.text, re.S).group(0)
    assert f'<span class="n-full">{issued:,}</span>' in totals and f'<span class="n-full">{retired:,}</span>' in totals
    chips = re.search(r'id="active-filters".*?</p>', r.text, re.S).group(0)
    assert "Registry: VCS" in chips and "Country: Kenya" in chips
    assert 'href="?country=KE"' in chips and 'href="?registry=VCS"' in chips  # each chip removes itself
    chart = json.loads(re.search(r'id="chart-data">(.*?)</script>', r.text, re.S).group(1))
    cats = chart["view_categories"]
    assert cats["unit"] == "credits (tCO2e)" and "Forestry & land use" in cats["labels"]
    assert sum(next(s for s in cats["series"] if s["key"] == "issued")["values"]) == issued
    listed = chart["view_listed"]
    assert listed["unit"] == "projects listed"
    assert sum(listed["series"][0]["values"]) + int(re.search(r"(\d+) projects have no date", r.text).group(1)) == n
    assert r.text.count('<meter class="used"') == min(with_credits, 50)  # a retired-of-issued bar per row with credits
