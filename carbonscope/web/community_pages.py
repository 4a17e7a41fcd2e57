"""Proposals, comments, support: pages and form actions (owner and CSRF checked on every write)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import FileResponse
from sqlalchemy import Connection, Engine
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.datastructures import UploadFile as StarletteUpload
from starlette.responses import Response

from carbonscope.community import abuse, boundaries, comments, documents, proposals, support, targets
from carbonscope.db.engine import write as db_write
from carbonscope.errors import InvalidField, NotFoundError
from carbonscope.queries import pages as page_data
from carbonscope.registry.codes import normalise_id
from carbonscope.registry.countries import country_name
from carbonscope.settings import Settings
from carbonscope.watch import watches
from carbonscope.web.auth import SignedIn, User, check_csrf, safe_next
from carbonscope.web.deps import Conn, get_engine_dep
from carbonscope.web.forms import redirect, render

router = APIRouter(include_in_schema=False)
Eng = Annotated[Engine, Depends(get_engine_dep)]
F = Annotated[str, Form()]
FIELDS = proposals.EDITABLE


def _read_upload(upload: object, limit: int) -> tuple[str, bytes] | None:
    if not isinstance(upload, StarletteUpload) or not upload.filename:
        return None
    data = upload.file.read(limit + 1)  # one byte more than allowed is enough to refuse
    return upload.filename, data


class _Files:
    """The boundary and document files of a proposal form, read and checked (in the thread pool)
    before any write; ``attach`` records them in the proposal's write transaction."""

    def __init__(self, form: FormData, settings: Settings) -> None:
        self.settings = settings
        up = _read_upload(form.get("boundary"), settings.max_boundary_bytes)
        self.boundary = boundaries.read(up[0], up[1], settings.max_boundary_bytes) if up else None
        d = _read_upload(form.get("document"), settings.max_document_bytes)
        self.document = (documents.check(d[0], d[1], settings.max_document_bytes), d[1]) if d else None

    def attach(self, tx: Connection, user: dict, pid: int) -> None:
        if self.boundary:
            proposals.set_boundary(tx, user, pid, self.boundary)
        if self.document:
            checked, data = self.document
            proposals.attach_document(tx, user, pid, checked, data, self.settings.uploads_dir, self.settings)


def _csrf_field(form: FormData) -> str | None:
    value = form.get("csrf_token")
    return value if isinstance(value, str) else None


@router.get("/proposals")
def proposals_page(
    request: Request, conn: Conn, user: User, q: str | None = None, sort: str = "-support", page: int = 1
) -> Response:
    if not 1 <= page <= 10_000:
        raise InvalidField("page", "between 1 and 10,000")
    data = proposals.search(conn, q=q, sort=sort, limit=50, offset=(page - 1) * 50)
    return render(
        request,
        "proposals/list.html",
        {"data": data, "q": q or "", "sort": sort, "page": page, "country_name": country_name},
    )


@router.get("/proposals/new")
def new_proposal_form(request: Request, user: SignedIn) -> Response:
    return render(request, "proposals/form.html", {"values": {}, "error": None, "proposal": None})


def _form_values(form: FormData) -> dict:
    return {k: form.get(k, "") for k in FIELDS}


@router.post("/proposals/new")
async def create_proposal(request: Request, engine: Eng, user: SignedIn) -> Response:
    form = await request.form()
    check_csrf(request, _csrf_field(form))
    values = _form_values(form)
    settings = request.app.state.settings

    def work() -> int:
        files = _Files(form, settings)
        with db_write(engine) as tx:
            pid = proposals.create(tx, user, values)
            files.attach(tx, user, pid)
        return pid

    try:
        pid = await run_in_threadpool(work)
    except InvalidField as exc:
        return render(request, "proposals/form.html", {"values": values, "error": exc, "proposal": None}, status=422)
    return redirect(f"/proposals/{pid}")


@router.get("/proposals/{pid}")
def proposal_page(request: Request, conn: Conn, user: User, pid: int, comments_before: int | None = None) -> Response:
    ctx = vars(page_data.proposal_page(conn, pid, user, comments_before))
    return render(request, "proposals/proposal.html", ctx)


@router.get("/proposals/{pid}/edit")
def edit_proposal_form(request: Request, conn: Conn, user: SignedIn, pid: int) -> Response:
    doc = proposals.get(conn, pid, user)
    if doc["owner_id"] != user["id"]:
        from carbonscope.errors import PermissionDenied

        raise PermissionDenied("only the owner of a proposal can change it")
    values = {k: doc.get(k) or "" for k in FIELDS}
    values["links"] = "\n".join(doc.get("links") or [])
    return render(request, "proposals/form.html", {"values": values, "error": None, "proposal": doc})


