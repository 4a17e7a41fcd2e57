"""The analysis journeys in headless Chromium: draw an area, start a job, watch it reach 100%, read
the results; see the biomass tiles drawn; run an analysis on a proposal and find its card."""

from __future__ import annotations

import json
import os

import pytest

from tests.analyses.conftest import JUU, MTQ, PARAMS, make_lab
from tests.conftest import password_of
from tests.web.test_browser import CHROMIUM, shot

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian chromium is not installed"),
]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    with make_lab(tmp_path_factory.mktemp("analyses-browser"), "sqlite", "embedded", served=True) as lab:
        yield lab


def _sign_in(page, base: str) -> None:
    page.goto(base + "/account/login")
    page.fill("input[name=email]", "ana@example.org")
    page.fill("input[name=password]", password_of("Ana"))
    page.click("form.stack button[type=submit]")
    page.wait_for_url(base + "/")


def test_draw_an_area_start_a_baseline_and_read_the_results(site, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    _sign_in(page, site.base)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(site.base + "/analyses/new")
    page.wait_for_selector("#draw-map .leaflet-draw-draw-rectangle")
    wide = page.evaluate(
        "[...document.querySelectorAll('main *')].filter(e => e.getBoundingClientRect().right > 391)"
        ".map(e => e.tagName + '.' + e.className + '[' + (e.name || '') + ']').slice(0, 6)"
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, wide
    shot(page, site.tmp, "analyse-form-phone")
    page.set_viewport_size({"width": 1366, "height": 900})
    shot(page, site.tmp, "analyse-form-desktop")
    page.evaluate("document.getElementById('draw-map').csMap.setView([14.66, -61.03], 12)")
    page.click(".leaflet-draw-draw-rectangle")
    box = page.locator("#draw-map").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x - 100, y - 80)
    page.mouse.down()
    page.mouse.move(x + 100, y + 80, steps=8)
    page.mouse.up()
    page.wait_for_selector("#draw-map[data-drawn=true]")
    assert "Area drawn: about" in page.inner_text("#drawn-area")
    assert json.loads(page.input_value("#boundary-geojson"))["type"] == "Polygon"
    page.check("input[name=recipe][value=redd-baseline]")
    assert page.is_hidden(".layer-row[data-role=hh]") and page.is_visible(".layer-row[data-role=forest]")
    page.select_option("select[name='layer.forest']", "martinique-forest")
    page.fill("input[name='param.agb_t_ha']", "220")
    page.click("button[value=check]")  # what it will read, before starting
    page.wait_for_load_state()
    assert page.locator("#plan, .form-error").count(), page.inner_text("main")
    assert page.locator(".form-error").count() == 0, page.inner_text(".form-error")
    assert "Forest / non-forest of Martinique" in page.inner_text("#plan")
    page.click("button[value=start]")
    page.wait_for_url("**/analyses/*")
    page.wait_for_selector("#job-status:text-is('Finished')", timeout=180_000)
    assert page.inner_text("#job-percent") == "100"
    page.wait_for_selector("canvas#baseline-chart[data-drawn=true]")
    text = page.inner_text("main").lower()
    assert "forest lost" in text and "credits a year (expected)" in text and "in plain words" in text, text

    assert "_" not in page.inner_text("table.plain")  # assumptions in words, no parameter names
    shot(page, site.tmp, "analysis-desktop")
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(500)  # the chart redraws at the new width when the browser reports it
    wide = page.evaluate(
        "[...document.querySelectorAll('main *')].filter(e => e.getBoundingClientRect().right > 391)"
        ".map(e => e.tagName + '.' + e.className + '#' + e.id).slice(0, 8)"
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, wide
    shot(page, site.tmp, "analysis-phone")
    assert errors == []


def test_forest_carbon_results_draw_the_biomass_tiles(site, browser):
    import rasterio
    from rasterio.warp import transform_bounds
    from shapely.geometry import box, mapping

    with rasterio.open(JUU / "PALSAR-2_HH_Juupajoki.tif") as src:
        w, s, e, n = transform_bounds(src.crs, 4326, *src.bounds)
    cx, cy = (w + e) / 2, (s + n) / 2
    area = mapping(box(cx - 0.05, cy - 0.03, cx + 0.05, cy + 0.03))
    r = site.client.post(
        "/api/v1/analyses",
        headers=site.auth("ana"),
        json={
            "recipe": "forest-carbon",
            "boundary": area,
            "layers": {"hh": "juupajoki-hh", "hv": "juupajoki-hv", "plots": "juupajoki-plots"},
            "params": {"root_shoot": "ipcc2006:boreal"},
        },
    )
    assert r.status_code == 202, r.text
    aid = r.json()["id"]
    assert site.wait(aid)["status"] == "succeeded"
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    _sign_in(page, site.base)
    page.goto(f"{site.base}/analyses/{aid}")
    page.wait_for_selector("#result-map[data-tiles]")
    page.wait_for_selector("#result-map img.leaflet-tile-loaded[src*='/tiles/agb/']")
    coloured = page.evaluate(
        """() => {
          const img = [...document.querySelectorAll('#result-map img.leaflet-tile-loaded')]
            .find(i => i.src.includes('/tiles/agb/'));
          const c = document.createElement('canvas'); c.width = img.naturalWidth; c.height = img.naturalHeight;
          const g = c.getContext('2d'); g.drawImage(img, 0, 0);
          const d = g.getImageData(0, 0, c.width, c.height).data; let n = 0;
          for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
          return n;
        }"""
    )
    assert coloured > 1000
    # and a person sees them: the map on screen holds the ramp's colours (not only the land's grey-green)
    import io

    import numpy as np
    from PIL import Image

    seen = np.asarray(Image.open(io.BytesIO(page.locator("#result-map").screenshot())).convert("RGB")).astype(int)
    land = np.array([0xEE, 0xF1, 0xEC])
    painted = (np.abs(seen - land).sum(axis=2) > 60) & (seen.std(axis=2) > 20)
    assert painted.mean() > 0.05, painted.mean()
    page.check("#aoa-toggle")
    page.wait_for_selector("#result-map img.leaflet-tile-loaded[src*='/tiles/aoa/']")
    assert "tonnes per hectare" in page.inner_text(".legend")
    shot(page, site.tmp, "forest-carbon")


def test_a_proposals_owner_analyses_its_boundary_and_the_card_shows_it(site, browser):
    c, h = site.client, site.auth("ana")
    pid = c.post(
        "/api/v1/proposals", headers=h, json={"name": "Caravelle forest", "country": "MQ", "project_type": "REDD+"}
    ).json()["id"]
    with open(MTQ / "project_borders_MTQ_jurisdiction.gpkg", "rb") as fh:
        assert (
            c.put(f"/api/v1/proposals/{pid}/boundary", headers=h, files={"file": ("site.gpkg", fh)}).status_code == 200
        )
    page = browser.new_page(viewport={"width": 390, "height": 844})
    _sign_in(page, site.base)
    page.goto(f"{site.base}/proposals/{pid}")
    page.click("#analyse-proposal")
    page.wait_for_selector("#draw-map path.leaflet-interactive")  # the proposal's boundary, on the map
    page.select_option("select[name='layer.forest']", "martinique-forest")
    page.select_option("select[name='layer.jurisdiction']", "martinique-jurisdiction")
    for k, v in PARAMS.items():
        if page.locator(f"input[name='param.{k}']").count():
            page.fill(f"input[name='param.{k}']", str(v))
    page.click("button[value=start]")
    page.wait_for_url("**/analyses/*")
    page.wait_for_selector("#job-status:text-is('Finished')", timeout=180_000)
    page.click("text=Publish (anyone can see it)")
    page.goto(f"{site.base}/proposals/{pid}")
    card = page.inner_text("#analysis-card")
    assert "expected credits a year" in card.lower() and "1,151 t CO2e" in card  # as the API run above
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, site.tmp, "proposal-card-phone")
