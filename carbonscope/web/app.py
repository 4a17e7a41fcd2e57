"""The application factory: one FastAPI app serving the JSON API and the HTML pages."""

from __future__ import annotations

import logging

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.gzip import GZipMiddleware

from carbonscope.db.engine import get_engine
from carbonscope.db.migrate import ensure_schema
from carbonscope.settings import Settings, get_settings
from carbonscope.web import assets, pages, problems
from carbonscope.web.api import router as api_router
from carbonscope.web.cache import DataVersion, make_store
from carbonscope.web.middleware import RateLimit, ResponseCache, SecurityHeaders
from carbonscope.web.templating import html_errors

log = logging.getLogger("carbonscope.web")

DESCRIPTION = """Projects and credit events of Verra, Gold Standard, ART TREES, ACR and CAR in one database.
Reads need no key. Lists answer `{"total", "items", ...}`; add `format=csv|parquet|xlsx` for the whole filtered view, streamed.
Errors are RFC 9457 problem details."""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    engine = get_engine(settings.effective_database_url)
    ensure_schema(engine)
    app = FastAPI(
        title="CarbonScope API",
        version="1",
        description=DESCRIPTION,
        docs_url=None,  # served by pages.api_docs from local assets
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.version = DataVersion(engine)
    app.state.cache = make_store(settings.redis_url)

    problems.install(app, html_errors)
    app.include_router(api_router)
    app.include_router(pages.router)
    missing = assets.missing_vendor()
    if missing:
        log.warning("front-end libraries missing (%s): run scripts/setup.sh; charts and maps will not draw", ", ".join(missing))
    app.mount("/static", StaticFiles(directory=str(assets.VENDOR.parent)), name="static")

    # Outermost first: rate limit, security headers, cache (stores compressed bodies), gzip.
    app.add_middleware(GZipMiddleware, minimum_size=1000, compresslevel=1)  # fast: exports stream hundreds of MB
    if settings.cache_ttl_seconds > 0:  # 0 switches the cache off
        app.add_middleware(ResponseCache, store=app.state.cache, version=app.state.version, ttl=settings.cache_ttl_seconds,
                           prefixes=("/api/v1/", "/projects", "/credits", "/stats", "/data"), exact=("/",))
    app.add_middleware(SecurityHeaders)
    app.add_middleware(RateLimit, per_minute=settings.rate_limit_per_minute, redis_url=settings.redis_url)
    return app
