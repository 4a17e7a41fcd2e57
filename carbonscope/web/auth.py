"""Who is asking: the session cookie (pages) or a Bearer token (write API); CSRF for forms.

CSRF uses a double-submit token: a random value in an HttpOnly, SameSite=Strict cookie, and its
HMAC in every form; a POST must carry both and they must agree. Forms are rendered for signed-in
users only (pages with forms are never served from the shared cache).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from carbonscope.accounts import sessions, tokens
from carbonscope.accounts.secrets import new_secret
from carbonscope.db.engine import write as db_write
from carbonscope.errors import AuthError, PermissionDenied
from carbonscope.web.deps import Conn

CSRF_COOKIE = "cs_csrf"


def current_user(request: Request, conn: Conn) -> dict | None:
    if hasattr(request.state, "user"):
        return request.state.user
    user = sessions.user_for(conn, request.cookies.get(sessions.COOKIE), request.app.state.settings.secret_key)
    request.state.user = user
    return user


User = Annotated[dict | None, Depends(current_user)]


class LoginRequired(Exception):
    """A page that needs a signed-in user: redirect to the login page."""


def require_user(user: User) -> dict:
    if user is None:
        raise LoginRequired()
    return user


def require_admin(user: Annotated[dict, Depends(require_user)]) -> dict:
    if user["role"] != "admin":
        raise PermissionDenied("administrators only")
    return user


SignedIn = Annotated[dict, Depends(require_user)]
Admin = Annotated[dict, Depends(require_admin)]


def token_user(request: Request) -> dict:
    """The user of ``Authorization: Bearer cst_...`` (the write API); records when the token was last used.

    Sync on purpose (FastAPI runs it in the thread pool): the last-used update is a write, and a write
    waiting for the database lock on the event loop would stall every request of the process."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value:
        raise AuthError(
            "this endpoint needs an API token: Authorization: Bearer cst_... (create one under Account → API tokens)"
        )
    engine = request.app.state.engine
    with engine.connect() as conn:
        user = tokens.user_for(conn, value.strip())
    if tokens.needs_touch(user):
        with db_write(engine) as tx:  # its own short transaction: the route writes on another connection
            tokens.touch(tx, user["token_id"])
    return user


ApiUser = Annotated[dict, Depends(token_user)]


# ---------------------------------------------------------------- CSRF


def _sign(secret: str, value: str) -> str:
    return hmac.new(secret.encode(), value.encode(), hashlib.sha256).hexdigest()


def csrf_token(request: Request) -> str:
    """The form token of this browser (setting its cookie on the way out when new)."""
    raw = request.cookies.get(CSRF_COOKIE)
    if not raw or len(raw) < 20:
        raw = getattr(request.state, "new_csrf", None) or new_secret(nbytes=24)
        request.state.new_csrf = raw
    return _sign(request.app.state.settings.secret_key, raw)


def check_csrf(request: Request, submitted: str | None) -> None:
    raw = request.cookies.get(CSRF_COOKIE)
    expected = _sign(request.app.state.settings.secret_key, raw) if raw else None
    if not expected or not submitted or not hmac.compare_digest(expected, submitted):
        raise PermissionDenied("the form's security token is missing or does not match; reload the page and try again")


R = TypeVar("R", bound=Response)


def finish(request: Request, response: R) -> R:
    """Attach a new CSRF cookie if this request minted one."""
    raw = getattr(request.state, "new_csrf", None)
    if raw:
        response.set_cookie(
            CSRF_COOKIE,
            raw,
            httponly=True,
            samesite="strict",
            secure=request.app.state.settings.secure_cookies,
            path="/",
        )
    return response


def login_redirect(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    from urllib.parse import quote

    return RedirectResponse(f"/account/login?next={quote(target)}", status_code=303)


def safe_next(value: str | None) -> str:
    """Only local paths: no open redirects."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value
