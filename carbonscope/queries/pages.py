"""What each page of the site shows, read in one place: typed page readers over the list,
statistics and community queries. Routes render these; none runs SQL of its own."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from carbonscope.community import comments, proposals, support
from carbonscope.news import store as news_store
from carbonscope.queries import analyses as analysis_queries
from carbonscope.queries import analytics, charts, lists
from carbonscope.queries.check import findings
from carbonscope.queries.check import summary as findings_summary
from carbonscope.queries.filters import EventFilters, Page
from carbonscope.queries.projects import project_changes, project_detail
from carbonscope.registry.countries import country_name, numeric_codes
from carbonscope.registry.vocab import CATEGORY_LABELS

# The fields of a project page's table, in order, each shown with the source that gave it
PROJECT_FIELDS = (
    "registry",
    "status",
    "status_raw",
    "proponent",
    "owner",
    "country_name",
    "state",
    "site",
    "region",
    "category",
    "project_type",
    "type_raw",
    "scope",
    "methodologies",
    "methodology_raw",
    "methodology_version",
    "reduction_removal",
    "listed_at",
    "registered_at",
    "crediting_start",
    "crediting_end",
    "first_vintage",
    "estimated_annual",
    "verifier",
    "sdgs",
    "corsia",
    "ccp",
    "article6",
    "corresponding_adjustment",
    "is_compliance",
    "compliance_id",
    "poa_id",
    "size_class",
    "website",
)
# The source field a harmonised field is derived from (its provenance)
_RAW_FIELD = {
    "status": "status_raw",
    "country_name": "country_raw",
    "methodologies": "methodology_raw",
    "category": "type_override",
    "project_type": "type_override",
}
EVENTS_PER_PAGE = 50


@dataclass
class ProjectPage:
    p: dict  # the project (project_detail)
    fields: list[tuple[str, Any, dict | None]]  # (field, value, provenance) of the fields that have a value
    yearly: dict
    events: dict  # a page of its credit events, newest first
    chart: dict
    map: dict
    changes: list[dict]
    comments: dict
    support_count: int
    news: list[dict]
    linked_proposals: list[dict]
    target: tuple[str, str]
    category_labels: dict[str, str]
    timeline: list[tuple[str, str]]  # (what happened, ISO date), in date order


TIMELINE = (
    ("listed_at", "Listed in the registry"),
    ("registered_at", "Registered"),
    ("crediting_start", "Crediting period starts"),
    ("first_issuance_at", "First credits issued"),
    ("first_retirement_at", "First credits retired"),
    ("crediting_end", "Crediting period ends"),
)


def project_page(
    conn: Connection, project_id: str, events_page: int = 1, comments_before: int | None = None
) -> ProjectPage:
    """Everything a project's page shows; NotFoundError for an unknown project."""
    doc = project_detail(conn, project_id)
    pid = doc["id"]
    yearly = analytics.project_yearly(conn, pid)
    events = lists.list_events(
        conn, EventFilters(project=[pid]), Page(page=events_page, limit=EVENTS_PER_PAGE), "-event_date"
    )
    doc["country_name"] = country_name(doc.get("country")) or doc.get("country_name")
    fields = [(k, doc.get(k), doc["provenance"].get(_RAW_FIELD.get(k, k))) for k in PROJECT_FIELDS]
    # where a source gives only retired + cancelled, its yearly "retired" series is that sum too
    retired = {"retired": "Retired or cancelled"} if doc["totals"].get("retired") is None else {}
    timeline = sorted(((label, str(doc[k])[:10]) for k, label in TIMELINE if doc.get(k)), key=lambda t: t[1])
    return ProjectPage(
        p=doc,
        fields=[f for f in fields if f[1] not in (None, "", [])],
        yearly=yearly,
        events=events,
        chart={
            "project_year": charts.yearly(
                yearly["by_year"], "year", ["issued", "retired", "cancelled", "buffer"], labels=retired
            ),
            "project_vintage": charts.yearly(
                yearly["by_vintage"], "vintage", ["issued", "retired", "remaining"], labels=retired, axis="vintage"
            ),
        },
        map={
            "countries": {doc["country"]: 1} if doc.get("country") else {},
            "numeric": numeric_codes(),
            "focus": doc.get("country"),
        },
        changes=project_changes(conn, pid, limit=30),
        comments=comments.thread(conn, "project", pid, before=comments_before),
        support_count=support.count(conn, "project", pid),
        news=news_store.search(conn, target_kind="project", target_id=pid, limit=20)["items"],
        linked_proposals=proposals.linked_to(conn, pid),
        target=("project", pid),
        category_labels=CATEGORY_LABELS,
        timeline=timeline,
    )


def project_document(conn: Connection, project_id: str) -> dict:
    """A project for the API: every field with its provenance, totals, yearly series, recent changes."""
    doc = project_detail(conn, project_id)
    return {
        **doc,
        "yearly": analytics.project_yearly(conn, doc["id"]),
        "changes": project_changes(conn, doc["id"], limit=50),
    }


YEARLY_KEYS = ["issued", "retired", "cancelled"]


@dataclass
class HomePage:
    summary: dict
    empty: bool
    by_registry: list[dict]
    chart: dict
    top: list[dict]


