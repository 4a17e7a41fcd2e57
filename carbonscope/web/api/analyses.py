"""The analyses API: start a recipe on a boundary (API token), follow it, read its results and files."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine
from starlette.responses import Response

from carbonscope.analyses import files, service, store
from carbonscope.analyses.inputs import Request as AnalysisRequest
from carbonscope.analyses.recipes import RECIPES
from carbonscope.analyses.sources import ROLES, catalog
from carbonscope.db.engine import write as db_write
from carbonscope.errors import InvalidField, first_problem
from carbonscope.web.api import models
from carbonscope.web.auth import ApiUser, current_user
from carbonscope.web.deps import AppSettings, get_engine_dep
from carbonscope.web.responses import Json

router = APIRouter(tags=["analyses"])
Eng = Annotated[Engine, Depends(get_engine_dep)]
MAX_JSON = 6 * 1024 * 1024


def reader(request: Request) -> dict | None:
    """Who reads: the API token's user when one is sent, else the signed-in session (the job page polls)."""
    from carbonscope.web.auth import token_user

    if request.headers.get("authorization"):
        return token_user(request)
    with request.app.state.engine.connect() as conn:
        return current_user(request, conn)


Reader = Annotated[dict | None, Depends(reader)]


def recipes_doc() -> list[dict]:
    return [
        {
            "name": r.name,
            "version": r.version,
            "title": r.title,
            "description": r.description,
            "required": list(r.required),
            "optional": list(r.optional),
        }
        for r in RECIPES.values()
    ]


@router.get("/analyses/sources", summary="Data sources, layer roles and recipes", response_model=models.DataSources)
def sources(settings: AppSettings) -> Response:
    return Json(
        {
            "sources": [s.describe() for s in catalog(settings).values()],
            "roles": ROLES,
            "recipes": recipes_doc(),
        }
    )


async def _parse(request: Request, settings) -> tuple[AnalysisRequest, dict[str, tuple[str, bytes]]]:
    """JSON, or multipart with a ``request`` JSON field and files named ``boundary`` or ``layer.ROLE``."""
    ctype = request.headers.get("content-type", "")
    uploads: dict[str, tuple[str, bytes]] = {}
    if ctype.startswith("multipart/form-data"):
        form = await request.form(max_files=20, max_fields=50)
        try:
            body = json.loads(str(form.get("request") or "{}"))
        except ValueError as exc:
            raise InvalidField("request", "the 'request' field must be the JSON request") from exc
        from starlette.datastructures import UploadFile

        for key, value in form.multi_items():
            if not isinstance(value, UploadFile):
                continue
            if key.startswith("layer."):
                data = await value.read(settings.analysis_max_upload_bytes + 1)
                uploads[key.removeprefix("layer.")] = (value.filename or key, data)
            elif key == "boundary":
                data = await value.read(settings.max_boundary_bytes + 1)
                from carbonscope.analyses.inputs import boundary_upload

                body["boundary"] = boundary_upload(value.filename or "", data, settings).geometry
    else:
        raw = await request.body()
        if len(raw) > MAX_JSON:
            raise InvalidField("body", f"the request is {len(raw):,} bytes; at most {MAX_JSON:,}")
        try:
            body = json.loads(raw or b"{}")
        except ValueError as exc:
            raise InvalidField("body", "not valid JSON") from exc
    if not isinstance(body, dict):
        raise InvalidField("body", "send a JSON object")
    from pydantic import ValidationError

    try:
        return AnalysisRequest.model_validate(body), uploads
    except ValidationError as exc:
        where, msg, _ = first_problem(exc, "body")
        raise InvalidField(where, msg) from exc


@router.post(
    "/analyses",
    status_code=202,
    summary="Start an analysis (API token): JSON or multipart with files",
    response_model=models.AnalysisQueued,
)
async def create(request: Request, settings: AppSettings, user: ApiUser) -> Response:
    from starlette.concurrency import run_in_threadpool

    req, uploads = await _parse(request, settings)
    job = await run_in_threadpool(service.submit, settings, request.app.state.engine, user, req, uploads)
    return Json(
        {"id": job["id"], "status": job["status"], "url": f"/api/v1/analyses/{job['id']}"},
        status_code=202,
    )


