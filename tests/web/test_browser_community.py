"""The community journeys in headless Chromium: register, sign in, propose a project with its
boundary file, see it on the map and in search, comment, support, watch, and get the alert after
an ingest."""

from __future__ import annotations

import os
import shutil

import geopandas as gpd
import pandas as pd
import pytest

from tests.conftest import NATIVE, SHARED, mailed_link
from tests.web.conftest import app_settings, serve
from tests.web.test_browser import CHROMIUM, shot

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian chromium is not installed"),
]


@pytest.fixture(scope="module")
def community_site(tmp_path_factory):
    from carbonscope.db.engine import make_engine
    from carbonscope.db.migrate import upgrade
    from carbonscope.ingest import ingest
    from carbonscope.web.app import create_app
    from tests.web.conftest import app_settings

    tmp = tmp_path_factory.mktemp("community")
    url = f"sqlite:///{tmp / 'hub.db'}"
    engine = make_engine(url)
    upgrade(engine)
    ingest([NATIVE / "art-trees", NATIVE / "verra"], engine)
    with serve(create_app(app_settings(url, tmp))) as base:
        yield base, tmp, engine
    engine.dispose()


def test_register_propose_comment_support_watch_and_get_alerted(community_site, browser):
    base, tmp, engine = community_site
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = ctx.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    # Register, sign out, sign in again
    page.goto(base + "/account/register")
    page.fill("input[name=email]", "ana@example.org")
    page.fill("input[name=display_name]", "Ana Forest")
    page.fill("input[name=password]", "a-long-password-1")
    page.wait_for_selector(".strength-good")  # the meter agrees with the policy before the form is sent
    page.click("button[type=submit]")
    page.wait_for_selector("#check-mail")
    with engine.connect() as conn:  # the confirmation link, as the mail would carry it
        link = mailed_link(conn, app_settings(f"sqlite:///{tmp / 'hub.db'}", tmp), to="ana@example.org")
    page.goto(base + link)
    page.click("#confirm")
    page.wait_for_url("**/account?welcome=1")
    page.click("#logout")
    page.wait_for_url(base + "/")
    page.click("#nav-login")
    page.fill("input[name=email]", "ana@example.org")
    page.fill("input[name=password]", "a-long-password-1")
    page.click("form.stack button[type=submit]")
    page.wait_for_url(base + "/")
    assert page.inner_text("#nav-account") == "Ana Forest"

    # Propose a project with a real boundary (Martinique's project polygon, in UTM 20N) and a document
    gpkg = tmp / "site.gpkg"
    gpd.read_file(SHARED / "redd" / "martinique" / "project_borders_MTQ_jurisdiction.gpkg").to_crs(5490).to_file(
        gpkg, driver="GPKG"
    )
    page.goto(base + "/proposals/new")
    page.fill("input[name=name]", "Caravelle Mangrove Guardians")
    page.fill(
        "textarea[name=description]",
        "Community restoration of **1,200 ha** of mangroves on the Caravelle peninsula.\n\n"
        "<script>alert(1)</script> [plan](javascript:alert(1))",
    )
    page.fill("input[name=country]", "Martinique")
    page.fill("input[name=project_type]", "Wetland Restoration")
    page.fill("input[name=expected_annual]", "8000")
    page.set_input_files("input[name=boundary]", str(gpkg))
    (tmp / "plan.txt").write_text("Restoration plan, version 1")
    page.set_input_files("input[name=document]", str(tmp / "plan.txt"))
    page.click("#proposal-form button[type=submit]")
    page.wait_for_url("**/proposals/*")
    proposal_url = page.url
    page.wait_for_selector("#map[data-drawn=true]")
    assert page.get_attribute("#map", "data-site") == "true"
    area = float(page.inner_text("#area").split()[0].replace(",", ""))
    assert 2300 < area < 2450  # the polygon is 2,365 ha
    # the description's Markdown is rendered, and what it may not hold is shown as text or dropped
    assert page.inner_text(".description strong") == "1,200 ha"
    assert page.locator(".description script").count() == 0 and page.locator(".description a").count() == 0
    assert "**" not in page.inner_text(".description")
    assert page.locator("#map .leaflet-control-scale").count() == 1  # a scale bar under the site
    shot(page, tmp, "proposal")
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True).new_page()
    phone.goto(proposal_url)
    phone.wait_for_selector("#map[data-drawn=true]")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    shot(phone, tmp, "phone-proposal")
    phone.context.close()

    # It is found in search, marked as a proposal
    page.goto(base + "/proposals?q=mangrove")
    assert page.inner_text("#total") == "1"
    assert "Caravelle Mangrove Guardians" in page.inner_text("#proposals-table")

    # Comment (Markdown) and support it
    page.goto(proposal_url)
    page.fill(".comment-form textarea", "We can help with **seedlings**.")
    page.click(".comment-form button")
    page.wait_for_selector(".comment-body strong")
    assert page.inner_text(".comment-body strong") == "seedlings"
    page.click("#support-button")
    page.wait_for_load_state()
    assert page.inner_text("#support-count") == "1" and page.inner_text("#support-button") == "Withdraw support"
    assert page.inner_text("#flash") == "Thank you: your support is counted."  # the page says what happened

    # Watch a registry project, then a new snapshot arrives with a retirement for it
    page.goto(base + "/projects/ART102")
    page.click("#watch-button")
    page.wait_for_load_state()
    assert page.inner_text("#watch-button") == "Stop watching"
    assert page.inner_text("#flash").startswith("You are watching this project")
    snap = tmp / "art-next"
    shutil.copytree(NATIVE / "art-trees", snap)
    r = pd.read_csv(snap / "retirements.csv", dtype=str, keep_default_na=False)
    extra = (
        r[r["Program ID"] == "ART102"]
        .iloc[[0]]
        .assign(**{"Credit Serial Numbers": "ART-GY-102-2019-3-2700001 to 2700250", "Quantity of Credits": "250"})
    )
    pd.concat([r, extra]).to_csv(snap / "retirements.csv", index=False)
    from carbonscope.jobs import ingest_files as ingest  # alerts go out with it

    assert ingest([snap], engine).notifications >= 1
    page.goto(base + "/account")
    assert page.inner_text("#notifications-link").strip().endswith("1") or "Notifications" in page.inner_text(
        "#notifications-link"
    )
    page.click("#notifications-link")
    page.wait_for_url("**/account/notifications")
    assert "ART102 Guyana: 1 retirement (250 credits)" in page.inner_text("#notifications")
    shot(page, tmp, "notifications")
    assert errors == []
    ctx.close()
