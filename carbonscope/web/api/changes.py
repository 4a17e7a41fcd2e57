"""The change feed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from starlette.responses import Response

from carbonscope.queries.feed import changes_since
from carbonscope.web.api import models
from carbonscope.web.deps import Conn
from carbonscope.web.responses import Json

router = APIRouter(tags=["changes"])
Kind = Literal["new_project", "status_changed", "totals_changed", "new_events", "events_updated"]


@router.get("/changes", response_model=models.ChangeFeed)
def changes(
    conn: Conn,
    since: Annotated[datetime | None, Query(description="ISO date or timestamp")] = None,
    kind: Annotated[list[Kind] | None, Query()] = None,
    after_id: Annotated[int | None, Query(ge=0)] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> Response:
    """New projects, status changes, new events and changed totals, oldest first; page with ``after_id``."""
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    items = changes_since(conn, since, kinds=kind, limit=limit, after_id=after_id)
    return Json(
        {"total": len(items), "items": items, "next_after_id": items[-1]["id"] if len(items) == limit else None}
    )
