"""Proposed projects: created by a signed-in user, edited and withdrawn by their owner only, hidden
by admins, linked to a registry project once listed; every change kept in a revision history."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import ColumnElement, Connection, func, insert, or_, select, update

from carbonscope.community import documents as stored
from carbonscope.community import targets
from carbonscope.community.boundaries import Boundary
from carbonscope.db.schema import documents, projects, proposal_revisions, proposals, users
from carbonscope.errors import InvalidField, NotFoundError, PermissionDenied
from carbonscope.registry import vocab
from carbonscope.registry.codes import normalise_id
from carbonscope.registry.countries import to_alpha2
from carbonscope.settings import Settings
from carbonscope.urls import safe_url

EDITABLE = (
    "name",
    "description",
    "country",
    "project_type",
    "methodology",
    "expected_annual",
    "developer",
    "contact",
    "links",
)


def _now() -> datetime:
    return datetime.now(UTC)


def clean(data: dict, partial: bool = False) -> dict:
    """Validated fields; unknown fields are refused, each error names its field."""
    unknown = set(data) - set(EDITABLE)
    if unknown:
        raise InvalidField(sorted(unknown)[0], "unknown field")
    out: dict = {}

    def text(name, lo, hi, required=False):
        if name not in data:
            if required and not partial:
                raise InvalidField(name, "required")
            return
        v = data[name]
        v = "" if v is None else str(v).strip()
        if required and not v:
            raise InvalidField(name, "required")
        if v and not lo <= len(v) <= hi:
            raise InvalidField(name, f"between {lo} and {hi} characters")
        if any(ord(ch) < 32 and ch not in "\n\r\t" for ch in v):
            raise InvalidField(name, "control characters are not allowed")
        out[name] = v or None

    text("name", 3, 200, required=True)
    text("description", 1, 20_000)
    text("project_type", 2, 80)
    text("methodology", 2, 120)
    text("developer", 2, 200)
    text("contact", 3, 200)
    if "country" in data:
        raw = (data["country"] or "").strip()
        code = to_alpha2(raw) if raw else None
        if raw and code is None:
            raise InvalidField("country", f"{raw!r} is not a country name or ISO code")
        out["country"] = code
    if "expected_annual" in data:
        raw = data["expected_annual"]
        if raw in (None, ""):
            out["expected_annual"] = None
        else:
            try:
                n = int(str(raw).replace(",", "").strip())
            except ValueError as exc:
                raise InvalidField("expected_annual", "a whole number of tonnes CO2e a year") from exc
            if not 0 <= n <= 1_000_000_000:
                raise InvalidField("expected_annual", "between 0 and 1,000,000,000")
            out["expected_annual"] = n
    if "links" in data:
        links = data["links"] or []
        if isinstance(links, str):
            links = [x for x in re.split(r"[\s,]+", links) if x]
        if len(links) > 10:
            raise InvalidField("links", "at most 10 links")
        for link in links:
            if safe_url(str(link)) is None or len(str(link)) > 500:
                raise InvalidField("links", f"{str(link)[:60]!r} is not an http(s) URL")
        out["links"] = [str(x) for x in links]
    if "project_type" in out:
        canonical = vocab.canonical_type(out["project_type"])
        out["project_type"] = canonical or out["project_type"]
        out["category"] = vocab.category_of_type(canonical) if canonical else None
    return out


def _revision(conn: Connection, pid: int, user: dict | None, action: str, changes: dict | None = None) -> None:
    conn.execute(
        insert(proposal_revisions).values(
            proposal_id=pid, editor_id=user["id"] if user else None, at=_now(), action=action, changes=changes
        )
    )


def create(conn: Connection, user: dict, data: dict) -> int:
    fields = clean(data)
    at = _now()
    pid = conn.execute(
        insert(proposals)
        .values(
            owner_id=user["id"], status="active", hidden=False, support_count=0, created_at=at, updated_at=at, **fields
        )
        .returning(proposals.c.id)
    ).scalar_one()
    _revision(conn, pid, user, "created", {k: [None, v] for k, v in fields.items() if v is not None})
    targets.bump(conn, "proposal", pid)
    return pid


def get(conn: Connection, pid: int, viewer: dict | None = None) -> dict:
    row = (
        conn.execute(
            select(proposals, users.c.display_name.label("owner_name"))
            .outerjoin(users, users.c.id == proposals.c.owner_id)
            .where(proposals.c.id == pid)
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFoundError(f"no proposal {pid}")
    doc = dict(row)
    if doc["hidden"] and not (viewer and (viewer["role"] == "admin" or viewer["id"] == doc["owner_id"])):
        raise NotFoundError(f"no proposal {pid}")
    return doc


def _owned(conn: Connection, user: dict, pid: int) -> dict:
    doc = get(conn, pid, user)
    if doc["owner_id"] != user["id"]:
        raise PermissionDenied("only the owner of a proposal can change it")
    return doc


def update_fields(conn: Connection, user: dict, pid: int, data: dict) -> dict:
    doc = _owned(conn, user, pid)
    if doc["status"] == "withdrawn":
        raise PermissionDenied("a withdrawn proposal cannot be edited")
    fields = clean(data, partial=True)
    changes = {k: [doc.get(k), v] for k, v in fields.items() if doc.get(k) != v}
    if changes:
        conn.execute(update(proposals).where(proposals.c.id == pid).values(updated_at=_now(), **fields))
        _revision(conn, pid, user, "edited", changes)
        targets.bump(conn, "proposal", pid)
    return changes


def set_boundary(conn: Connection, user: dict, pid: int, b: Boundary) -> None:
    doc = _owned(conn, user, pid)
    conn.execute(
        update(proposals)
        .where(proposals.c.id == pid)
        .values(
            boundary=b.geometry,
            area_ha=b.area_ha,
            centroid_lat=b.centroid_lat,
            centroid_lon=b.centroid_lon,
            updated_at=_now(),
        )
    )
    _revision(
        conn,
        pid,
        user,
        "edited",
        {
            "boundary": [
                f"{doc['area_ha']:.1f} ha" if doc["area_ha"] else None,
                f"{b.area_ha:.1f} ha (from {b.source_crs})",
            ]
        },
    )
    targets.bump(conn, "proposal", pid)


def add_document(
    conn: Connection,
    user: dict,
    pid: int,
    name: str,
    content_type: str,
    size: int,
    sha: str,
    max_count: int | None = None,
    max_total_bytes: int | None = None,
) -> int:
    """Record a document of the proposal: its owner only, within the proposal's quota."""
    _owned(conn, user, pid)
    d = documents.c
    count, total = conn.execute(
        select(func.count(), func.coalesce(func.sum(d.size), 0)).where(d.proposal_id == pid)
    ).one()
    if max_count is not None and count >= max_count:
        raise InvalidField("document", f"a proposal holds at most {max_count} documents; this one has {count}")
    if max_total_bytes is not None and total + size > max_total_bytes:
        raise InvalidField(
            "document",
            f"the documents of a proposal may add up to {max_total_bytes / 1e6:,.0f} MB; this one would reach {(total + size) / 1e6:,.1f} MB",
        )
    did = conn.execute(
        insert(documents)
        .values(
            proposal_id=pid,
            uploader_id=user["id"],
            filename=name,
            content_type=content_type,
            size=size,
            sha256=sha,
            uploaded_at=_now(),
        )
        .returning(documents.c.id)
    ).scalar_one()
    _revision(conn, pid, user, "edited", {"documents": [None, name]})
    targets.bump(conn, "proposal", pid)
    return did


