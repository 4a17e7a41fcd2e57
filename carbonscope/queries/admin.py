"""What the administration page shows: accounts (searchable), open abuse reports, recent mail."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, func, select

from carbonscope import mail
from carbonscope.community import abuse
from carbonscope.db.like import like_pattern
from carbonscope.db.schema import outbox, users

USERS_SHOWN = 100
MAIL_SHOWN = 30


@dataclass
class AdminPage:
    users: list[dict]  # the newest USERS_SHOWN accounts matching the search
    user_count: int  # every account
    reports: list[dict]  # open abuse reports
    outbox: list[dict]  # the newest mail; bodies as an admin may read them (no one-time links)
    q: str


def admin_page(conn: Connection, q: str = "") -> AdminPage:
    u = users.c
    query = select(u.id, u.email, u.display_name, u.role, u.disabled, u.created_at).order_by(u.id.desc())
    if q:
        pattern = like_pattern(q)
        query = query.where(
            func.lower(u.email).like(pattern, escape="\\") | func.lower(u.display_name).like(pattern, escape="\\")
        )
    mails = conn.execute(select(outbox).order_by(outbox.c.id.desc()).limit(MAIL_SHOWN)).mappings()
    return AdminPage(
        users=[dict(r) for r in conn.execute(query.limit(USERS_SHOWN)).mappings()],
        user_count=conn.execute(select(func.count()).select_from(users)).scalar_one(),
        reports=abuse.open_reports(conn),
        outbox=[{**dict(r), "body": mail.shown(dict(r))} for r in mails],
        q=q,
    )
