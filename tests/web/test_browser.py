"""Journeys in headless Chromium (Debian's chromium, driven by Playwright; no browser download).

Screenshots of every page are saved under the test's tmp folder for a person to look at.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM),
        reason="Debian chromium is not installed (scripts/test.sh installs it when run as root)",
    ),
]
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The app on a real socket, over the real data (SQLite)."""
    from carbonscope.db.engine import make_engine
    from carbonscope.db.migrate import upgrade
    from carbonscope.ingest import ingest
    from carbonscope.web.app import create_app
    from tests.conftest import REGISTRY_DATA
    from tests.web.conftest import app_settings, serve

    tmp = tmp_path_factory.mktemp("browser")
    url = f"sqlite:///{tmp / 'hub.db'}"
    engine = make_engine(url)
    upgrade(engine)
    ingest([REGISTRY_DATA], engine)
    from carbonscope.news import store
    from tests.news.test_news import all_items

    with engine.begin() as tx:
        store.save(tx, all_items())
    engine.dispose()
    with serve(create_app(app_settings(url, tmp))) as base:
        yield base, tmp


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    pg.errors = []
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    pg.on("console", lambda m: pg.errors.append(m.text) if m.type == "error" else None)
    pg.on("requestfailed", lambda r: pg.errors.append(f"failed {r.url}"))
    yield pg
    context.close()


def shot(page, tmp: Path, name: str) -> Path:
    path = tmp / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000
    return path


def test_search_filter_sort_and_open_a_project(site, page):
    base, tmp = site
    page.goto(base + "/")
    page.wait_for_selector("canvas[data-chart=by_year][data-drawn=true]")
    shot(page, tmp, "home")
    page.fill(".hero-search input[name=q]", "Guyana")
    page.click(".hero-search button")
    page.wait_for_url("**/projects?q=Guyana")
    assert page.inner_text("#total") == "1"
    # Filter by registry with the sidebar: the box submits the form by itself, the URL keeps the state
    page.goto(base + "/projects")
    page.check("fieldset[data-facet=registry] input[value=ART]")
    page.wait_for_url("**registry=ART**")
    assert page.inner_text("#total") == "28"
    registries = page.locator("#projects-table tbody tr td:nth-child(3)").all_inner_texts()
    assert set(registries) == {"ART"}

    # Sort by retired through the column header: largest first, then smallest on a second click
    def retired_column():
        return [
            int(t.replace(",", "").replace("–", "0"))
            for t in page.locator("#projects-table tbody td:nth-child(8)").all_inner_texts()
        ]

    page.click("#projects-table th >> text=Retired")
    page.wait_for_url("**sort=-retired**")
    assert retired_column() == sorted(retired_column(), reverse=True)
    page.click("#projects-table th >> text=Retired")
    page.wait_for_url("**sort=retired**")
    assert retired_column() == sorted(retired_column())
    page.click("#projects-table th >> text=Retired")
    page.wait_for_url("**sort=-retired**")
    shared = page.url
    shot(page, tmp, "projects-filtered")
    # The URL is the view: opening it elsewhere shows the same thing
    page.goto(shared)
    assert page.inner_text("#total") == "28" and page.is_checked("fieldset[data-facet=registry] input[value=ART]")
    page.click("#projects-table a >> text=ART102")
    page.wait_for_url("**/projects/ART102")
    page.wait_for_selector("canvas[data-chart=project_year][data-drawn=true]")
    page.wait_for_selector("#map[data-drawn=true]")
    assert page.get_attribute("#map", "data-highlighted") == "1"
    assert page.inner_text("[data-total=issued]") == "58,433,813"
    shot(page, tmp, "project-ART102")
    assert page.errors == []


def test_credits_stats_and_data_pages(site, page):
    base, tmp = site
    page.goto(base + "/credits?type=retirement&registry=GS")
    total = int(page.inner_text("#total").replace(",", ""))
    assert total == 94
    shot(page, tmp, "credits")
    page.goto(base + "/stats")
    page.wait_for_selector("#map[data-drawn=true]")
    assert int(page.get_attribute("#map", "data-highlighted")) > 100  # countries with issued credits on the choropleth
    for chart in ("by_year", "by_vintage", "by_registry", "listings"):
        page.wait_for_selector(f"canvas[data-chart={chart}][data-drawn=true]")
    shot(page, tmp, "stats")
    page.goto(base + "/data")
    assert "retired exceeds issued" in page.inner_text("#findings-summary")
    shot(page, tmp, "data")
    page.goto(base + "/api/docs")
    page.wait_for_selector("text=CarbonScope API")
    assert page.errors == []


