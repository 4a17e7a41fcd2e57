"""Administration: users (roles, disabling), reports of abuse, hidden content, the outbox."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from sqlalchemy import Engine, func, select

from carbonscope import mail
from carbonscope.accounts import users
from carbonscope.community import comments, proposals, reports
from carbonscope.db.engine import write as db_write
from carbonscope.db.schema import outbox
from carbonscope.db.schema import users as users_table
from carbonscope.errors import InvalidField
from carbonscope.web.auth import Admin, check_csrf
from carbonscope.web.deps import Conn, get_engine_dep
from carbonscope.web.forms import redirect, render

router = APIRouter(include_in_schema=False)
Eng = Annotated[Engine, Depends(get_engine_dep)]
F = Annotated[str, Form()]


@router.get("/admin")
def admin_page(request: Request, conn: Conn, admin: Admin, q: str = ""):
    u = users_table.c
    query = select(u.id, u.email, u.display_name, u.role, u.disabled, u.created_at).order_by(u.id.desc()).limit(100)
    if q:
        from carbonscope.db.like import like_pattern

        query = query.where(
            func.lower(u.email).like(like_pattern(q), escape="\\")
            | func.lower(u.display_name).like(like_pattern(q), escape="\\")
        )
    ctx = {
        "users": [dict(r) for r in conn.execute(query).mappings()],
        "user_count": conn.execute(select(func.count()).select_from(users_table)).scalar_one(),
        "reports": reports.open_reports(conn),
        # bodies as an admin may read them: a reset or confirmation link is never shown (mail.shown)
        "outbox": [
            {**dict(r), "body": mail.shown(dict(r))}
            for r in conn.execute(select(outbox).order_by(outbox.c.id.desc()).limit(30)).mappings()
        ],
        "q": q,
    }
    return render(request, "admin/admin.html", ctx)


@router.post("/admin/users/{uid}")
def admin_user(request: Request, engine: Eng, admin: Admin, uid: int, action: F = "", csrf_token: F = ""):
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
):
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
            reports.resolve(tx, admin, int(report_id))
    return redirect("/admin#reports")


@router.post("/admin/reports/{rid}/resolve")
def admin_resolve(request: Request, engine: Eng, admin: Admin, rid: int, csrf_token: F = ""):
    check_csrf(request, csrf_token)
    with db_write(engine) as tx:
        reports.resolve(tx, admin, rid)
    return redirect("/admin#reports")