def home_page(conn: Connection) -> HomePage:
    s = analytics.summary(conn)
    if s["projects"] == 0:
        return HomePage(s, True, [], {}, [])
    return HomePage(
        summary=s,
        empty=False,
        by_registry=analytics.breakdown(conn, "registry"),
        chart={
            "by_year": charts.yearly(analytics.by_year(conn, "event_date"), "year", YEARLY_KEYS),
            "cancelled_from": analytics.first_dated_cancellation(conn),
        },
        top=analytics.top_projects(conn, "retired_or_cancelled", 10),
    )


def project_with_id(conn: Connection, text: str) -> str | None:
    """The project ID ``text`` names exactly (``vcs 1340`` -> ``VCS1340``), when that project is loaded."""
    from sqlalchemy import select

    from carbonscope.db.schema import projects
    from carbonscope.registry.codes import is_project_id, normalise_id

    pid = normalise_id(text)
    if not is_project_id(pid):
        return None
    return conn.execute(select(projects.c.id).where(projects.c.id == pid)).scalar_one_or_none()


def is_empty(conn: Connection) -> bool:
    """No project loaded yet (pages then say how to load data)."""
    return analytics.summary(conn)["projects"] == 0


@dataclass
class StatsPage:
    empty: bool
    chart: dict
    map: dict
    countries: list[dict]
    beneficiaries: list[dict]
    beneficiary_cover: dict
    top: list[dict]
    categories: list[dict]
    category_labels: dict[str, str]


def stats_page(conn: Connection) -> StatsPage:
    if is_empty(conn):
        return StatsPage(True, {}, {}, [], [], {}, [], [], CATEGORY_LABELS)
    countries = analytics.breakdown(conn, "country")
    by_category = analytics.breakdown(conn, "category")
    chart = {
        "by_year": charts.yearly(analytics.by_year(conn, "event_date"), "year", YEARLY_KEYS),
        "by_vintage": charts.yearly(analytics.by_year(conn, "vintage"), "year", YEARLY_KEYS, axis="vintage"),
        "by_registry": charts.categorical(
            analytics.breakdown(conn, "registry"),
            "value",
            ["issued", "retired_or_cancelled", "remaining"],
            names=charts.REGISTRY_NAMES,
        ),
        "listings": charts.listings(analytics.listings_by_year(conn), analytics.undated_projects(conn)),
        "cancelled_from": analytics.first_dated_cancellation(conn),
    }
    groups, cover = analytics.beneficiary_groups(conn)
    return StatsPage(
        empty=False,
        chart=chart,
        map={
            "countries": {c["value"]: c["issued"] for c in countries if c["value"]},
            "numeric": numeric_codes(),
            "focus": None,
        },
        countries=countries[:30],
        beneficiaries=groups[:25],
        beneficiary_cover=cover,
        top=analytics.top_projects(conn, "issued", 15),
        categories=by_category,
        category_labels=CATEGORY_LABELS,
    )


@dataclass
class DataPage:
    summary: dict
    snapshots: list[dict]
    findings_summary: dict
    findings: dict[str, list[dict]]  # the first 100 of each kind
    counts: dict[str, int]


def data_page(conn: Connection) -> DataPage:
    items = findings(conn)
    by_kind: dict[str, list] = {}
    for f in items:
        by_kind.setdefault(f["kind"], []).append(f)
    return DataPage(
        summary=analytics.summary(conn),
        snapshots=analytics.snapshot_history(conn, 20),
        findings_summary=findings_summary(items),
        findings={k: v[:100] for k, v in by_kind.items()},
        counts={k: len(v) for k, v in by_kind.items()},
    )


@dataclass
class ProposalPage:
    p: dict  # the proposal (hidden ones only for their owner and admins)
    docs: list[dict]
    history: list[dict]
    comments: dict
    supported: bool  # by this reader
    is_owner: bool
    country_name: str | None
    map: dict
    target: tuple[str, str]
    analysis: dict | None = None  # the latest public analysis of its boundary
    similar: list[dict] | None = None  # registry projects of the same type in the same country


def proposal_page(conn: Connection, pid: int, user: dict | None, comments_before: int | None = None) -> ProposalPage:
    """Everything a proposal's page shows to ``user`` (None: an anonymous reader)."""
    doc = proposals.get(conn, pid, user)
    country = doc["country"]
    return ProposalPage(
        p=doc,
        docs=proposals.docs(conn, pid),
        history=proposals.revisions(conn, pid),
        comments=comments.thread(conn, "proposal", str(pid), before=comments_before),
        supported=support.supports_it(conn, user, "proposal", str(pid)),
        is_owner=bool(user and user["id"] == doc["owner_id"]),
        country_name=country_name(country),
        map={
            "boundary": doc["boundary"],
            "countries": {country: 1} if country else {},
            "focus": country,
            "numeric": numeric_codes(),
        },
        target=("proposal", str(pid)),
        analysis=analysis_queries.latest_public(conn, pid),
        similar=analysis_queries.similar_projects(conn, country, doc["project_type"], doc["category"]),
    )


DOCUMENT_FIELDS = ("id", "filename", "content_type", "size", "uploaded_at")


def proposal_document(conn: Connection, pid: int) -> dict:
    """A proposal for the API: its public fields, its documents and its history of edits."""
    doc = proposals.public(proposals.get(conn, pid))
    documents = [{k: d[k] for k in DOCUMENT_FIELDS} for d in proposals.docs(conn, pid)]
    return {**doc, "documents": documents, "history": proposals.revisions(conn, pid)}