@router.post("/proposals/{pid}/edit")
async def edit_proposal(request: Request, engine: Eng, user: SignedIn, pid: int) -> Response:
    form = await request.form()
    check_csrf(request, _csrf_field(form))
    values = _form_values(form)
    settings = request.app.state.settings

    def work() -> None:
        files = _Files(form, settings)
        with db_write(engine) as tx:
            proposals.update_fields(tx, user, pid, values)
            files.attach(tx, user, pid)

    try:
        await run_in_threadpool(work)
    except InvalidField as exc:
        with engine.connect() as conn:
            doc = proposals.get(conn, pid, user)
        return render(request, "proposals/form.html", {"values": values, "error": exc, "proposal": doc}, status=422)
    return redirect(f"/proposals/{pid}")


@router.post("/proposals/{pid}/withdraw")
def withdraw_proposal(request: Request, engine: Eng, user: SignedIn, pid: int, csrf_token: F = "") -> Response:
    check_csrf(request, csrf_token)
    with db_write(engine) as tx:
        proposals.withdraw(tx, user, pid)
    return redirect(f"/proposals/{pid}")


@router.post("/proposals/{pid}/link")
def link_proposal(
    request: Request, engine: Eng, user: SignedIn, pid: int, project_id: F = "", csrf_token: F = ""
) -> Response:
    check_csrf(request, csrf_token)
    with db_write(engine) as tx:
        proposals.link(tx, user, pid, project_id or None)
    return redirect(f"/proposals/{pid}")


@router.get("/proposals/{pid}/documents/{doc_id}")
def document(request: Request, conn: Conn, user: User, pid: int, doc_id: int) -> Response:
    proposals.get(conn, pid, user)  # hidden proposals' documents stay hidden
    doc = next((d for d in proposals.docs(conn, pid) if d["id"] == doc_id), None)
    if doc is None:
        raise NotFoundError(f"no document {doc_id} on proposal {pid}")
    path = documents.stored_path(request.app.state.settings.uploads_dir, doc["sha256"])
    return FileResponse(
        path,
        media_type=doc["content_type"],
        filename=doc["filename"],
        content_disposition_type="attachment",
        headers={"x-content-type-options": "nosniff", "content-security-policy": "default-src 'none'; sandbox"},
    )


# ---------------------------------------------------------------- comments, support, reports


def _back(kind: str, target: str) -> str:
    return f"/{'projects' if kind == 'project' else 'proposals'}/{target}"


@router.post("/c/{kind}/{target}/comments")
def post_comment(
    request: Request,
    engine: Eng,
    user: SignedIn,
    kind: str,
    target: str,
    body: F = "",
    parent_id: F = "",
    csrf_token: F = "",
) -> Response:
    check_csrf(request, csrf_token)
    with db_write(engine) as tx:
        cid = comments.create(tx, user, kind, target, body, int(parent_id) if parent_id.isdigit() else None)
    return redirect(f"{_back(kind, targets.normal(kind, target))}#comment-{cid}")


@router.post("/comments/{cid}/edit")
def edit_comment(
    request: Request, engine: Eng, user: SignedIn, cid: int, body: F = "", csrf_token: F = "", next: F = "/"
) -> Response:
    check_csrf(request, csrf_token)
    with db_write(engine) as tx:
        comments.edit(tx, user, cid, body)
    return redirect(safe_next(next) + f"#comment-{cid}")


@router.post("/comments/{cid}/delete")
def delete_comment(
    request: Request, engine: Eng, user: SignedIn, cid: int, csrf_token: F = "", next: F = "/"
) -> Response:
    check_csrf(request, csrf_token)
    with db_write(engine) as tx:
        comments.delete(tx, user, cid)
    return redirect(safe_next(next))


@router.post("/report")
def report(
    request: Request,
    engine: Eng,
    user: SignedIn,
    target_kind: F = "",
    target_id: F = "",
    reason: F = "",
    csrf_token: F = "",
    next: F = "/",
) -> Response:
    check_csrf(request, csrf_token)
    if not target_id.isdigit():
        raise InvalidField("target_id", "a number")
    with db_write(engine) as tx:
        abuse.create(tx, user, target_kind, int(target_id), reason)
    return redirect(safe_next(next) + "?reported=1")


@router.post("/c/{kind}/{target}/support")
def toggle_support(
    request: Request, engine: Eng, user: SignedIn, kind: str, target: str, csrf_token: F = ""
) -> Response:
    check_csrf(request, csrf_token)
    with db_write(engine) as tx:
        on = support.toggle(tx, user, kind, target)
    # the page says what happened (the support slot shows it: _support_forms.html)
    return redirect(_back(kind, targets.normal(kind, target)) + f"?done={'supported' if on else 'unsupported'}#support")


@router.post("/c/project/{target}/watch")
def toggle_watch(request: Request, engine: Eng, user: SignedIn, target: str, csrf_token: F = "") -> Response:
    check_csrf(request, csrf_token)
    pid = normalise_id(target)
    with db_write(engine) as tx:
        existing = watches.watching(tx, user, "project", pid)
        if existing:
            watches.remove(tx, user, existing)
        else:
            watches.add(tx, user, "project", pid)
    return redirect(f"/projects/{pid}?done={'unwatched' if existing else 'watching'}#watch")
