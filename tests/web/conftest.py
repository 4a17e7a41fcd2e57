"""A database loaded once per backend with every real registry file, and clients of the app on it."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from carbonscope.db.engine import make_engine
from carbonscope.db.migrate import upgrade
from carbonscope.ingest import ingest
from carbonscope.settings import Settings
from tests.conftest import BACKENDS, REGISTRIES, make_backend_url


@pytest.fixture(scope="session", params=BACKENDS)
def loaded_url(request, tmp_path_factory):
    url, cleanup = make_backend_url(request.param, tmp_path_factory.mktemp(f"hub-{request.param}"))
    engine = make_engine(url)
    upgrade(engine)
    ingest([REGISTRIES], engine)
    engine.dispose()
    yield url
    cleanup()


def app_settings(url: str, tmp_path, **kw) -> Settings:
    return Settings(database_url=url, data_dir=tmp_path / "data", rate_limit_per_minute=kw.pop("rate_limit_per_minute", 0), **kw)


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