def attach_document(
    conn: Connection,
    user: dict,
    pid: int,
    checked: tuple[str, str, str],
    data: bytes,
    uploads: Path,
    settings: Settings,
) -> int:
    """Record, then store: ownership and quota are checked before a byte reaches the uploads folder,
    so a refused upload leaves no file behind (``stored.sweep_orphans`` takes what a failed commit leaves)."""
    name, ctype, sha = checked
    did = add_document(
        conn,
        user,
        pid,
        name,
        ctype,
        len(data),
        sha,
        settings.max_documents_per_proposal,
        settings.max_proposal_document_bytes,
    )
    stored.store(uploads, sha, data)
    return did


def withdraw(conn: Connection, user: dict, pid: int) -> None:
    doc = _owned(conn, user, pid)
    if doc["status"] != "withdrawn":
        conn.execute(update(proposals).where(proposals.c.id == pid).values(status="withdrawn", updated_at=_now()))
        _revision(conn, pid, user, "withdrawn", {"status": [doc["status"], "withdrawn"]})
        targets.bump(conn, "proposal", pid)


def set_hidden(conn: Connection, admin: dict, pid: int, hidden: bool) -> None:
    get(conn, pid, admin)
    conn.execute(update(proposals).where(proposals.c.id == pid).values(hidden=hidden))
    _revision(conn, pid, admin, "hidden" if hidden else "unhidden")
    targets.bump(conn, "proposal", pid)