def test_export_link_downloads_the_view(site, page):
    base, _ = site
    page.goto(base + "/projects?registry=ART")
    with page.expect_download() as dl:
        page.click(".exports >> text=CSV")
    path = dl.value.path()
    lines = Path(path).read_text().strip().splitlines()
    assert lines[0].startswith("id,registry,name") and len(lines) == 29


def test_phone_width(site, browser):
    base, tmp = site
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    pg = context.new_page()
    pg.goto(base + "/projects/ART102")
    assert pg.is_visible(".nav-burger") and not pg.is_visible("header nav")
    pg.click(".nav-burger")
    assert pg.is_visible("header nav a >> text=Statistics")
    width = pg.evaluate("document.documentElement.scrollWidth")
    assert width <= 400, f"page is {width}px wide on a 390px phone"
    shot(pg, tmp, "phone-project")
    # the projects table keeps its key numbers on a phone's screen; registry and country go under the name
    pg.goto(base + "/projects?registry=ART")
    for header in ("Issued", "Retired or cancelled"):
        box = pg.locator(f"#projects-table th >> text={header}").bounding_box()
        assert box and box["x"] + box["width"] <= 390, (header, box)
    assert not pg.is_visible("#projects-table th >> text=Country")
    assert pg.locator("#projects-table tbody .phone-meta").first.inner_text().startswith("ART")  # ID · registry · ...
    pg.goto(base + "/projects?country=BR")  # long names must not push the numbers off either
    box = pg.locator("#projects-table th >> text=Retired or cancelled").bounding_box()
    assert box and box["x"] + box["width"] <= 390, box
    # the explorers fold their filters behind one button that counts them: results come first
    for path, label in (("/projects?registry=ART", "Filters (1)"), ("/credits", "Filters"), ("/news", "Filters")):
        pg.goto(base + path)
        assert pg.is_visible(".filters-button") and pg.inner_text(".filters-button").strip() == label, path
        assert not pg.is_visible(".filters form"), path
        pg.click(".filters-button")
        assert pg.is_visible(".filters form"), path
        assert pg.evaluate("document.documentElement.scrollWidth") <= 400, path
    shot(pg, tmp, "phone-filters-open")
    context.close()
    wide = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
    wide.goto(base + "/projects?registry=ART")
    assert wide.is_visible("#filter-form") and not wide.is_visible(".filters-button")  # open on a desktop
    for path in ("/projects", "/projects?country=BR"):  # every column fits at 1366 px, Remaining included
        wide.goto(base + path)
        last = wide.locator("#projects-table th >> text=Remaining").bounding_box()
        frame = wide.locator(".table-wrap").bounding_box()
        assert last["x"] + last["width"] <= frame["x"] + frame["width"] + 1, path
    wide.context.close()


# What a page must not show a person: a data structure, a raw column name, a slug of a source
INTERNALS = re.compile(r"[{}]|_raw\b|\bStatus Raw\b|\bvrod/|offsetsdb/|american-carbon-registry|forestry-land-use")
PLAIN_PAGES = ("/", "/projects", "/projects/VCS612", "/projects/VCS934", "/projects/ART102", "/credits", "/stats",
               "/data", "/news", "/proposals")  # fmt: skip


@pytest.mark.parametrize("width", [390, 1366])
def test_pages_read_in_plain_words_at_phone_and_desktop_width(site, browser, width):
    """No element sticks out of the viewport (tables scroll inside their own frame), no internals in
    the visible text, every chart drawn with its unit on the axis."""
    base, tmp = site
    context = browser.new_context(viewport={"width": width, "height": 900}, is_mobile=width < 600)
    pg = context.new_page()
    errors = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    for path in PLAIN_PAGES:
        pg.goto(base + path)
        pg.wait_for_load_state("networkidle")
        assert pg.evaluate("document.documentElement.scrollWidth") <= width, path
        sticking_out = pg.evaluate(
            """(vw) => [...document.querySelectorAll('main *, body > *')].filter(e => {
                 if (e.closest('.table-wrap, .leaflet-container, .chart-box')) return false;
                 const r = e.getBoundingClientRect();
                 return r.width > 0 && r.right > vw + 1;
               }).map(e => e.tagName + '.' + e.className).slice(0, 5)""",
            width,
        )
        assert sticking_out == [], (path, sticking_out)
        text = pg.inner_text("body")
        assert not INTERNALS.search(text), (path, INTERNALS.search(text).group(0))
        for canvas in pg.locator("canvas[data-chart]").all():
            name = canvas.get_attribute("data-chart")
            pg.wait_for_selector(f"canvas[data-chart={name}][data-drawn=true]", state="attached")  # folded on a phone
            if name != "news_weekly":
                assert canvas.get_attribute("data-unit") in ("credits (tCO2e)", "projects listed"), (path, name)
        shot(pg, tmp, f"plain-{width}-{path.strip('/').replace('/', '-') or 'home'}")
    assert errors == []
    context.close()
