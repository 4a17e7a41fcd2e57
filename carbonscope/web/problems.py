"""Errors as RFC 9457 problem details (``application/problem+json``), one shape everywhere."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from carbonscope.errors import CarbonScopeError, InvalidField

TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Invalid parameter",
    429: "Too many requests",
    500: "Internal error",
    502: "Bad gateway",
    503: "Service unavailable",
}


# The largest integer every database here stores (SQLite and PostgreSQL BIGINT): a larger one in a
# path or query parameter is refused with 422 before it reaches a query (SQLite raised OverflowError).
MAX_INT = 2**63 - 1
_INT = re.compile(r"^[+-]?\d+$")


async def bounded_integers(request: Request) -> None:
    """An app-wide dependency: every integer-looking path or query parameter fits the database.
    Async because it only looks at the request: a sync dependency costs every request a hop to the
    thread pool."""
    for params in (request.path_params.items(), request.query_params.multi_items()):
        for name, value in params:
            if isinstance(value, str) and len(value) > 18 and _INT.match(value.strip()) and abs(int(value)) > MAX_INT:
                raise InvalidField(name, f"{value[:24]}... is out of range (at most {MAX_INT:,})")
    if len(request.query_params.getlist("methodology")) > 100 or len(request.query_params.multi_items()) > 1000:
        raise InvalidField("query", "too many parameters (at most 100 values of one filter, 1,000 in all)")


def problem(
    status: int,
    detail: str,
    *,
    instance: str | None = None,
    errors: list[dict] | None = None,
    headers: dict | None = None,
) -> JSONResponse:
    body = {"type": "about:blank", "title": TITLES.get(status, "Error"), "status": status, "detail": detail}
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type="application/problem+json", headers=headers)


def _field(loc: Sequence[str | int]) -> str:
    parts = [str(p) for p in loc if p not in ("query", "body", "path", "header", "cookie")]
    return ".".join(parts) or "request"


class HtmlErrors(Protocol):
    """Whether a request wants an HTML page, and that page for an error (web/templating.py)."""

    def __call__(self, request: Request) -> bool: ...

    def render_error(self, request: Request, status: int, message: str) -> Response: ...


def install(app: FastAPI, wants_html: HtmlErrors | None = None) -> None:
    """One answer for every error: an HTML page for a browser (``wants_html``), problem details
    otherwise; the status, headers and fields come from the exception itself."""

    def respond(
        request: Request, status: int, detail: str, errors: list[dict] | None = None, headers: dict | None = None
    ) -> Response:
        if wants_html and wants_html(request):
            response = wants_html.render_error(request, status, detail)
            for k, v in (headers or {}).items():
                if k == "retry-after":
                    response.headers[k] = v
            return response
        return problem(status, detail, instance=str(request.url.path), errors=errors, headers=headers or None)

    @app.exception_handler(CarbonScopeError)
    async def carbonscope_error(request: Request, exc: CarbonScopeError):
        return respond(request, exc.status, str(exc), exc.fields() or None, exc.headers())

    @app.exception_handler(RequestValidationError)
    async def validation(request: Request, exc: RequestValidationError):
        errors = [{"field": _field(e.get("loc", ())), "message": e.get("msg", "invalid")} for e in exc.errors()]
        return respond(request, 422, "; ".join(f"{e['field']}: {e['message']}" for e in errors), errors)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        return respond(request, exc.status_code, str(exc.detail), headers=getattr(exc, "headers", None))
