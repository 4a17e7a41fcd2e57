"""HTML pages. Each route gathers data through the shared queries and renders a template."""

from __future__ import annotations

from typing import Annotated, TypeVar

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from carbonscope.queries import lists
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


def _params(model: type[P], request: Request) -> P:
    """Build a params model from the query string; bad values become a 422 page naming the field."""
    from fastapi.exceptions import RequestValidationError

    try:
        return from_pairs(model, request.query_params.multi_items())
    except ValidationError as exc:
        raise RequestValidationError([{**e, "loc": ("query", *e["loc"])} for e in exc.errors()]) from exc


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
    params = _params(ProjectListParams, request)
    if params.q and set(request.query_params) <= {"q"}:  # an exact ID typed in search opens its project
        pid = page_data.project_with_id(conn, params.q)
        if pid is not None:
            return RedirectResponse(f"/projects/{pid}", status_code=303)
    sort = checked_sort(params.sort, PROJECT_SORTS, "-issued")
    filters = params.filters()
    data = lists.list_projects(conn, filters, params.paging(), sort)
    facets = lists.project_facets(conn, filters)
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
        },
    )


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
            target=("project", pid), csrf=csrf, supported=mine["supported"], watching=mine["watching"]
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
    params = _params(EventListParams, request)
    sort = checked_sort(params.sort, EVENT_SORTS, "-event_date")
    data = lists.list_events(conn, params.filters(), params.paging(), sort)
    export_qs = [(k, v) for k, v in request.query_params.multi_items() if k not in ("page", "limit", "format")]
    return templates.TemplateResponse(
        request,
        "credits.html",
        {"data": data, "params": params, "export_qs": export_qs, "sort": sort, "empty": page_data.is_empty(conn)},
    )


@router.get("/stats")
def stats_page(request: Request, conn: Conn, user: User) -> Response:
    return templates.TemplateResponse(request, "stats.html", vars(page_data.stats_page(conn)))


@router.get("/data")
def data_page(request: Request, conn: Conn, user: User) -> Response:
    return templates.TemplateResponse(request, "data.html", vars(page_data.data_page(conn)))
