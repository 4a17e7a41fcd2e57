"""A database loaded once per backend with every real registry file, and clients of the app on it."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from carbonscope.db.engine import make_engine
from carbonscope.settings import Settings


def app_settings(url: str, tmp_path, **kw) -> Settings:
    kw.setdefault("housekeeping_minutes", 0)  # tests send and prune on purpose (web/housekeeping.py has its own test)
    return Settings(
        database_url=url, data_dir=tmp_path / "data", rate_limit_per_minute=kw.pop("rate_limit_per_minute", 0), **kw
    )


@pytest.fixture
def client(loaded_url, tmp_path):
    from carbonscope.web.app import create_app

    with TestClient(create_app(app_settings(loaded_url, tmp_path))) as c:
        yield c


@pytest.fixture
def loaded_engine(loaded_url):
    engine = make_engine(loaded_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium driven by Playwright (no browser download)."""
    import os

    from tests.web.test_browser import ARGS, CHROMIUM

    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()
