"""Shared fixtures: paths to the real data in ../shared/data, and databases on every backend.

Data-layer tests take the ``engine`` fixture, which runs each test on SQLite and, when
``CARBONSCOPE_TEST_POSTGRES_URL`` is set, again on PostgreSQL (in a schema of its own).
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import NamedTuple

import pytest
from sqlalchemy import create_engine, text

from carbonscope.db.engine import make_engine
from carbonscope.db.migrate import upgrade
from carbonscope.settings import get_settings

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
REGISTRY_DATA = SHARED / "registries"
NATIVE = REGISTRY_DATA / "native"
VROD = REGISTRY_DATA / "vrod" / "Voluntary-Registry-Offsets-Database--v2025-12-year-end.parquet"
OFFSETSDB = REGISTRY_DATA / "offsetsdb" / "projects-2025-11-05.parquet"
POSTGRES_URL = os.environ.get("CARBONSCOPE_TEST_POSTGRES_URL")

BACKENDS = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])


def pytest_configure(config):
    if not SHARED.is_dir():
        raise pytest.UsageError(
            f"the real test data is missing: expected {SHARED} (../shared/data beside the checkout)"
        )


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path, monkeypatch):
    """Every test gets its own data folder and no stray configuration."""
    for var in [v for v in os.environ if v.startswith("CARBONSCOPE_") and v != "CARBONSCOPE_TEST_POSTGRES_URL"]:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("CARBONSCOPE_DATA_DIR", str(tmp_path / "data"))
    # Argon2 still, but cheap: tests hash hundreds of passwords (production keeps the library's profile)
    monkeypatch.setenv("CARBONSCOPE_ARGON2_TIME_COST", "1")
    monkeypatch.setenv("CARBONSCOPE_ARGON2_MEMORY_KIB", "1024")
    monkeypatch.setenv("CARBONSCOPE_ARGON2_PARALLELISM", "1")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _postgres_schema_engine(schema: str):
    admin = create_engine(
        POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://", 1)
        if POSTGRES_URL.startswith("postgresql://")
        else POSTGRES_URL
    )
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in POSTGRES_URL else "?"
    url = f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"
    return admin, url


def make_backend_url(backend: str, tmp_path: Path):
    """(url, cleanup) for a fresh, empty database on ``backend``."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}", lambda: None
    schema = "t_" + uuid.uuid4().hex[:12]
    admin, url = _postgres_schema_engine(schema)

    def cleanup():
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    return url, cleanup


@pytest.fixture(params=BACKENDS)
def db_url(request, tmp_path, monkeypatch):
    url, cleanup = make_backend_url(request.param, tmp_path)
    monkeypatch.setenv("CARBONSCOPE_DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    from carbonscope.db.engine import _engine_for

    _engine_for.cache_clear()
    cleanup()


@pytest.fixture
def engine(db_url):
    eng = make_engine(db_url)
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def loaded_url(request, tmp_path_factory):
    """A database per backend holding every real registry file (read-only for the tests using it)."""
    from carbonscope.ingest import ingest

    url, cleanup = make_backend_url(request.param, tmp_path_factory.mktemp(f"hub-{request.param}"))
    engine = make_engine(url)
    upgrade(engine)
    ingest([REGISTRY_DATA], engine)
    engine.dispose()
    yield url
    cleanup()


class People(NamedTuple):
    """The accounts of the tests that need people: two members and an administrator."""

    ana: dict
    ben: dict
    root: dict  # an admin


def password_of(name: str) -> str:
    return f"a-long-password-of-{name.lower()}"


def person(conn, name: str, role: str = "user") -> dict:
    """One more confirmed account, ``<name>@example.org`` with the password :func:`password_of` gives
    (the one way tests make users, besides the tests of registration itself)."""
    from carbonscope.accounts import users

    uid = users.register(conn, f"{name.lower()}@example.org", name, password_of(name), role=role)
    return users.get(conn, uid)


@pytest.fixture
def people(engine) -> People:
    with engine.begin() as tx:
        return People(person(tx, "Ana"), person(tx, "Ben"), person(tx, "Root", role="admin"))


def mailed_link(conn, settings, to: str | None = None) -> str:
    """The path (``/account/...``) of the secret link in the newest queued mail (to ``to``), rendered as
    it would be sent: the outbox itself holds no working link."""
    import re

    from sqlalchemy import select

    from carbonscope import mail
    from carbonscope.db.schema import outbox

    q = select(outbox).order_by(outbox.c.id.desc())
    if to:
        q = q.where(outbox.c.to_addr == to)
    row = conn.execute(q).mappings().first()
    assert row is not None, f"no mail to {to or 'anyone'}"
    assert "/account/reset/" not in row["body"] and "/account/verify/" not in row["body"]  # never stored
    return re.search(r"https?://[^/\s]+(/account/\S+)", mail.render(dict(row), settings.with_secret())).group(1)
