"""The write API: proposals, comments and support, with personal API tokens (Authorization: Bearer)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Path, Query, UploadFile
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine
from starlette.responses import Response

from carbonscope.community import boundaries, comments, documents, proposals, support, targets
from carbonscope.db.engine import write as db_write
from carbonscope.queries.pages import proposal_document
from carbonscope.web.api import models
from carbonscope.web.auth import ApiUser
from carbonscope.web.deps import AppSettings, Conn, get_engine_dep
from carbonscope.web.responses import Json

router = APIRouter(tags=["community"])
Eng = Annotated[Engine, Depends(get_engine_dep)]
Kind = Literal["projects", "proposals"]


class ProposalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(..., min_length=3, max_length=200)
    description: str | None = Field(None, max_length=20_000)
    country: str | None = Field(None, max_length=60, description="country name or ISO alpha-2")
    project_type: str | None = Field(None, max_length=80)
    methodology: str | None = Field(None, max_length=120)
    expected_annual: int | None = Field(None, ge=0, le=1_000_000_000, description="tCO2e a year")
    developer: str | None = Field(None, max_length=200)
    contact: str | None = Field(None, max_length=200)
    links: list[str] | None = Field(None, max_length=10)


class ProposalPatch(ProposalIn):
    name: str | None = Field(None, min_length=3, max_length=200)  # type: ignore[assignment]  # optional when patching


class CommentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    body: str = Field(..., min_length=1, max_length=10_000, description="Markdown")
    parent_id: int | None = None


class CommentPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    body: str = Field(..., min_length=1, max_length=10_000)


class LinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    project_id: str | None = Field(None, max_length=40)


@router.get("/proposals", summary="List proposals", response_model=models.ProposalList)
def list_proposals(
    conn: Conn,
    q: Annotated[str | None, Query(max_length=200)] = None,
    sort: Literal["-support", "-created", "name"] = "-support",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    return Json(proposals.search(conn, q=q, sort=sort, limit=limit, offset=(page - 1) * limit))


@router.get("/proposals/{pid}", summary="One proposal", response_model=models.ProposalDetail)
def get_proposal(conn: Conn, pid: int) -> Response:
    return Json(proposal_document(conn, pid))


@router.post("/proposals", status_code=201, summary="Propose a project (API token)", response_model=models.Proposal)
def create_proposal(engine: Eng, user: ApiUser, body: ProposalIn) -> Response:
    with db_write(engine) as tx:
        pid = proposals.create(tx, user, body.model_dump(exclude_none=True))
        doc = proposals.public(proposals.get(tx, pid))
    return Json(doc, status_code=201)


@router.patch("/proposals/{pid}", summary="Edit your proposal", response_model=models.Proposal)
def patch_proposal(engine: Eng, user: ApiUser, pid: int, body: ProposalPatch) -> Response:
    with db_write(engine) as tx:
        changes = proposals.update_fields(tx, user, pid, body.model_dump(exclude_unset=True))
        doc = proposals.public(proposals.get(tx, pid))
    return Json({**doc, "changed": sorted(changes)})


@router.post("/proposals/{pid}/withdraw", summary="Withdraw your proposal", response_model=models.Proposal)
def withdraw_proposal(engine: Eng, user: ApiUser, pid: int) -> Response:
    with db_write(engine) as tx:
        proposals.withdraw(tx, user, pid)
        return Json(proposals.public(proposals.get(tx, pid)))


@router.put(
    "/proposals/{pid}/boundary",
    summary="Upload the site boundary (GeoJSON or GeoPackage)",
    response_model=models.Boundary,
)
def put_boundary(
    engine: Eng, settings: AppSettings, user: ApiUser, pid: int, file: Annotated[UploadFile, File()]
) -> Response:
    data = file.file.read(settings.max_boundary_bytes + 1)
    b = boundaries.read(file.filename or "", data, settings.max_boundary_bytes)
    with db_write(engine) as tx:
        proposals.set_boundary(tx, user, pid, b)
    return Json(
        {
            "area_ha": b.area_ha,
            "centroid": [b.centroid_lon, b.centroid_lat],
            "source_crs": b.source_crs,
            "features": b.features,
        }
    )


@router.post(
    "/proposals/{pid}/documents", status_code=201, summary="Attach a document", response_model=models.DocumentRow
)
def post_document(
    engine: Eng, settings: AppSettings, user: ApiUser, pid: int, file: Annotated[UploadFile, File()]
) -> Response:
    data = file.file.read(settings.max_document_bytes + 1)
    name, ctype, sha = documents.check(file.filename or "", data, settings.max_document_bytes)
    with db_write(engine) as tx:
        did = proposals.attach_document(tx, user, pid, (name, ctype, sha), data, settings.uploads_dir, settings)
    return Json({"id": did, "filename": name, "content_type": ctype, "size": len(data)}, status_code=201)


@router.post(
    "/proposals/{pid}/link",
    summary="Link your proposal to the registry project it became",
    response_model=models.Proposal,
)
def link_proposal(engine: Eng, user: ApiUser, pid: int, body: LinkIn) -> Response:
    with db_write(engine) as tx:
        proposals.link(tx, user, pid, body.project_id)
        return Json(proposals.public(proposals.get(tx, pid)))


@router.get(
    "/{kind}/{target}/comments", summary="Comments of a project or proposal", response_model=models.CommentThread
)
def list_comments(conn: Conn, kind: Kind, target: Annotated[str, Path(max_length=40)]) -> Response:
    k = kind[:-1]
    from carbonscope.community.targets import check

    tid = check(conn, k, target)
    return Json(comments.thread(conn, k, tid))


@router.post(
    "/{kind}/{target}/comments", status_code=201, summary="Comment (API token)", response_model=models.CommentDone
)
def post_comment(
    engine: Eng, user: ApiUser, kind: Kind, target: Annotated[str, Path(max_length=40)], body: CommentIn
) -> Response:
    # Sync (the thread pool): a write may wait for the database lock (an ingest, another writer), and
    # waiting on the event loop would stall every other request of this process, cached reads included.
    with db_write(engine) as tx:
        cid = comments.create(tx, user, kind[:-1], target, body.body, body.parent_id)
    return Json({"id": cid}, status_code=201)


@router.patch("/comments/{cid}", summary="Edit your comment", response_model=models.CommentDone)
def patch_comment(engine: Eng, user: ApiUser, cid: int, body: CommentPatch) -> Response:
    with db_write(engine) as tx:
        comments.edit(tx, user, cid, body.body)
    return Json({"id": cid, "edited": True})


@router.delete("/comments/{cid}", summary="Delete your comment", response_model=models.CommentDone)
def delete_comment(engine: Eng, user: ApiUser, cid: int) -> Response:
    with db_write(engine) as tx:
        comments.delete(tx, user, cid)
    return Json({"id": cid, "deleted": True})


@router.post("/{kind}/{target}/support", summary="Toggle your support", response_model=models.SupportState)
def toggle_support(engine: Eng, user: ApiUser, kind: Kind, target: Annotated[str, Path(max_length=40)]) -> Response:
    with db_write(engine) as tx:
        on = support.toggle(tx, user, kind[:-1], target)
        n = support.count(tx, kind[:-1], targets.normal(kind[:-1], target))
    return Json({"supported": on, "count": n})
