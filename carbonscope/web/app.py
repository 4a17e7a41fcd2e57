"""The application factory: one FastAPI app serving the JSON API and the HTML pages."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Callable
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Request
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import Scope
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from carbonscope.accounts import sessions
from carbonscope.community import targets
from carbonscope.db.engine import get_engine
from carbonscope.db.migrate import ensure_schema
from carbonscope.ops.logs import RequestIds, use_json_logs
from carbonscope.ops.metrics import RequestMetrics
from carbonscope.registry.codes import normalise_id
from carbonscope.settings import Settings, get_settings
from carbonscope.web import (
    account_pages,
    admin_pages,
    analysis_pages,
    assets,
    community_pages,
    export,
    news_pages,
    ops_pages,
    pages,
    personal,
    problems,
)
from carbonscope.web.api import router as api_router
from carbonscope.web.auth import LoginRequired, login_redirect
from carbonscope.web.cache import DataVersion, make_store
from carbonscope.web.housekeeping import Housekeeping
from carbonscope.web.middleware import BodyLimit, RateLimit, ResponseCache, SecurityHeaders
from carbonscope.web.templating import html_errors, templates

log = logging.getLogger("carbonscope.web")

DESCRIPTION = """Projects and credit events of Verra, Gold Standard, ART TREES, ACR and CAR in one database.
Reads need no key. Lists answer `{"total", "items", ...}`; add `format=csv|parquet|xlsx` for the whole filtered view, streamed.
Errors are RFC 9457 problem details."""


PAGE_TARGET = re.compile(r"^(?:/api/v1)?/(projects|proposals)/([A-Za-z0-9]{1,40})(?:/comments)?$")


def community_key(engine: Engine) -> Callable[[Scope], str]:
    """Cached project pages (and comment lists) also depend on their comments and support."""

    def key(scope: Scope) -> str:
        m = PAGE_TARGET.match(scope["path"])
        if not m:
            return ""
        with engine.connect() as conn:
            return str(
                targets.version(
                    conn, m.group(1)[:-1], normalise_id(m.group(2)) if m.group(1) == "projects" else m.group(2)
                )
            )

    return key


def install_auth_errors(app: FastAPI) -> None:
    """A page that needs a signed-in user redirects to the login page (the API answers 401); every
    other error has its one handler in ``problems.install``."""

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired):
        if request.url.path.startswith("/api/"):
            return problems.problem(401, "sign in first", instance=request.url.path)
        return login_redirect(request)


# The event loop answers cached reads in microseconds but waits for the interpreter lock whenever a
# thread-pool route (a sign-in, a page with forms) holds it: Python hands the lock over every 5 ms by
# default, which put 5 ms on reads' tail under load. 1 ms keeps it short (docs/benchmarks.md).
GIL_SWITCH_SECONDS = 0.001


def _tile_origin(settings: Settings) -> str:
    """The base map's tile origin (for the CSP), with a {s} subdomain as a wildcard."""
    if not settings.basemap_url:
        return ""
    from urllib.parse import urlsplit

    parts = urlsplit(settings.basemap_url)
    return f"{parts.scheme}://{parts.netloc.replace('{s}', '*')}"


def create_app(settings: Settings | None = None) -> FastAPI:
    sys.setswitchinterval(GIL_SWITCH_SECONDS)
    settings = (settings or get_settings()).with_secret()
    engine = get_engine(settings.effective_database_url)
    ensure_schema(engine)
    chores = Housekeeping(engine, settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        chores.start()
        yield
        chores.stop()

    app = FastAPI(
        lifespan=lifespan,
        title="CarbonScope API",
        version="1",
        description=DESCRIPTION,
        docs_url=None,  # served by pages.api_docs from local assets
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
        dependencies=[Depends(problems.bounded_integers)],
    )
    app.state.settings = settings
    templates.env.globals["basemap"] = {"url": settings.basemap_url, "attribution": settings.basemap_attribution}
    app.state.engine = engine
    app.state.version = DataVersion(engine)
    app.state.cache = make_store(settings.redis_url)
    app.state.renderings = personal.Renderings(app.state.cache, settings.cache_ttl_seconds)
    app.state.export_slots = export.ExportSlots(settings.exports_at_once)

    problems.install(app, html_errors)
    install_auth_errors(app)
    app.include_router(api_router)
    app.include_router(pages.router)
    for module in (account_pages, community_pages, admin_pages, news_pages, analysis_pages, ops_pages):
        app.include_router(module.router)
    missing = assets.missing_vendor()
    if missing:
        log.warning(
            "front-end libraries missing (%s): run scripts/setup.sh; charts and maps will not draw", ", ".join(missing)
        )
    app.mount("/static", StaticFiles(directory=str(assets.VENDOR.parent)), name="static")

    # Outermost first: rate limit, security headers, cache (stores compressed bodies), gzip.
    app.add_middleware(GZipMiddleware, minimum_size=1000, compresslevel=1)  # fast: exports stream hundreds of MB
    if settings.cache_ttl_seconds > 0:  # 0 switches the cache off
        app.add_middleware(
            ResponseCache,
            store=app.state.cache,
            version=app.state.version,
            ttl=settings.cache_ttl_seconds,
            prefixes=("/api/v1/", "/projects", "/credits", "/stats", "/data"),
            exact=("/",),
            # analyses change with their jobs and their owner's choices, not with ingests
            skip_prefixes=("/api/v1/proposals", "/api/v1/news", "/api/v1/comments", "/api/v1/analyses"),
            extra_key=community_key(engine),
        )
    # Bodies: the largest upload allowed plus room for the form around it, refused before reading
    app.add_middleware(
        BodyLimit,
        max_bytes=max(settings.max_document_bytes, settings.max_boundary_bytes) + 1024 * 1024,
        session_cookie=sessions.COOKIE,
    )
    app.add_middleware(SecurityHeaders, hsts_seconds=settings.hsts_seconds, img_sources=_tile_origin(settings))
    app.add_middleware(RateLimit, per_minute=settings.rate_limit_per_minute, redis_url=settings.redis_url)
    if (
        settings.forwarded_allow_ips
    ):  # outermost: every throttle sees the client behind a trusted proxy, no one else's claim
        app.add_middleware(
            ProxyHeadersMiddleware,
            trusted_hosts=[h.strip() for h in settings.forwarded_allow_ips.split(",") if h.strip()],
        )
    if settings.metrics_enabled:  # outermost but one: every answer is counted, cached ones included
        app.add_middleware(RequestMetrics)
    app.add_middleware(RequestIds)  # outermost: every response names its request, every log line too
    if settings.log_json:
        use_json_logs()
    return app
