"""Projects: list with filters, facets, one project, its events."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from sqlalchemy import Engine
from starlette.responses import Response

from carbonscope.queries import lists
from carbonscope.queries.filters import EVENT_SORTS, PROJECT_SORTS
from carbonscope.queries.pages import project_document
from carbonscope.queries.projects import project_detail
from carbonscope.registry.codes import normalise_id
from carbonscope.web import export
from carbonscope.web.api import models
from carbonscope.web.api.params import EventListParams, ProjectListParams, checked_sort
from carbonscope.web.deps import Conn, ExportSlotsDep, get_engine_dep
from carbonscope.web.responses import Json

router = APIRouter(prefix="/projects", tags=["projects"])
ProjectId = Annotated[
    str, Path(max_length=40, pattern=r"^[A-Za-z]{2,6}\d{1,9}$", description="e.g. VCS1340, GS2913, ACR1185")
]


@router.get("", summary="List projects", response_model=models.ProjectList, responses=models.FILE_RESPONSES)
def list_projects(
    conn: Conn,
    engine: Annotated[Engine, Depends(get_engine_dep)],
    slots: ExportSlotsDep,
    params: Annotated[ProjectListParams, Query()],
) -> Response:
    """Projects of every registry: filters, free-text search, sort by any listed column, pages of at most 500 rows.

    ``format=csv|parquet|xlsx`` answers with exactly the filtered view, streamed, instead of a page."""
    sort = checked_sort(params.sort, PROJECT_SORTS, "-issued")
    filters = params.filters()
    if params.format != "json":
        return export.response(params.format, engine, lists.project_query(filters, sort), "projects", slots)
    return Json(lists.list_projects(conn, filters, params.paging(), sort))


@router.get("/facets", summary="Counts of each filter value", response_model=models.Facets)
def facets(conn: Conn, params: Annotated[ProjectListParams, Query()]) -> Response:
    """For each facet (registry, country, category, type, status, reduction_removal), the values present
    under the other filters with their project counts: filter lists come from the data."""
    return Json(lists.project_facets(conn, params.filters()))


@router.get("/{project_id}", summary="One project", response_model=models.ProjectDetail)
def get_project(conn: Conn, project_id: ProjectId) -> Response:
    """Every field with its provenance, totals, totals per vintage, yearly series, changes seen."""
    return Json(project_document(conn, project_id))


@router.get(
    "/{project_id}/events",
    summary="A project's credit events",
    response_model=models.EventList,
    responses=models.FILE_RESPONSES,
)
def project_events(
    conn: Conn,
    engine: Annotated[Engine, Depends(get_engine_dep)],
    project_id: ProjectId,
    slots: ExportSlotsDep,
    params: Annotated[EventListParams, Query()],
) -> Response:
    sort = checked_sort(params.sort, EVENT_SORTS, "-event_date")
    pid = normalise_id(project_id)
    project_detail(conn, pid)  # 404 for an unknown project
    filters = params.filters(project=[pid])
    if params.format != "json":
        return export.response(params.format, engine, lists.events_query(filters, sort), f"{pid}-events", slots)
    return Json(lists.list_events(conn, filters, params.paging(), sort))
