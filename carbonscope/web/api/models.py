"""The API's response schemas, declared on every route so the OpenAPI document tells clients (the
QGIS plugin among them) what each answer holds. Rows of the registry tables take their fields and
types from the database schema itself, so a column added there shows here without a second list.

Routes still answer through the fast orjson ``Json`` response (FastAPI does not re-validate a
returned Response); ``tests/web/test_api_models.py`` validates real answers of every route against
these models, so schema and answers cannot drift apart."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model
from sqlalchemy import JSON, Table

from carbonscope.community.proposals import PUBLIC_FIELDS
from carbonscope.db.schema import credit_events, projects, proposals
from carbonscope.queries.lists import EVENT_COLUMNS, PROJECT_LIST_COLUMNS
from carbonscope.queries.projects import PUBLIC_FIELDS as PROJECT_FIELDS

STRICT = ConfigDict(extra="forbid")
# A list route answers with a file instead of JSON when asked for format=csv, parquet or xlsx
FILE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {
            "text/csv": {},
            "application/vnd.apache.parquet": {},
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {},
        },
        "description": "the page as JSON, or with format=csv|parquet|xlsx the whole filtered view as a file",
    }
}


def _python_type(table: Table, name: str) -> Any:
    col = table.c[name]
    if isinstance(col.type, JSON):
        return Any
    try:
        t = col.type.python_type
    except NotImplementedError:
        return Any
    return t | None if col.nullable else t


def row_model(model_name: str, table: Table, columns: list[str], doc: str, **more: Any) -> type[BaseModel]:
    """A model of rows of ``table`` with ``columns``, each required (types and nullability from the schema)."""
    fields: dict[str, Any] = {c: (_python_type(table, c), ...) for c in columns}
    fields |= more
    model = create_model(model_name, __config__=STRICT, **fields)
    model.__doc__ = doc
    return model


ProjectRow = row_model(
    "ProjectRow", projects, PROJECT_LIST_COLUMNS, "A project in a list: its harmonised fields and credit totals."
)
EventRow = row_model(
    "EventRow",
    credit_events,
    EVENT_COLUMNS,
    "A credit event of the ledger: issuance, retirement, cancellation, conversion or buffer deposit.",
)


class _Paged(BaseModel):
    model_config = STRICT
    total: int = Field(description="rows matching the filters")
    page: int
    limit: int
    pages: int
    sort: str


class ProjectList(_Paged):
    items: list[ProjectRow]  # type: ignore[valid-type]


class EventList(_Paged):
    items: list[EventRow]  # type: ignore[valid-type]
    quantity: int = Field(description="credits in all matching events (tCO2e), not only this page")


class FacetValue(BaseModel):
    model_config = STRICT
    value: str | None
    count: int


class Facets(BaseModel):
    model_config = STRICT
    registry: list[FacetValue]
    country: list[FacetValue]
    category: list[FacetValue]
    type: list[FacetValue]
    status: list[FacetValue]
    reduction_removal: list[FacetValue]


class TotalRule(BaseModel):
    """Which rule chose a total, from which source, file and row."""

    model_config = ConfigDict(extra="allow")
    rule: str
    value: int | None = None
    source: str | None = None


class YearRow(BaseModel):
    model_config = STRICT
    year: int
    issued: int
    retired: int
    cancelled: int
    buffer: int | None = None


class VintageRow(BaseModel):
    model_config = ConfigDict(extra="allow")
    vintage: int
    issued: int
    retired: int | None = None
    cancelled: int | None = None
    remaining: int | None = None


class Yearly(BaseModel):
    model_config = STRICT
    by_year: list[YearRow]
    by_vintage: list[VintageRow]


class Change(BaseModel):
    model_config = ConfigDict(extra="allow")
    created_at: datetime
    kind: str
    detail: dict[str, Any] | None = None
    snapshot_id: int | None = None


ProjectDetail = row_model(
    "ProjectDetail",
    projects,
    PROJECT_FIELDS,
    "One project: every field, its credit totals with the rule that chose each, totals per vintage, "
    "yearly series, the sources behind it with per-field provenance, and what changed.",
    totals=(dict[str, int | None], ...),
    totals_source=(str | None, None),
    totals_rules=(dict[str, TotalRule], ...),
    vintages=(list[VintageRow], ...),
    series=(dict[str, dict[int, int]], ...),
    sources=(Any, None),
    provenance=(dict[str, Any], ...),
    event_count=(int, ...),
    retracted_events=(list[dict[str, Any]], ...),
    yearly=(Yearly, ...),
    changes=(list[Change], ...),
)


class ChangeRow(BaseModel):
    model_config = STRICT
    id: int
    created_at: datetime
    snapshot_id: int | None
    kind: str
    project_id: str
    name: str | None
    registry: str | None
    detail: dict[str, Any] | None


class ChangeFeed(BaseModel):
    model_config = STRICT
    total: int
    items: list[ChangeRow]
    next_after_id: int | None = Field(description="pass as after_id for the next page")


class Freshness(BaseModel):
    model_config = STRICT
    source: str
    exported_at: str | None
    date_basis: str | None
    retrieved_at: str | None
    checked_at: str | None


class Summary(BaseModel):
    model_config = STRICT
    projects: int
    events: int
    issued: int
    retired: int
    cancelled: int
    retired_or_cancelled: int
    registries: int
    freshness: list[Freshness]
    data_version: int


class ByYearRow(BaseModel):
    model_config = STRICT
    year: int
    issued: int
    retired: int
    cancelled: int


class ByYear(BaseModel):
    model_config = STRICT
    basis: str
    items: list[ByYearRow]


class BreakdownRow(BaseModel):
    model_config = STRICT
    value: str | None
    country_name: str | None = Field(None, description="by country: the country's name")
    projects: int
    issued: int
    retired: int
    cancelled: int
    remaining: int
    retired_or_cancelled: int


class Breakdown(BaseModel):
    model_config = STRICT
    dimension: str
    items: list[BreakdownRow]


class ListingYear(BaseModel):
    model_config = STRICT
    year: int
    projects: int
    by_registry: dict[str, int]


class Listings(BaseModel):
    model_config = STRICT
    items: list[ListingYear]


class TopProject(BaseModel):
    model_config = STRICT
    id: str
    name: str | None
    registry: str
    country: str | None
    project_type: str | None
    quantity: int


class TopProjects(BaseModel):
    model_config = STRICT
    metric: str
    items: list[TopProject]


class Beneficiary(BaseModel):
    model_config = STRICT
    beneficiary: str
    quantity: int
    retirements: int
    spellings: list[str]


class TopBeneficiaries(BaseModel):
    model_config = ConfigDict(extra="allow")
    items: list[Beneficiary]


class NewsLink(BaseModel):
    model_config = STRICT
    id: int
    news_id: int
    target_kind: str
    target_id: str
    confidence: float = Field(description="0 to 1: how sure the automatic linker is")
    method: str = Field(description="how the link was found: serial, id, name, ...")
    evidence: str | None
    status: str = Field(description="auto, or confirmed by a moderator")


class NewsItem(BaseModel):
    model_config = STRICT
    id: int
    title: str
    summary: str | None
    source: str | None
    link: str | None
    published_at: datetime | date | None
    topic: str | None
    language: str | None = Field(description="two-letter code of the language it is written in, detected")
    links: list[NewsLink]


class NewsList(BaseModel):
    model_config = STRICT
    total: int
    items: list[NewsItem]


class TopicWeek(BaseModel):
    model_config = STRICT
    week: str
    topic: str | None
    items: int


class LanguageCount(BaseModel):
    model_config = STRICT
    value: str = Field(description="two-letter language code")
    count: int
    label: str = Field(description="the language's English name")


class NewsStats(BaseModel):
    model_config = STRICT
    per_topic_week: list[TopicWeek]
    topic: list[FacetValue]
    source: list[FacetValue]
    language: list[LanguageCount]


Proposal = row_model(
    "Proposal",
    proposals,
    [f for f in PUBLIC_FIELDS if f != "owner_name"],
    "A proposed project as everyone sees it (contact included: proposers publish it to find partners).",
    owner_name=(str | None, None),
    changed=(list[str] | None, Field(None, description="fields an edit changed")),
)


class DocumentRow(BaseModel):
    model_config = STRICT
    id: int
    filename: str
    content_type: str
    size: int
    uploaded_at: datetime | None = None


class Revision(BaseModel):
    model_config = STRICT
    at: datetime
    action: str
    changes: dict[str, Any] | None
    editor: str | None


ProposalDetail = create_model(
    "ProposalDetail",
    __base__=Proposal,
    documents=(list[DocumentRow], ...),
    history=(list[Revision], ...),
)


ProposalSummary = row_model(
    "ProposalSummary",
    proposals,
    [
        "id",
        "name",
        "country",
        "project_type",
        "category",
        "status",
        "support_count",
        "area_ha",
        "created_at",
        "linked_project_id",
        "expected_annual",
    ],
    "A proposal in a list.",
    owner_name=(str | None, ...),
)


class ProposalList(BaseModel):
    model_config = STRICT
    total: int
    items: list[ProposalSummary]  # type: ignore[valid-type]


class Boundary(BaseModel):
    model_config = STRICT
    area_ha: float = Field(description="geodesic area, hectares")
    centroid: list[float] = Field(description="longitude, latitude (WGS84)")
    source_crs: str | None
    features: int


class Comment(BaseModel):
    model_config = STRICT
    id: int
    parent_id: int | None
    author_id: int | None
    body_html: str = Field(description="sanitised HTML rendered from the author's Markdown")
    created_at: datetime
    edited_at: datetime | None
    deleted: bool
    author: str | None
    replies: list[Comment] | None = None


class CommentThread(BaseModel):
    model_config = STRICT
    total: int
    threads: list[Comment] = Field(description="newest threads first, replies oldest first")
    older: int | None = Field(description="pass as before= for the next page of threads")


class CommentDone(BaseModel):
    model_config = STRICT
    id: int
    edited: bool | None = None
    deleted: bool | None = None


class SupportState(BaseModel):
    model_config = STRICT
    supported: bool
    count: int


class AnalysisProgress(BaseModel):
    model_config = STRICT
    fraction: float = Field(description="0 to 1")
    step: str | None = Field(description="the step running now, in words")


class Analysis(BaseModel):
    """A background analysis: its recipe, status, progress and (once succeeded) its results.json."""

    model_config = STRICT
    id: str
    recipe: str
    recipe_version: str
    status: str = Field(description="queued, running, succeeded, failed or cancelled")
    progress: AnalysisProgress
    error: str | None
    public: bool
    proposal: int | None
    area_ha: float | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    url: str
    page: str
    results: dict[str, Any] | None = Field(None, description="the recipe's results.json")
    files: list[dict[str, Any]] | None = Field(None, description="downloadable files: name and bytes")


class AnalysisQueued(BaseModel):
    model_config = STRICT
    id: str
    status: str
    url: str


class AnalysisList(BaseModel):
    model_config = STRICT
    items: list[Analysis]


class DataSourceRow(BaseModel):
    model_config = STRICT
    name: str
    title: str
    roles: list[str]
    coverage: str
    licence: str
    origin: str = Field(description="file, STAC catalog, or tiles (a URL or path template)")
    dates: str | None


class DataSources(BaseModel):
    model_config = STRICT
    sources: list[DataSourceRow]
    roles: dict[str, str] = Field(description="every layer role and what it holds")
    recipes: list[dict[str, Any]] = Field(description="the recipes: name, version, title, description, layer roles")


class AnalysisPlan(BaseModel):
    model_config = STRICT
    recipe: str
    area_ha: float
    layers: dict[str, Any]
    parameters: dict[str, Any]
    pixels: dict[str, int] = Field(description="raster cells each layer reads around the boundary")
