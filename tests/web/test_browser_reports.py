"""The two engines' reports in headless Chromium at a phone's width and a desktop's: the answer
first, nothing wider than the screen (wide tables scroll inside themselves), figures fitted."""

from __future__ import annotations

import os

import pytest

from tests.baseline.conftest import martinique_run  # noqa: F401  (session fixtures of the engines' tests)
from tests.biomass.conftest import juupajoki_run  # noqa: F401
from tests.web.test_browser import CHROMIUM, shot

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian chromium is not installed"),
]


@pytest.mark.parametrize("width", [390, 1366])
def test_reports_open_with_the_answer_and_fit_the_screen(juupajoki_run, martinique_run, browser, width):  # noqa: F811
    _, baseline_folder = martinique_run
    for name, folder in (("biomass", juupajoki_run.folder), ("baseline", baseline_folder)):
        page = browser.new_page(viewport={"width": width, "height": 900})
        page.goto((folder / "report.html").resolve().as_uri())
        first = page.locator("h2").first.inner_text()
        assert first == "In short", (name, first)
        assert page.evaluate("document.documentElement.scrollWidth") <= width, name
        too_wide = page.evaluate(
            """(vw) => [...document.querySelectorAll('body > *')].filter(e => e.getBoundingClientRect().right > vw + 1)
                 .map(e => e.tagName).slice(0, 5)""",
            width,
        )
        assert too_wide == [], (name, too_wide)
        shot(page, folder, f"report-{width}")
        page.close()
