"""Helpers shared by the form-handling page routes."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from carbonscope.web.auth import csrf_token, finish
from carbonscope.web.templating import templates


def render(request: Request, name: str, ctx: dict, status: int = 200) -> Response:
    """A page with a form: the CSRF token is in the context and its cookie is set when new."""
    ctx = {**ctx, "csrf": csrf_token(request), "user": getattr(request.state, "user", None)}
    response = templates.TemplateResponse(request, name, ctx, status_code=status)
    response.headers["cache-control"] = "no-store"
    return finish(request, response)


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)
