"""Comments on registry projects and proposals: Markdown rendered safely, replies one level deep,
edits and deletions by their author only, hiding by admins."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection, func, insert, select, update

from carbonscope.community import targets
from carbonscope.community.markdown import render
from carbonscope.db.schema import comments, users
from carbonscope.errors import InvalidField, NotFoundError, PermissionDenied

MAX_LENGTH = 10_000


def _body(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise InvalidField("body", "the comment is empty")
    if len(text) > MAX_LENGTH:
        raise InvalidField("body", f"at most {MAX_LENGTH:,} characters")
    return text


_INSERT = insert(comments).returning(comments.c.id)  # built once; the values come as parameters


def create(conn: Connection, user: dict, kind: str, target_id: str, body: str, parent_id: int | None = None) -> int:
    text = _body(body)
    html = render(text)  # before touching the database: less time holding the write lock
    tid = targets.check(conn, kind, target_id, writing=True)
    if parent_id is not None:
        parent = conn.execute(select(comments).where(comments.c.id == parent_id)).mappings().first()
        if (
            parent is None
            or parent["target_kind"] != kind
            or parent["target_id"] != tid
            or parent["deleted"]
            or parent["hidden"]
        ):
            raise InvalidField("parent_id", "no such comment on this page")
        if parent["parent_id"] is not None:
            parent_id = parent["parent_id"]  # replies stay one level deep: answer the thread
    cid = conn.execute(
        _INSERT,
        {
            "target_kind": kind,
            "target_id": tid,
            "author_id": user["id"],
            "parent_id": parent_id,
            "body_md": text,
            "body_html": html,
            "created_at": datetime.now(UTC),
            "deleted": False,
            "hidden": False,
        },
    ).scalar_one()
    targets.bump(conn, kind, tid)
    return cid


def _own(conn: Connection, user: dict, comment_id: int) -> dict:
    row = conn.execute(select(comments).where(comments.c.id == comment_id)).mappings().first()
    if row is None or row["deleted"]:
        raise NotFoundError(f"no comment {comment_id}")
    if row["author_id"] != user["id"]:
        raise PermissionDenied("only its author can change a comment")
    return dict(row)


def edit(conn: Connection, user: dict, comment_id: int, body: str) -> None:
    row = _own(conn, user, comment_id)
    if row["hidden"]:  # else an author could rewrite what a moderator judged
        raise PermissionDenied("an administrator hid this comment; it can be deleted but not edited")
    text = _body(body)
    conn.execute(
        update(comments)
        .where(comments.c.id == comment_id)
        .values(body_md=text, body_html=render(text), edited_at=datetime.now(UTC))
    )
    targets.bump(conn, row["target_kind"], row["target_id"])


def delete(conn: Connection, user: dict, comment_id: int) -> None:
    row = _own(conn, user, comment_id)
    conn.execute(update(comments).where(comments.c.id == comment_id).values(deleted=True, body_md="", body_html=""))
    targets.bump(conn, row["target_kind"], row["target_id"])


def set_hidden(conn: Connection, comment_id: int, hidden: bool) -> None:
    row = conn.execute(select(comments.c.target_kind, comments.c.target_id).where(comments.c.id == comment_id)).first()
    if row is None:
        raise NotFoundError(f"no comment {comment_id}")
    conn.execute(update(comments).where(comments.c.id == comment_id).values(hidden=hidden))
    targets.bump(conn, row.target_kind, row.target_id)


def thread(conn: Connection, kind: str, target_id: str, limit: int = 50, before: int | None = None) -> dict:
    """Visible comments of a page, newest threads first (``limit`` threads, older than comment ``before``
    for the next page), replies under their parent (oldest first)."""
    c = comments.c
    base = (
        select(
            c.id,
            c.parent_id,
            c.author_id,
            c.body_html,
            c.created_at,
            c.edited_at,
            c.deleted,
            users.c.display_name.label("author"),
        )
        .outerjoin(users, users.c.id == c.author_id)
        .where(c.target_kind == kind, c.target_id == str(target_id), c.hidden.is_(False))
    )
    top_q = base.where(c.parent_id.is_(None))
    if before is not None:
        top_q = top_q.where(c.id < before)
    tops = [dict(r) for r in conn.execute(top_q.order_by(c.id.desc()).limit(limit + 1)).mappings()]
    more = len(tops) > limit
    tops = tops[:limit]
    ids = [t["id"] for t in tops]
    replies: dict[int, list] = {}
    if ids:
        for r in conn.execute(base.where(c.parent_id.in_(ids)).order_by(c.id)).mappings():
            replies.setdefault(r["parent_id"], []).append(dict(r))
    for t in tops:
        t["replies"] = replies.get(t["id"], [])
    total = conn.execute(
        select(func.count()).where(
            c.target_kind == kind, c.target_id == str(target_id), c.hidden.is_(False), c.deleted.is_(False)
        )
    ).scalar_one()
    return {"total": total, "threads": tops, "older": tops[-1]["id"] if more and tops else None}
