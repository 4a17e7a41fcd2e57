"""Query-parameter models of the list endpoints: filters plus page, limit, sort and format."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from carbonscope.errors import InvalidField
from carbonscope.queries.filters import EventFilters, Page, ProjectFilters

Format = Literal["json", "csv", "parquet", "xlsx"]


class ProjectListParams(ProjectFilters, Page):
    sort: str | None = Field(
        None, max_length=40, description="column to sort by, - prefix for descending (default -issued)"
    )
    format: Format = "json"

    def filters(self) -> ProjectFilters:
        return ProjectFilters(**self.model_dump(include=set(ProjectFilters.model_fields)))

    def paging(self) -> Page:
        return Page(page=self.page, limit=self.limit)


class EventListParams(EventFilters, Page):
    sort: str | None = Field(
        None,
        max_length=40,
        description="event_date, quantity, vintage, project_id, type (- for descending; default -event_date)",
    )
    format: Format = "json"

    def filters(self, **override: Any) -> EventFilters:
        return EventFilters(**{**self.model_dump(include=set(EventFilters.model_fields)), **override})

    def paging(self) -> Page:
        return Page(page=self.page, limit=self.limit)


def checked_sort(sort: str | None, allowed: dict, default: str) -> str:
    from carbonscope.queries.filters import parse_sort

    try:
        parse_sort(sort, allowed, default)
    except ValueError as exc:
        raise InvalidField("sort", str(exc)) from exc
    return sort or default