@router.post(
    "/analyses/plan", summary="What an analysis would read, without starting it", response_model=models.AnalysisPlan
)
async def plan(request: Request, settings: AppSettings, user: ApiUser) -> Response:
    from starlette.concurrency import run_in_threadpool

    req, _ = await _parse(request, settings)
    recipe, _doc, boundary, p = await run_in_threadpool(service.plan, settings, request.app.state.engine, req, user)
    return Json({"recipe": recipe.name, "area_ha": boundary.area_ha, **p.describe()})


def _view(settings, engine: Engine, job: dict, with_results: bool = True) -> dict:
    job = service.reap_if_stale(settings, engine, job)
    doc = service.public_view(job)
    doc["results"] = doc["files"] = None
    if with_results and job["status"] == "succeeded":
        doc["results"] = service.results(job)
        doc["files"] = files.listing(job["result_folder"])
    return doc


@router.get("/analyses", summary="Your analyses (admins: ?all=true for everyone's)", response_model=models.AnalysisList)
def list_mine(engine: Eng, settings: AppSettings, user: ApiUser, all: bool = False) -> Response:
    with engine.connect() as conn:
        rows = store.list_for(conn, user, everyone=all)
    return Json({"items": [_view(settings, engine, j, with_results=False) for j in rows]})


@router.get("/analyses/{aid}", summary="One analysis: status, progress and results", response_model=models.Analysis)
def get_one(engine: Eng, settings: AppSettings, viewer: Reader, aid: str) -> Response:
    with engine.connect() as conn:
        job = store.visible(conn, aid, viewer)
    return Json(_view(settings, engine, job))


@router.get(
    "/analyses/{aid}/files/{name:path}",
    summary="A result file (results.json, report.html, COG, GeoPackage, CSV)",
    response_model=None,
    responses={
        200: {
            "description": "the file",
            "content": {
                "application/json": {"schema": {"type": "object", "description": "a JSON file such as results.json"}},
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
            },
        }
    },
)
def get_file(engine: Eng, viewer: Reader, aid: str, name: str) -> Response:
    with engine.connect() as conn:
        job = store.visible(conn, aid, viewer)
    if job["status"] != "succeeded":
        raise InvalidField("status", f"the analysis has {job['status']}: no files yet")
    data = files.read_bytes(job["result_folder"], name)
    return Response(data, media_type=_media(name), headers=_disposition(name))


@router.delete("/analyses/{aid}", summary="Cancel an analysis (API token)", response_model=models.Analysis)
def cancel(engine: Eng, settings: AppSettings, user: ApiUser, aid: str) -> Response:
    with db_write(engine) as tx:
        job = store.cancel(tx, aid, user)
    return Json(_view(settings, engine, job, with_results=False))


@router.post(
    "/analyses/{aid}/retry", summary="Queue a failed or cancelled analysis again", response_model=models.Analysis
)
def retry(engine: Eng, settings: AppSettings, user: ApiUser, aid: str) -> Response:
    from carbonscope.analyses import queue

    with db_write(engine) as tx:
        job = store.retry(tx, aid, user)
    queue.submit(settings, aid)
    return Json(_view(settings, engine, job, with_results=False))


class AnalysisPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    public: bool = Field(description="true: anyone can read the analysis, its files and tiles")


@router.patch(
    "/analyses/{aid}", summary="Publish or unpublish your analysis (API token)", response_model=models.Analysis
)
def patch(engine: Eng, settings: AppSettings, user: ApiUser, aid: str, body: AnalysisPatch) -> Response:
    with db_write(engine) as tx:
        store.publish(tx, aid, user, body.public)
        job = store.get(tx, aid)
    return Json(_view(settings, engine, job, with_results=False))


MEDIA = {
    ".json": "application/json",
    ".html": "text/html; charset=utf-8",
    ".csv": "text/csv; charset=utf-8",
    ".tif": "image/tiff",
    ".gpkg": "application/geopackage+sqlite3",
    ".png": "image/png",
    ".parquet": "application/vnd.apache.parquet",
}


def _media(name: str) -> str:
    from pathlib import PurePosixPath

    return MEDIA.get(PurePosixPath(name).suffix.lower(), "application/octet-stream")


def _disposition(name: str) -> dict:
    from pathlib import PurePosixPath

    base = PurePosixPath(name).name
    # a report is shown in the browser under a sandboxing CSP; everything else downloads
    if base.endswith(".html"):
        return {"Content-Security-Policy": "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'"}
    return {"Content-Disposition": f'attachment; filename="{base}"'}
