"""A database loaded once per backend with every real registry file, and clients of the app on it."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

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


@contextmanager
def serve(app, timeout: float = 30.0) -> Iterator[str]:
    """``app`` on a real socket (uvicorn in a thread): its base URL, once it accepts connections."""
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"the test server did not start within {timeout:g} s")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium driven by Playwright (no browser download); skipped, saying why, without
    Chromium or without the site's browser libraries (pages would wait for scripts that never load)."""
    import os

    from carbonscope.web.assets import missing_vendor
    from tests.web.test_browser import ARGS, CHROMIUM

    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian chromium is not installed (scripts/test.sh installs it when run as root)")
    if missing_vendor():
        pytest.skip(
            f"the site's browser libraries are not installed ({', '.join(missing_vendor())}): run scripts/setup.sh"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()
