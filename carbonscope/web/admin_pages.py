"""Administration: users (roles, disabling), reports of abuse, hidden content, the outbox."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from sqlalchemy import Engine
from starlette.responses import Response

from carbonscope.accounts import users
from carbonscope.community import abuse, comments, proposals
from carbonscope.db.engine import write as db_write
from carbonscope.errors import InvalidField
from carbonscope.queries import admin as queries_admin
from carbonscope.web.auth import Admin, check_csrf
from carbonscope.web.deps import Conn, get_engine_dep
from carbonscope.web.forms import redirect, render

router = APIRouter(include_in_schema=False)
Eng = Annotated[Engine, Depends(get_engine_dep)]
F = Annotated[str, Form()]


@router.get("/admin")
def admin_page(request: Request, conn: Conn, admin: Admin, q: str = "") -> Response:
    return render(request, "admin/admin.html", vars(queries_admin.admin_page(conn, q)))


@router.post("/admin/users/{uid}")
def admin_user(request: Request, engine: Eng, admin: Admin, uid: int, action: F = "", csrf_token: F = "") -> Response:
    check_csrf(request, csrf_token)
    if uid == admin["id"]:
        raise InvalidField("action", "you cannot change your own account here")
    with db_write(engine) as tx:
        user = users.get(tx, uid)
        if action in ("disable", "enable"):
            users.set_disabled(tx, uid, action == "disable")
        elif action in ("make-admin", "make-user"):
            users.set_role(tx, user["email"], "admin" if action == "make-admin" else "user")
        else:
            raise InvalidField("action", "disable, enable, make-admin or make-user")
    return redirect("/admin#users")


@router.post("/admin/hide")
def admin_hide(
    request: Request,
    engine: Eng,
    admin: Admin,
    target_kind: F = "",
    target_id: F = "",
    hidden: F = "1",
    report_id: F = "",
    csrf_token: F = "",
) -> Response:
    check_csrf(request, csrf_token)
    if not target_id.isdigit():
        raise InvalidField("target_id", "a number")
    with db_write(engine) as tx:
        if target_kind == "comment":
            comments.set_hidden(tx, int(target_id), hidden == "1")
        elif target_kind == "proposal":
            proposals.set_hidden(tx, admin, int(target_id), hidden == "1")
        else:
            raise InvalidField("target_kind", "comment or proposal")
        if report_id.isdigit():
            abuse.resolve(tx, admin, int(report_id))
    return redirect("/admin#reports")


@router.post("/admin/reports/{rid}/resolve")
def admin_resolve(request: Request, engine: Eng, admin: Admin, rid: int, csrf_token: F = "") -> Response:
    check_csrf(request, csrf_token)
    with db_write(engine) as tx:
        abuse.resolve(tx, admin, rid)
    return redirect("/admin#reports")
