"""Analyse an area: the form (draw or upload a boundary, pick a recipe and data), the job page with
live progress, the results (map tiles, totals, baseline chart, downloads), and the owner's actions.
Every write checks the CSRF token and the owner; a private analysis is "not found" to others."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.datastructures import UploadFile as StarletteUpload
from starlette.responses import Response

from carbonscope.analyses import explain, files, service, store, tiles
from carbonscope.analyses.inputs import Request as AnalysisRequest
from carbonscope.analyses.inputs import boundary_upload
from carbonscope.analyses.recipes import RECIPES
from carbonscope.analyses.sources import ROLES, catalog
from carbonscope.db.engine import write as db_write
from carbonscope.errors import CarbonScopeError, InvalidField, NotFoundError, PermissionDenied
from carbonscope.ipcc import forest_defaults
from carbonscope.settings import Settings
from carbonscope.web.auth import SignedIn, User, check_csrf
from carbonscope.web.deps import AppSettings, Conn, get_engine_dep
from carbonscope.web.forms import redirect, render

router = APIRouter(include_in_schema=False)
Eng = Annotated[Engine, Depends(get_engine_dep)]

# The parameters the form offers, with their words; the rest keep the recipe's stated defaults.
FORM_PARAMS = {
    "dates": ("Dates of the forest map's bands", "e.g. 2000,2010,2020"),
    "agb_t_ha": ("Forest biomass above ground (tonnes per hectare)", "needed when no biomass map or plots are given"),
    "ipcc_forest": ("Or the IPCC default biomass of the forest's zone", "none"),
    "imagery_dates": ("Dates of the satellite imagery (catalog layers)", "e.g. 2021-06-01/2021-08-31"),
    "price": ("Price per tonne of CO2 (USD)", "default 10"),
    "years": ("Crediting period (years)", "default 10"),
    "effectiveness_percent": ("Share of deforestation the project avoids (%)", "default 50"),
    "leakage_percent": ("Leakage (%)", "default 10"),
    "buffer_percent": ("Buffer withheld for reversals (%)", "default 15"),
    "discount_rate_percent": ("Discount rate (% a year)", "default 5"),
    "reference_buffer_km": ("Width of the reference region around the area (km)", "default 20"),
    "root_shoot": ("Roots per unit of above-ground biomass, or an IPCC zone", "default 0.24"),
}


# Layers a person may upload from the page (satellite layers come from the data sources)
UPLOADABLE = ("forest", "landcover", "agb", "plots", "jurisdiction")


def _form_context(settings, values: dict, error=None, plan=None, proposal=None) -> dict:
    sources = [s.describe() for s in catalog(settings).values()]
    by_role = {role: [s for s in sources if role in s["roles"]] for role in ROLES}
    recipes = [
        {
            "name": r.name,
            "title": r.title,
            "description": r.description,
            "roles": [*r.required, *[x for x in r.optional if x not in r.required]],
            "required": list(r.required),
        }
        for r in RECIPES.values()
    ]
    return {
        "recipes": recipes,
        "roles": ROLES,
        "by_role": by_role,
        "params": FORM_PARAMS,
        "choices": {"ipcc_forest": forest_defaults()},
        "values": values,
        "error": error,
        "plan": plan,
        "proposal": proposal,
        "uploadable": UPLOADABLE,
    }


@router.get("/analyses")
def my_analyses(request: Request, conn: Conn, user: SignedIn, all: bool = False) -> Response:
    rows = store.list_for(conn, user, everyone=all)
    return render(request, "analyses/list.html", {"rows": rows, "everyone": all and user["role"] == "admin"})


@router.get("/analyses/new")
def new_analysis(request: Request, conn: Conn, settings: AppSettings, user: SignedIn, proposal: int | None = None):
    from carbonscope.community import proposals

    prop = proposals.get(conn, proposal, user) if proposal else None
    if prop is not None and prop["owner_id"] != user["id"]:
        raise PermissionDenied("only the proposal's owner can analyse its boundary")
    values = {"recipe": "redd-baseline"}
    return render(request, "analyses/new.html", _form_context(settings, values, proposal=prop))


def _request_of(form: FormData, settings: Settings) -> tuple[AnalysisRequest, dict[str, tuple[str, bytes]], dict]:
    limit = settings.analysis_max_upload_bytes
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    recipe = values.get("recipe", "")
    layers = {k.removeprefix("layer."): v for k, v in values.items() if k.startswith("layer.") and v}
    params = {k.removeprefix("param."): v for k, v in values.items() if k.startswith("param.") and v.strip()}
    uploads: dict[str, tuple[str, bytes]] = {}
    boundary = None
    for key, value in form.multi_items():
        if isinstance(value, StarletteUpload) and value.filename:
            data = value.file.read(limit + 1)  # one byte more than allowed is enough to refuse
            if key == "boundary_file":
                boundary = boundary_upload(value.filename, data, settings).geometry
            elif key.startswith("upload."):
                uploads[key.removeprefix("upload.")] = (value.filename, data)
    if boundary is None and values.get("boundary_geojson"):
        try:
            boundary = json.loads(values["boundary_geojson"])
        except ValueError as exc:
            raise InvalidField("boundary", "the drawn boundary could not be read; draw it again") from exc
    proposal = int(values["proposal"]) if values.get("proposal", "").isdigit() else None
    req = AnalysisRequest(recipe=recipe, boundary=boundary, proposal=proposal, layers=layers, params=params)
    return req, uploads, values


@router.post("/analyses/new")
async def start_analysis(request: Request, engine: Eng, settings: AppSettings, user: SignedIn) -> Response:
    form = await request.form(max_files=20, max_fields=80)
    token = form.get("csrf_token")
    check_csrf(request, token if isinstance(token, str) else None)
    values: dict = {}
    try:
        req, uploads, values = await run_in_threadpool(_request_of, form, settings)
        if values.get("action") == "check":
            recipe, _doc, boundary, plan = await run_in_threadpool(service.plan, settings, engine, req, user)
            shown = {"area_ha": boundary.area_ha, "recipe": recipe.title, **plan.describe()}
            return render(request, "analyses/new.html", _form_context(settings, values, plan=shown))
        job = await run_in_threadpool(service.submit, settings, engine, user, req, uploads)
    except CarbonScopeError as exc:
        status = exc.status if exc.status >= 400 else 422
        return render(request, "analyses/new.html", _form_context(settings, values, error=exc), status=status)
    return redirect(f"/analyses/{job['id']}")


def _page_of(settings, engine: Engine, job: dict) -> dict:
    job = service.reap_if_stale(settings, engine, job)
    results = service.results(job)
    ctx: dict = {"job": job, "results": results, "recipe": RECIPES.get(job["recipe"])}
    if results is not None:
        ctx["summary"] = explain.summary(results)
        ctx["parameters"] = explain.parameters(results.get("parameters") or {})
        ctx["downloads"] = [f for f in files.listing(job["result_folder"]) if _downloadable(f["name"])]
        agb = (results.get("map") or {}).get("agb")
        ctx["agb_map"] = None
        if agb:
            try:
                path = files.local_path(job["result_folder"], agb, settings.analyses_dir / job["id"] / "cache")
                ctx["agb_map"] = {"legend": tiles.legend(path), "colours": tiles.colours()}
            except NotFoundError:
                pass
        ctx["chart"] = _chart(results)
    ctx["map"] = {
        "boundary": job["inputs"]["boundary"],
        "id": job["id"],
        "tiles": bool(ctx.get("agb_map")),
        "aoa": bool(results and (results.get("map") or {}).get("agb")),
    }
    return ctx


def _downloadable(name: str) -> bool:
    return name.endswith((".tif", ".gpkg", ".csv", ".json", ".html")) and "/figures/" not in name


def _chart(results: dict) -> dict | None:
    series = results.get("baseline_series")
    if not series:
        return None
    fits = results.get("baseline") or {}
    return {
        "t": series["t"],
        "y": series["y"],
        "unit": series["unit"],
        "chosen": series.get("chosen"),
        "projections": results.get("baseline_projections") or {},
        "r2": {m: f.get("r2") for m, f in fits.items()},
        "credits": [
            {"year": y["year"], "creditable": y["creditable_tco2e"]}
            for y in (results.get("crediting") or {}).get("years", [])
        ],
    }


@router.get("/analyses/{aid}")
def analysis_page(request: Request, conn: Conn, engine: Eng, settings: AppSettings, user: User, aid: str):
    job = store.visible(conn, aid, user)
    ctx = _page_of(settings, engine, job)
    ctx["is_owner"] = bool(user and (user["id"] == job["owner_id"] or user["role"] == "admin"))
    return render(request, "analyses/job.html", ctx)


@router.post("/analyses/{aid}/{action}")
async def analysis_action(request: Request, engine: Eng, settings: AppSettings, user: SignedIn, aid: str, action: str):
    form = await request.form()
    token = form.get("csrf_token")
    check_csrf(request, token if isinstance(token, str) else None)
    if action not in ("cancel", "retry", "publish", "unpublish"):
        raise NotFoundError(f"no action {action!r}")

    def work() -> None:
        from carbonscope.analyses import queue

        with db_write(engine) as tx:
            if action == "cancel":
                store.cancel(tx, aid, user)
            elif action == "retry":
                store.retry(tx, aid, user)
            else:
                store.publish(tx, aid, user, action == "publish")
        if action == "retry":
            queue.submit(settings, aid)

    await run_in_threadpool(work)
    return redirect(f"/analyses/{aid}")


@router.get("/analyses/{aid}/tiles/{kind}/{z}/{x}/{y}.png")
async def analysis_tile(request: Request, aid: str, kind: str, z: int, x: int, y: int):
    """A map tile. On the event loop, with no thread hop: the owner check reads one row by its key
    (a WAL reader never waits for a writer), and a tile rendered before comes from memory; only a
    new tile is rendered, in the thread pool."""
    from carbonscope.accounts import sessions
    from carbonscope.web.auth import current_user

    settings = request.app.state.settings
    if kind not in ("agb", "aoa") or not (0 <= z <= 22):
        raise NotFoundError("no such tile")
    with request.app.state.engine.connect() as conn:
        viewer = current_user(request, conn) if request.cookies.get(sessions.COOKIE) else None
        job = store.map_view(conn, aid, viewer)
    if job["status"] != "succeeded":
        raise NotFoundError("the analysis has no map yet")
    agb = (job["summary"] or {}).get("agb_map")
    if not agb:
        raise NotFoundError("this analysis has no map")
    name = agb if kind == "agb" else agb.rsplit("/", 1)[0] + "/aoa.tif"
    path = files.local_path(job["result_folder"], name, settings.analyses_dir / aid / "cache")
    disk = settings.analyses_dir / aid / "cache" / "tiles"
    png = tiles.cached(path, kind, z, x, y, disk) or await run_in_threadpool(tiles.tile, path, kind, z, x, y, disk)
    cache = "public, max-age=86400" if job["public"] else "private, max-age=3600"
    return Response(png, media_type="image/png", headers={"cache-control": cache})
