"""Account pages: register, sign in and out, passwords, API tokens, watches, notifications, deletion."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlalchemy import Engine

from carbonscope.accounts import passwords, sessions, tokens, users
from carbonscope.accounts.secrets import new_secret
from carbonscope.db.engine import write as db_write
from carbonscope.errors import AuthError, InvalidField, NotFoundError, Throttled
from carbonscope.watch import feed, notify, watches
from carbonscope.web.auth import CSRF_COOKIE, SignedIn, User, check_csrf, safe_next
from carbonscope.web.deps import Conn, get_engine_dep
from carbonscope.web.forms import redirect, render
from carbonscope.web.middleware import client_address

router = APIRouter(include_in_schema=False)
Eng = Annotated[Engine, Depends(get_engine_dep)]
F = Annotated[str, Form()]
OptF = Annotated[str, Form()]


def _login_cookie(request: Request, response: Response, value: str) -> Response:
    """Sign in: the session cookie, and a new CSRF cookie (a token seen before sign-in is worth nothing after)."""
    s = request.app.state.settings
    response.set_cookie(
        sessions.COOKIE,
        value,
        httponly=True,
        samesite="lax",
        secure=s.secure_cookies,
        max_age=s.session_days * 86400,
        path="/",
    )
    response.set_cookie(
        CSRF_COOKIE, new_secret(nbytes=24), httponly=True, samesite="strict", secure=s.secure_cookies, path="/"
    )
    return response


@router.get("/account/register")
def register_form(request: Request, user: User) -> Response:
    return render(request, "account/register.html", {"values": {}, "error": None})


@router.post("/account/register")
def register(
    request: Request, engine: Eng, email: F = "", display_name: F = "", password: F = "", csrf_token: F = ""
) -> Response:
    check_csrf(request, csrf_token)
    settings = request.app.state.settings
    try:
        # the policy once, before any hashing; Argon2's ~100 ms then runs outside the write lock
        passwords.check_policy(password, users.normalise_email(email), users.clean_name(display_name))
        password_hash = passwords.hash_password(password)
        address = client_address(request.scope)
        with db_write(engine) as tx:
            users.sign_up(
                tx, email, display_name, password, address, settings, password_hash=password_hash, policy_checked=True
            )
    except InvalidField as exc:
        return render(
            request,
            "account/register.html",
            {"values": {"email": email, "display_name": display_name}, "error": exc},
            status=422,
        )
    # The same page whether the address was new or already had an account: a mail tells its owner which.
    return render(request, "account/check_mail.html", {"email": users.normalise_email(email), "why": "register"})


@router.get("/account/verify/{token}")
def verify_form(request: Request, token: str, user: User) -> Response:
    """A page with one button: mail scanners that open links must not confirm an address (a POST does)."""
    return render(request, "account/verify.html", {"token": token, "error": None})


@router.post("/account/verify/{token}")
def verify(request: Request, engine: Eng, token: str, csrf_token: F = "") -> Response:
    check_csrf(request, csrf_token)
    settings = request.app.state.settings
    try:
        with db_write(engine) as tx:
            uid = users.verify_email(tx, token)
            cookie = sessions.create(tx, uid, settings.secret_key, settings.session_days)
    except AuthError as exc:
        return render(request, "account/verify.html", {"token": token, "error": exc}, status=422)
    return _login_cookie(request, redirect("/account?welcome=1"), cookie)


@router.post("/account/verify")
def resend_confirmation(request: Request, engine: Eng, email: F = "", csrf_token: F = "") -> Response:
    check_csrf(request, csrf_token)
    with db_write(engine) as tx:
        users.resend_confirmation(tx, email, request.app.state.settings)
    return render(request, "account/check_mail.html", {"email": (email or "").strip().lower()[:254], "why": "resend"})


@router.get("/account/login")
def login_form(request: Request, user: User, next: str = "/") -> Response:
    return render(request, "account/login.html", {"values": {}, "error": None, "next": safe_next(next)})


@router.post("/account/login")
def login(
    request: Request, engine: Eng, email: F = "", password: F = "", csrf_token: F = "", next: F = "/"
) -> Response:
    check_csrf(request, csrf_token)
    settings = request.app.state.settings
    address = client_address(request.scope)
    try:
        with engine.connect() as conn:  # the slow part (Argon2) reads only: no write lock held
            creds = users.verify_credentials(conn, email, password, address, settings)
        with db_write(engine) as tx:  # committed either way: failed attempts count towards throttling
            users.record_login(tx, creds, address)
            user = creds.user
            if user:
                cookie = sessions.create(tx, user["id"], settings.secret_key, settings.session_days)
    except Throttled as exc:
        response = render(
            request,
            "account/login.html",
            {"values": {"email": email}, "error": exc, "next": safe_next(next)},
            status=429,
        )
        response.headers["retry-after"] = str(exc.retry_after)
        return response
    if user is None:
        error = AuthError("wrong email or password")
        ctx = {"values": {"email": email}, "error": error, "next": safe_next(next), "unconfirmed": creds.unconfirmed}
        if creds.unconfirmed:  # the right password: only the account's owner learns this
            ctx["error"] = AuthError(
                "confirm your e-mail address first: open the link we mailed you, or ask for a new one below"
            )
        return render(request, "account/login.html", ctx, status=401)
    return _login_cookie(request, redirect(safe_next(next)), cookie)


@router.post("/account/logout")
def logout(request: Request, engine: Eng, csrf_token: F = "") -> Response:
    check_csrf(request, csrf_token)
    with db_write(engine) as tx:
        sessions.destroy(tx, request.cookies.get(sessions.COOKIE), request.app.state.settings.secret_key)
    response = redirect("/")
    response.delete_cookie(sessions.COOKIE, path="/")
    return response


@router.get("/account")
def account(request: Request, conn: Conn, user: SignedIn, new_token: str | None = None) -> Response:
    ctx = {
        "tokens": tokens.list_for(conn, user["id"]),
        "watches": watches.list_for(conn, user["id"]),
        "new_token": None,
        "error": None,
        "unread": notify.unread_count(conn, user["id"]),
    }
    return render(request, "account/account.html", ctx)


def _account_with(request: Request, engine: Engine, user: dict, **extra):
    with engine.connect() as conn:
        ctx = {
            "tokens": tokens.list_for(conn, user["id"]),
            "watches": watches.list_for(conn, user["id"]),
            "new_token": None,
            "error": None,
            "unread": notify.unread_count(conn, user["id"]),
        }
    ctx.update(extra)
    return render(request, "account/account.html", ctx, status=422 if extra.get("error") else 200)


@router.post("/account/password")
def change_password(
    request: Request, engine: Eng, user: SignedIn, current_password: F = "", new_password: F = "", csrf_token: F = ""
) -> Response:
    check_csrf(request, csrf_token)
    try:
        with db_write(engine) as tx:
            users.change_password(tx, user["id"], current_password, new_password)
            cookie = sessions.create(
                tx, user["id"], request.app.state.settings.secret_key, request.app.state.settings.session_days
            )
    except InvalidField as exc:
        return _account_with(request, engine, user, error=exc)
    return _login_cookie(request, redirect("/account?changed=password"), cookie)


@router.post("/account/feed")
def rotate_feed(request: Request, engine: Eng, user: SignedIn, csrf_token: F = "") -> Response:
    """A new private feed address; whoever had the old one gets nothing more."""
    check_csrf(request, csrf_token)
    with db_write(engine) as tx:
        users.rotate_feed_token(tx, user["id"])
    return redirect("/account?changed=feed#watches")


@router.post("/account/tokens")
def create_token(request: Request, engine: Eng, user: SignedIn, name: F = "", csrf_token: F = "") -> Response:
    check_csrf(request, csrf_token)
    try:
        with db_write(engine) as tx:
            token = tokens.create(tx, user["id"], name)
    except InvalidField as exc:
        return _account_with(request, engine, user, error=exc)
    return _account_with(request, engine, user, new_token=token)


@router.post("/account/tokens/{token_id}/revoke")
def revoke_token(request: Request, engine: Eng, user: SignedIn, token_id: int, csrf_token: F = "") -> Response:
    check_csrf(request, csrf_token)
    with db_write(engine) as tx:
        tokens.revoke(tx, user["id"], token_id)
    return redirect("/account#tokens")


@router.post("/account/delete")
def delete_account(
    request: Request, engine: Eng, user: SignedIn, password: F = "", confirm: F = "", csrf_token: F = ""
) -> Response:
    check_csrf(request, csrf_token)
    if confirm != "DELETE":
        return _account_with(request, engine, user, error=InvalidField("confirm", "type DELETE to confirm"))
    try:
        with db_write(engine) as tx:
            users.delete_account(tx, user["id"], password)
    except InvalidField as exc:
        return _account_with(request, engine, user, error=exc)
    response = redirect("/?account=deleted")
    response.delete_cookie(sessions.COOKIE, path="/")
    return response


@router.get("/account/reset")
def reset_request_form(request: Request, user: User) -> Response:
    return render(request, "account/reset_request.html", {"sent": False})


@router.post("/account/reset")
def reset_request(request: Request, engine: Eng, email: F = "", csrf_token: F = "") -> Response:
    check_csrf(request, csrf_token)
    with db_write(engine) as tx:
        users.request_reset(tx, email, request.app.state.settings)
    return render(request, "account/reset_request.html", {"sent": True})


@router.get("/account/reset/{token}")
def reset_form(request: Request, token: str, user: User) -> Response:
    return render(request, "account/reset.html", {"token": token, "error": None})


@router.post("/account/reset/{token}")
def reset(request: Request, engine: Eng, token: str, new_password: F = "", csrf_token: F = "") -> Response:
    check_csrf(request, csrf_token)
    try:
        with db_write(engine) as tx:
            users.reset_password(tx, token, new_password)
    except (AuthError, InvalidField) as exc:
        return render(request, "account/reset.html", {"token": token, "error": exc}, status=422)
    return redirect("/account/login?reset=done")


@router.post("/watch")
def add_watch(
    request: Request, engine: Eng, user: SignedIn, kind: F = "", value: F = "", csrf_token: F = "", next: F = "/account"
) -> Response:
    check_csrf(request, csrf_token)
    try:
        with db_write(engine) as tx:
            watches.add(tx, user, kind, value)
    except (InvalidField, NotFoundError) as exc:
        return _account_with(request, engine, user, error=exc)
    return redirect(safe_next(next))


@router.post("/watch/{watch_id}/delete")
def remove_watch(
    request: Request, engine: Eng, user: SignedIn, watch_id: int, csrf_token: F = "", next: F = "/account"
) -> Response:
    check_csrf(request, csrf_token)
    with db_write(engine) as tx:
        watches.remove(tx, user, watch_id)
    return redirect(safe_next(next))


@router.get("/account/notifications")
def notifications_page(request: Request, conn: Conn, user: SignedIn) -> Response:
    items = notify.list_for(conn, user["id"], limit=200)
    return render(request, "account/notifications.html", {"items": items})


@router.post("/account/notifications/read")
def notifications_read(request: Request, engine: Eng, user: SignedIn, csrf_token: F = "") -> Response:
    check_csrf(request, csrf_token)
    with db_write(engine) as tx:
        notify.mark_read(tx, user["id"])
    return redirect("/account/notifications")


@router.get("/feeds/{feed_token}.atom")
def atom_feed(request: Request, conn: Conn, feed_token: str) -> Response:
    body = feed.atom(conn, feed_token, request.app.state.settings.site_url)
    return Response(body, media_type="application/atom+xml", headers={"cache-control": "private, max-age=60"})
