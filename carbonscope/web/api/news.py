"""News read API."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from starlette.responses import Response

from carbonscope.news import store
from carbonscope.registry.codes import normalise_id
from carbonscope.web.api import models
from carbonscope.web.deps import Conn
from carbonscope.web.responses import Json

router = APIRouter(prefix="/news", tags=["news"])


@router.get("", response_model=models.NewsList)
def list_news(
    conn: Conn,
    q: Annotated[str | None, Query(max_length=200)] = None,
    topic: Annotated[str | None, Query(max_length=200)] = None,
    source: Annotated[str | None, Query(max_length=200)] = None,
    language: Annotated[str | None, Query(pattern="^[a-z]{2}$", description="two-letter code, e.g. en")] = None,
    target_kind: Literal["project", "country", "methodology", "developer"] | None = None,
    target_id: Annotated[str | None, Query(max_length=200)] = None,
    min_confidence: Annotated[float, Query(ge=0, le=1)] = 0.5,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    """News items with their links to projects, developers, countries and methodologies."""
    return Json(
        store.search(
            conn,
            q,
            topic,
            source,
            language,
            target_kind,
            normalise_id(target_id) if target_kind == "project" and target_id else target_id,
            min_confidence,
            limit,
            (page - 1) * limit,
        )
    )


@router.get("/stats", response_model=models.NewsStats)
def news_stats(conn: Conn) -> Response:
    """Items per topic and ISO week."""
    return Json({"per_topic_week": store.per_topic_week(conn), **store.facets(conn)})
