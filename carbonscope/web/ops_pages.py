"""Operations over HTTP: ``/metrics`` (Prometheus), ``/healthz`` and ``/readyz``."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response

from carbonscope.ops import health, metrics

router = APIRouter(include_in_schema=False)


@router.get("/metrics")
async def prometheus_metrics(request: Request) -> Response:
    body, content_type = await run_in_threadpool(metrics.scrape, request.app.state.engine)
    return Response(body, media_type=content_type, headers={"cache-control": "no-store"})


@router.get("/healthz")
async def healthz() -> Response:
    return JSONResponse({"status": "ok"}, headers={"cache-control": "no-store"})


@router.get("/readyz")
async def readyz(request: Request) -> Response:
    checks = await run_in_threadpool(health.readiness, request.app.state.settings, request.app.state.engine)
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": checks},
        status_code=200 if ready else 503,
        headers={"cache-control": "no-store"},
    )
