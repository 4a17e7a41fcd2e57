"""A user's watches."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import Connection, delete, insert, select

from carbonscope.db.schema import projects, watches
from carbonscope.errors import InvalidField, NotFoundError
from carbonscope.registry.codes import normalise_id
from carbonscope.registry.countries import to_alpha2
from carbonscope.registry.vocab import normalise_code

KINDS = ("project", "country", "methodology", "beneficiary")


def normalise(conn: Connection, kind: str, value: str) -> str:
    value = (value or "").strip()
    if kind == "project":
        pid = normalise_id(value)
        if conn.execute(select(projects.c.id).where(projects.c.id == pid)).first() is None:
            raise NotFoundError(f"no project {value!r}")
        return pid
    if kind == "country":
        code = to_alpha2(value)
        if code is None:
            raise InvalidField("value", f"{value!r} is not a country")
        return code
    if kind == "methodology":
        if not re.fullmatch(r"[A-Za-z0-9.\- ]{2,40}", value):
            raise InvalidField("value", "a methodology code such as VM0007 or ACM0002")
        return normalise_code(value)
    if kind == "beneficiary":
        if not 3 <= len(value) <= 200:
            raise InvalidField("value", "between 3 and 200 characters")
        return value
    raise InvalidField("kind", f"one of {', '.join(KINDS)}")


def add(conn: Connection, user: dict, kind: str, value: str) -> str:
    v = normalise(conn, kind, value)
    w = watches.c
    if conn.execute(select(w.id).where(w.user_id == user["id"], w.kind == kind, w.value == v)).first() is None:
        conn.execute(insert(watches).values(user_id=user["id"], kind=kind, value=v, created_at=datetime.now(UTC)))
    return v


def remove(conn: Connection, user: dict, watch_id: int) -> None:
    n = conn.execute(delete(watches).where(watches.c.id == watch_id, watches.c.user_id == user["id"])).rowcount
    if not n:
        raise NotFoundError(f"no watch {watch_id} of yours")


def list_for(conn: Connection, user_id: int) -> list[dict]:
    w = watches.c
    return [
        dict(r)
        for r in conn.execute(
            select(w.id, w.kind, w.value, w.created_at).where(w.user_id == user_id).order_by(w.kind, w.value)
        ).mappings()
    ]


def watching(conn: Connection, user: dict | None, kind: str, value: str) -> int | None:
    if not user:
        return None
    w = watches.c
    return conn.execute(select(w.id).where(w.user_id == user["id"], w.kind == kind, w.value == value)).scalar()
