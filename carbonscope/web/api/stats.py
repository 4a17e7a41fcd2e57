"""Statistics: yearly series, breakdowns, listings, rankings."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from starlette.responses import Response

from carbonscope.queries import analytics
from carbonscope.queries.filters import MAX_PAGE, Registry
from carbonscope.web.api import models
from carbonscope.web.deps import Conn
from carbonscope.web.responses import Json

router = APIRouter(prefix="/stats", tags=["statistics"])
Registries = Annotated[list[Registry] | None, Query(description="restrict to these registries")]


@router.get("/summary", response_model=models.Summary)
def summary(conn: Conn) -> Response:
    """Headline figures and data freshness per source."""
    return Json(analytics.summary(conn))


@router.get("/by-year", response_model=models.ByYear)
def by_year(
    conn: Conn, basis: Literal["event_date", "vintage"] = "event_date", registry: Registries = None
) -> Response:
    """Issued, retired and cancelled per year of the event or of the vintage."""
    return Json({"basis": basis, "items": analytics.by_year(conn, basis, registry)})


@router.get("/by/{dimension}", response_model=models.Breakdown)
def by_dimension(
    conn: Conn,
    dimension: Annotated[Literal["registry", "category", "type", "country", "status"], Path()],
    registry: Registries = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 300,
) -> Response:
    """Projects and credits by registry, category, type, country or status."""
    return Json({"dimension": dimension, "items": analytics.breakdown(conn, dimension, registry, limit)})


@router.get("/listings", response_model=models.Listings)
def listings(conn: Conn) -> Response:
    """Project counts by listing year."""
    return Json({"items": analytics.listings_by_year(conn)})


@router.get("/top-projects", response_model=models.TopProjects)
def top_projects(
    conn: Conn,
    metric: Literal["issued", "retired", "retired_or_cancelled", "remaining", "cancelled"] = "issued",
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
    registry: Registries = None,
) -> Response:
    return Json({"metric": metric, "items": analytics.top_projects(conn, metric, limit, registry)})


@router.get("/top-beneficiaries", response_model=models.TopBeneficiaries)
def top_beneficiaries(
    conn: Conn, limit: Annotated[int, Query(ge=1, le=200)] = 20, registry: Registries = None
) -> Response:
    """Retirement beneficiaries by quantity retired (from the event ledger)."""
    return Json({"items": analytics.top_beneficiaries(conn, limit, registry)})
