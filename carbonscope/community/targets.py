"""What comments and support attach to: a registry project or a proposal. Each target has a
version, bumped by every write that changes what its page shows (cached pages key on it)."""

from __future__ import annotations

from sqlalchemy import Connection, bindparam, insert, select, update

from carbonscope.db.schema import projects, proposals, target_versions
from carbonscope.errors import InvalidField, NotFoundError, PermissionDenied
from carbonscope.registry.codes import is_project_id, normalise_id

KINDS = ("project", "proposal")


def normal(kind: str, target_id: str) -> str:
    """The canonical form of a target ID as a URL or a form writes it (not checked to exist)."""
    return normalise_id(target_id) if kind == "project" else str(target_id).strip()


# Built once: every comment and support runs them.
_PROJECT = select(projects.c.id).where(projects.c.id == bindparam("pid"))
_BUMP = (
    update(target_versions)
    .where(target_versions.c.target_kind == bindparam("kind"), target_versions.c.target_id == bindparam("target"))
    .values(version=target_versions.c.version + 1)
)


def check(conn: Connection, kind: str, target_id: str, writing: bool = False) -> str:
    """The canonical target ID; raises NotFoundError when it does not exist (or is hidden), and
    PermissionDenied for ``writing`` (a comment, a support) to a withdrawn proposal."""
    if kind == "project":
        pid = normal(kind, target_id)
        if not is_project_id(pid) or conn.execute(_PROJECT, {"pid": pid}).first() is None:
            raise NotFoundError(f"no project {target_id!r}")
        return pid
    if kind == "proposal":
        if not str(target_id).isdigit():
            raise NotFoundError(f"no proposal {target_id!r}")
        row = conn.execute(
            select(proposals.c.id, proposals.c.hidden, proposals.c.status).where(proposals.c.id == int(target_id))
        ).first()
        if row is None or row.hidden:
            raise NotFoundError(f"no proposal {target_id!r}")
        if writing and row.status == "withdrawn":
            raise PermissionDenied("this proposal was withdrawn: it takes no more comments or support")
        return str(row.id)
    raise InvalidField("target_kind", f"one of {', '.join(KINDS)}")


def bump(conn: Connection, kind: str, target_id: str | int) -> None:
    if not conn.execute(_BUMP, {"kind": kind, "target": str(target_id)}).rowcount:
        conn.execute(insert(target_versions).values(target_kind=kind, target_id=str(target_id), version=1))


def version(conn: Connection, kind: str, target_id: str) -> int:
    tv = target_versions.c
    return conn.execute(select(tv.version).where(tv.target_kind == kind, tv.target_id == str(target_id))).scalar() or 0
