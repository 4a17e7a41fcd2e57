"""HTML pages. Each route gathers data through the shared queries and renders a template."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from carbonscope.errors import InvalidField
from carbonscope.queries import charts, lists, suggest
from carbonscope.queries import pages as page_data
from carbonscope.queries.filters import EVENT_SORTS, PROJECT_SORTS, from_pairs
from carbonscope.queries.reader import reader_state
from carbonscope.registry.codes import normalise_id
from carbonscope.registry.countries import country_name
from carbonscope.registry.vocab import CATEGORY_LABELS
from carbonscope.web import personal
from carbonscope.web.api.params import EventListParams, ProjectListParams, checked_sort
from carbonscope.web.auth import User, csrf_token, current_user, finish
from carbonscope.web.deps import Conn
from carbonscope.web.templating import templates

router = APIRouter(include_in_schema=False)

FACET_LABELS = {
    "registry": "Registry",
    "category": "Category",
    "type": "Project type",
    "status": "Status",
    "country": "Country",
    "reduction_removal": "Reduction / removal",
}


P = TypeVar("P", bound=BaseModel)


def _lenient(model: type[P], request: Request) -> tuple[P, list[str]]:
    """The explorers' params with any bad filter left out, and what was wrong with each, in words:
    a person who mistypes one filter keeps the page and the other filters."""
    pairs = list(request.query_params.multi_items())
    problems: list[str] = []
    for _ in range(len(pairs) + 1):
        try:
            return from_pairs(model, pairs), problems
        except ValidationError as exc:
            bad = {str(e["loc"][0]) for e in exc.errors() if e["loc"]}
            problems += [_explain(e, pairs) for e in exc.errors()]
            if not bad:
                raise
            pairs = [(k, v) for k, v in pairs if k not in bad]
    raise AssertionError("unreachable: every round drops a field")


REGISTRY_CHOICES = (
    "Verra (VCS), Gold Standard (GS), American Carbon Registry (ACR), Climate Action Reserve (CAR) or ART TREES (ART)"
)


def _explain(error: Mapping[str, Any], pairs: list[tuple[str, str]]) -> str:
    """One unreadable filter in words, with the value as the person typed it."""
    field = str(error["loc"][0]) if error["loc"] else "filter"
    label = FACET_LABELS.get(field, field.replace("_", " ").capitalize())
    typed = [v for k, v in pairs if k == field and v != ""]
    given = error.get("input")
    if len(error["loc"]) > 1 and isinstance(given, str):  # one value of a list
        typed = [given]
    shown = "“" + "”, “".join(typed) + "”" if typed else "this value"
    if field == "registry":
        return f"{label} {shown} is not one of the registries here: choose {REGISTRY_CHOICES}."
    if field == "country":
        return f"{label} {shown} is not a country name or two-letter ISO code we know (e.g. Kenya or KE)."
    message = str(error.get("msg", "")).removeprefix("Value error, ")
    return f"{label} {shown}: {message[:1].lower() + message[1:]}."


@router.get("/favicon.ico")
def favicon() -> Response:
    return RedirectResponse("/static/favicon.svg", status_code=301)


@router.get("/api/docs")
def api_docs(request: Request) -> Response:
    """OpenAPI documentation (Swagger UI served locally; it needs inline styles)."""
    response = templates.TemplateResponse(request, "api_docs.html", {})
    response.headers["content-security-policy"] = (
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
        "object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
    )
    return response


@router.get("/")
def home(request: Request, conn: Conn, user: User) -> Response:
    return templates.TemplateResponse(request, "home.html", vars(page_data.home_page(conn)))


@router.get("/projects")
def projects_page(request: Request, conn: Conn, user: User) -> Response:
    params, problems = _lenient(ProjectListParams, request)
    if params.q and set(request.query_params) <= {"q"}:  # an exact ID typed in search opens its project
        pid = page_data.project_with_id(conn, params.q)
        if pid is not None:
            return RedirectResponse(f"/projects/{pid}", status_code=303)
    sort = _sort_or_default(params.sort, PROJECT_SORTS, "-issued", problems)
    filters = params.filters()
    data = lists.list_projects(conn, filters, params.paging(), sort)
    suggestion = suggest.corrected_query(conn, params.q) if params.q and data["total"] == 0 and not problems else None
    facets = lists.project_facets(conn, filters)
    view = lists.project_view_totals(conn, filters) if data["total"] else None
    view_chart = (
        {
            "view_categories": charts.categorical(
                [
                    {**c, "label": CATEGORY_LABELS.get(c["category"], c["category"] or "unclassified")}
                    for c in view["by_category"]
                ],
                "label",
                ["issued", "retired_or_cancelled"],
            ),
            "view_listed": charts.yearly(
                view["listed"], "year", ["projects"], labels={"projects": "Projects"}, unit="projects listed"
            ),
        }
        if view
        else {}
    )
    export_qs = [(k, v) for k, v in request.query_params.multi_items() if k not in ("page", "limit", "format")]
    return templates.TemplateResponse(
        request,
        "projects.html",
        {
            "data": data,
            "facets": facets,
            "facet_labels": FACET_LABELS,
            "category_labels": CATEGORY_LABELS,
            "params": params,
            "country_names": {f["value"]: country_name(f["value"]) for f in facets["country"]},
            "export_qs": export_qs,
            "empty": data["total"] == 0 and page_data.is_empty(conn),
            "sort": sort,
            "problems": problems,
            "suggestion": suggestion,
            "view": view,
            "chart": view_chart,
            "active": _active_filters(request),
        },
        status_code=422 if problems else 200,
    )


ACTIVE_LABELS = {
    **FACET_LABELS,
    "q": "Search",
    "methodology": "Methodology",
    "scope": "Scope",
    "corsia": "CORSIA eligible",
    "ccp": "ICVCM CCP",
    "vintage_min": "Vintage from",
    "vintage_max": "Vintage to",
    "issued_min": "Issued at least",
    "issued_max": "Issued at most",
    "retired_min": "Retired at least",
    "retired_max": "Retired at most",
    "listed_from": "Listed from",
    "listed_to": "Listed to",
    "registered_from": "Registered from",
    "registered_to": "Registered to",
}


def _active_filters(request: Request) -> list[dict]:
    """Each filter in the URL as a chip: what it is, in words, and the link that removes it."""
    from carbonscope.web.templating import with_query

    out = []
    for key, value in request.query_params.multi_items():
        if key not in ACTIVE_LABELS or value == "":
            continue
        rest = [v for v in request.query_params.getlist(key) if v != value]
        shown = (
            country_name(value)
            if key == "country"
            else CATEGORY_LABELS.get(value, value)
            if key == "category"
            else value
        )
        out.append(
            {
                "label": ACTIVE_LABELS[key],
                "value": shown or value,
                "remove": with_query(request, **{key: rest or None, "page": None}),
            }
        )
    return out


def _sort_or_default(sort: str | None, allowed: dict, default: str, problems: list[str]) -> str:
    try:
        return checked_sort(sort, allowed, default)
    except InvalidField:
        problems.append(f"Sort “{sort}” is not a column of this list; it is sorted by the default instead.")
        return default


@router.get("/projects/{project_id}")
async def project_page(
    request: Request,
    project_id: Annotated[str, Path(max_length=40)],
    events_page: Annotated[int, Query(ge=1, le=100000)] = 1,
    comments_before: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    """Anonymous readers get the page (cached by the middleware); signed-in readers get their copy of
    a shared rendering (web/personal.py): a few indexed reads per request instead of the whole page."""
    pid = normalise_id(project_id)
    with request.app.state.engine.connect() as conn:  # short indexed reads: cheaper here than a hop to the thread pool
        user = current_user(request, conn)
        mine = reader_state(conn, user["id"], "project", pid) if user is not None else None
    if user is None or mine is None:
        return await run_in_threadpool(_project_response, request, project_id, events_page, comments_before)
    settings = request.app.state.settings
    slots = personal.slots_for(settings.secret_key)
    renderings: personal.Renderings = request.app.state.renderings
    key = personal.cache_key(
        request.app.state.version.get(), "project", pid, mine["version"], f"{events_page}|{comments_before}"
    )
    pieces = renderings.get(key, slots)
    if pieces is None:
        html = await run_in_threadpool(_project_html, request, project_id, events_page, comments_before, slots)
        pieces = renderings.put(key, html, slots)
    csrf = csrf_token(request)
    body = personal.fill(
        pieces,
        user_id=user["id"],
        csrf=csrf,
        nav=templates.get_template("_nav_user.html").render(request=request),
        support=templates.get_template("_support_forms.html").render(
            target=("project", pid),
            csrf=csrf,
            supported=mine["supported"],
            watching=mine["watching"],
            done=request.query_params.get("done"),
        ),
    )
    return finish(request, HTMLResponse(body, headers={"cache-control": "no-store"}))


def _project_response(request: Request, project_id: str, events_page: int, comments_before: int | None):
    with request.app.state.engine.connect() as conn:
        ctx = vars(page_data.project_page(conn, project_id, events_page, comments_before))
    return templates.TemplateResponse(request, "project.html", ctx)


def _project_html(
    request: Request, project_id: str, events_page: int, comments_before: int | None, slots: personal.Slots
) -> str:
    """The page every signed-in reader shares, with slots where their copies differ."""
    with request.app.state.engine.connect() as conn:
        ctx = vars(page_data.project_page(conn, project_id, events_page, comments_before))
    return templates.get_template("project.html").render(
        {**ctx, "request": request, "slots": slots, "csrf": slots.csrf}
    )


@router.get("/credits")
def credits_page(request: Request, conn: Conn, user: User) -> Response:
    params, problems = _lenient(EventListParams, request)
    sort = _sort_or_default(params.sort, EVENT_SORTS, "-event_date", problems)
    data = lists.list_events(conn, params.filters(), params.paging(), sort)
    export_qs = [(k, v) for k, v in request.query_params.multi_items() if k not in ("page", "limit", "format")]
    return templates.TemplateResponse(
        request,
        "credits.html",
        {
            "data": data,
            "params": params,
            "export_qs": export_qs,
            "sort": sort,
            "empty": page_data.is_empty(conn),
            "problems": problems,
        },
        status_code=422 if problems else 200,
    )


@router.get("/stats")
def stats_page(request: Request, conn: Conn, user: User) -> Response:
    return templates.TemplateResponse(request, "stats.html", vars(page_data.stats_page(conn)))


@router.get("/data")
def data_page(request: Request, conn: Conn, user: User) -> Response:
    from datetime import UTC, datetime

    from carbonscope.ops import alerts, schedule

    settings, engine = request.app.state.settings, request.app.state.engine
    now = datetime.now(UTC)
    plan = [
        {"job": job, "cron": cron, "next": trigger.get_next_fire_time(None, now)}
        for (job, cron), trigger in zip(settings.schedules.items(), schedule.triggers(settings).values())
    ]
    ctx = {
        **vars(page_data.data_page(conn)),
        "schedules": plan,
        "runner": "the site itself" if settings.scheduler_embedded else "the scheduler service",
        "runs": schedule.last_runs(engine, 15),
        "failing": [a for a in alerts.states(engine) if a["state"] == "failing"],
    }
    return templates.TemplateResponse(request, "data.html", ctx)