def link(conn: Connection, user: dict, pid: int, project_id: str | None) -> None:
    """Link a proposal to the registry project it became (owner or admin)."""
    doc = get(conn, pid, user)
    if doc["owner_id"] != user["id"] and user["role"] != "admin":
        raise PermissionDenied("only the owner or an admin can link a proposal")
    target = None
    if project_id:
        target = normalise_id(project_id)
        if conn.execute(select(projects.c.id).where(projects.c.id == target)).first() is None:
            raise InvalidField("project_id", f"no registry project {project_id!r}")
    conn.execute(update(proposals).where(proposals.c.id == pid).values(linked_project_id=target, updated_at=_now()))
    _revision(conn, pid, user, "linked", {"linked_project_id": [doc["linked_project_id"], target]})
    targets.bump(conn, "proposal", pid)
    if target:
        targets.bump(conn, "project", target)


def revisions(conn: Connection, pid: int) -> list[dict]:
    r = proposal_revisions.c
    q = (
        select(r.at, r.action, r.changes, users.c.display_name.label("editor"))
        .outerjoin(users, users.c.id == r.editor_id)
        .where(r.proposal_id == pid)
        .order_by(r.id.desc())
    )
    return [dict(x) for x in conn.execute(q).mappings()]


def docs(conn: Connection, pid: int) -> list[dict]:
    d = documents.c
    return [
        dict(x)
        for x in conn.execute(
            select(d.id, d.filename, d.content_type, d.size, d.sha256, d.uploaded_at)
            .where(d.proposal_id == pid)
            .order_by(d.id)
        ).mappings()
    ]


def search(
    conn: Connection,
    q: str | None = None,
    country: list[str] | None = None,
    sort: str = "-support",
    limit: int = 50,
    offset: int = 0,
    include_withdrawn: bool = False,
) -> dict:
    p = proposals.c
    where: list[ColumnElement[bool]] = [p.hidden.is_(False)]
    if not include_withdrawn:
        where.append(p.status == "active")
    if q and q.strip():
        from carbonscope.db.like import like_pattern

        for w in q.strip().split()[:8]:
            pat = like_pattern(w)
            where.append(
                or_(
                    func.lower(p.name).like(pat, escape="\\"),
                    func.lower(p.description).like(pat, escape="\\"),
                    func.lower(p.developer).like(pat, escape="\\"),
                    func.lower(p.methodology).like(pat, escape="\\"),
                )
            )
    if country:
        where.append(p.country.in_(country))
    order = {"-support": (p.support_count.desc(), p.id.desc()), "-created": (p.id.desc(),), "name": (p.name, p.id)}.get(
        sort
    )
    if order is None:
        raise InvalidField("sort", "one of -support, -created, name")
    total = conn.execute(select(func.count()).select_from(proposals).where(*where)).scalar_one()
    rows = (
        conn.execute(
            select(
                p.id,
                p.name,
                p.country,
                p.project_type,
                p.category,
                p.status,
                p.support_count,
                p.area_ha,
                p.created_at,
                p.linked_project_id,
                p.expected_annual,
                users.c.display_name.label("owner_name"),
            )
            .outerjoin(users, users.c.id == p.owner_id)
            .where(*where)
            .order_by(*order)
            .limit(limit)
            .offset(offset)
        )
        .mappings()
        .all()
    )
    return {"total": total, "items": [dict(r) for r in rows]}


# The fields of a proposal shown to everyone (contact included: proposers publish it to find partners)
PUBLIC_FIELDS = (
    "id",
    "name",
    "description",
    "country",
    "project_type",
    "category",
    "methodology",
    "expected_annual",
    "developer",
    "contact",
    "links",
    "boundary",
    "area_ha",
    "centroid_lat",
    "centroid_lon",
    "status",
    "linked_project_id",
    "support_count",
    "created_at",
    "updated_at",
    "owner_name",
)


def public(doc: dict) -> dict:
    """The fields of a proposal shown to everyone."""
    return {k: doc.get(k) for k in PUBLIC_FIELDS}


def linked_to(conn: Connection, project_id: str) -> list[dict]:
    p = proposals.c
    q = (
        select(p.id, p.name, p.support_count)
        .where(p.linked_project_id == project_id, p.hidden.is_(False))
        .order_by(p.id)
    )
    return [dict(r) for r in conn.execute(q).mappings()]
