"""The credit-event ledger across projects."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy import Engine
from starlette.responses import Response

from carbonscope.queries import lists
from carbonscope.queries.filters import EVENT_SORTS
from carbonscope.web import export
from carbonscope.web.api import models
from carbonscope.web.api.params import EventListParams, checked_sort
from carbonscope.web.deps import Conn, ExportSlotsDep, get_engine_dep
from carbonscope.web.responses import Json

router = APIRouter(tags=["credits"])


@router.get("/credits", summary="List credit events", response_model=models.EventList, responses=models.FILE_RESPONSES)
def list_credits(
    conn: Conn,
    engine: Annotated[Engine, Depends(get_engine_dep)],
    slots: ExportSlotsDep,
    params: Annotated[EventListParams, Query()],
) -> Response:
    """Issuances, retirements, cancellations, conversions and buffer deposits: filter by project, registry,
    type, vintage, date range, beneficiary text and quantity; ``format=csv|parquet|xlsx`` streams the view."""
    sort = checked_sort(params.sort, EVENT_SORTS, "-event_date")
    filters = params.filters()
    if params.format != "json":
        return export.response(params.format, engine, lists.events_query(filters, sort), "credits", slots)
    return Json(lists.list_events(conn, filters, params.paging(), sort))
