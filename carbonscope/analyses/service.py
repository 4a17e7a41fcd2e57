"""What the web, the API, the CLI and the plugin call: check a request, queue it, run it in the
foreground, and read a job back as a person may see it."""

from __future__ import annotations

import secrets
from pathlib import Path

from sqlalchemy import Engine

from carbonscope.analyses import files, queue, store
from carbonscope.analyses.inputs import Request, boundary_of, check_limits
from carbonscope.analyses.recipes import Plan
from carbonscope.analyses.recipes import get as get_recipe
from carbonscope.community import proposals
from carbonscope.community.boundaries import Boundary
from carbonscope.db.engine import write
from carbonscope.errors import Busy, InvalidField, NotFoundError, PermissionDenied
from carbonscope.jsonsafe import json_safe
from carbonscope.progress import Progress
from carbonscope.recipe import RunFolder
from carbonscope.settings import Settings


def _document(settings: Settings, engine: Engine, req: Request, user: dict | None) -> tuple[dict, Boundary]:
    """The job's inputs document and its checked boundary (drawn, uploaded, or the proposal's, which
    only the proposal's owner or an admin may analyse)."""
    if req.proposal is not None:
        with engine.connect() as conn:
            try:
                prop = proposals.get(conn, req.proposal, user)
            except NotFoundError as exc:
                raise InvalidField("proposal", f"no proposal {req.proposal}") from exc
        if user is None or (prop.get("owner_id") != user["id"] and user.get("role") != "admin"):
            raise PermissionDenied("only the proposal's owner can analyse its boundary")
        if not prop.get("boundary"):
            raise InvalidField("proposal", f"proposal {req.proposal} has no site boundary yet: upload one first")
        geometry = prop["boundary"]
        name = prop["name"]
    else:
        geometry = req.boundary
        name = None
    b = boundary_of(geometry, settings)
    doc = {
        "name": name or f"{b.area_ha:,.0f} ha area",
        "boundary": b.geometry,
        "boundary_crs": b.source_crs,
        "layers": dict(req.layers),
        "params": dict(req.params),
        "uploads": {},
    }
    return doc, b


def plan(settings: Settings, engine: Engine, req: Request, user: dict | None, uploads: dict[str, Path] | None = None):
    """The recipe's plan of a request (what data it will use, how big), without queueing it."""
    recipe = get_recipe(req.recipe)
    doc, boundary = _document(settings, engine, req, user)
    return recipe, doc, boundary, recipe.plan(settings, doc, uploads)


def submit(
    settings: Settings,
    engine: Engine,
    user: dict,
    req: Request,
    uploads: dict[str, tuple[str, bytes]] | None = None,
) -> dict:
    """Check a request against the recipe and the limits, store the job and queue it.

    ``uploads`` maps a layer role to (file name, bytes); the file is kept in the job's upload folder."""
    uploads = uploads or {}
    staged: dict[str, Path] = {}
    tmp = settings.analyses_dir / ".incoming"
    tmp.mkdir(parents=True, exist_ok=True)
    layers = dict(req.layers)
    for role, (name, data) in uploads.items():
        safe = f"{role}{Path(name).suffix.lower()[:8]}"
        p = tmp / f"{secrets.token_hex(8)}-{safe}"
        p.write_bytes(data)
        staged[safe] = p
        layers[role] = safe
    req = req.model_copy(update={"layers": layers})
    try:
        recipe, doc, boundary, _ = plan(settings, engine, req, user, staged)
        with write(engine) as tx:
            upload_bytes = sum(len(d) for _, d in uploads.values())
            check_limits(settings, boundary, store.active_count(tx, user["id"]), upload_bytes)
            doc["uploads"] = {safe: safe for safe in staged}
            aid = store.create(tx, user["id"], recipe.name, recipe.version, doc, boundary.area_ha, req.proposal)
        folder = files.upload_folder(settings, aid)
        folder.mkdir(parents=True, exist_ok=True)
        for safe, p in staged.items():
            p.replace(folder / safe)
    finally:
        for p in staged.values():
            p.unlink(missing_ok=True)
    try:
        queue.submit(settings, aid)
    except Exception as exc:  # the broker is down or unreachable: the job must not wait forever
        with write(engine) as tx:
            store.finish(tx, aid, "failed", error=f"the job queue could not be reached ({type(exc).__name__}: {exc})")
        raise Busy("the analysis queue is not reachable right now; try again in a minute", retry_after=60) from exc
    with engine.connect() as conn:
        return store.get(conn, aid)


def run_here(
    settings: Settings,
    recipe_name: str,
    doc: dict,
    out: Path,
    progress: Progress,
) -> dict:
    """Run a recipe in this process into ``out`` (``carbonscope analyse``): the same results.json."""
    recipe = get_recipe(recipe_name)
    recipe.plan(settings, doc)
    with RunFolder(out) as folder:
        work = folder.path / "inputs"
        work.mkdir(exist_ok=True)
        results = {
            "recipe": recipe.name,
            "recipe_version": recipe.version,
            **recipe.run(settings, doc, work, folder.path, progress),
        }
        folder.json("results.json", results)
    return json_safe(results)


def results(job: dict) -> dict | None:
    if job["status"] != "succeeded" or not job["result_folder"]:
        return None
    import json

    return json.loads(files.read_bytes(job["result_folder"], "results.json"))


def public_view(job: dict, base_url: str = "") -> dict:
    """A job as the API answers it."""
    return {
        "id": job["id"],
        "recipe": job["recipe"],
        "recipe_version": job["recipe_version"],
        "status": job["status"],
        "progress": {"fraction": round(float(job["progress"] or 0.0), 4), "step": job["step"]},
        "error": job["error"],
        "public": bool(job["public"]),
        "proposal": job["proposal_id"],
        "area_ha": job["area_ha"],
        "created_at": job["created_at"],
        "started_at": job["started_at"],
        "finished_at": job["finished_at"],
        "url": f"{base_url}/api/v1/analyses/{job['id']}",
        "page": f"{base_url}/analyses/{job['id']}",
    }


def reap_if_stale(settings: Settings, engine: Engine, job: dict) -> dict:
    """A running job whose worker went silent is marked failed when someone looks at it."""
    if job["status"] != "running" or not store.is_stale(job, settings.analysis_stale_seconds):
        return job  # the page polls every second: no write unless the worker has gone silent
    with write(engine) as tx:
        if store.reap(tx, settings.analysis_stale_seconds):
            return store.get(tx, job["id"])
    return job


__all__ = ["Plan", "plan", "public_view", "reap_if_stale", "results", "run_here", "submit"]
