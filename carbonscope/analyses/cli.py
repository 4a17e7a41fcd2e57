"""``carbonscope analyse`` and ``carbonscope worker``: translate arguments, call the analyses, print."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from carbonscope.cli_output import console, err, print_json


def _pairs(values: list[str] | None, what: str) -> dict[str, str]:
    from carbonscope.errors import InvalidField

    out = {}
    for v in values or []:
        key, sep, value = v.partition("=")
        if not sep or not key.strip():
            raise InvalidField(what, f"{v!r}: write {what.upper()}=VALUE")
        out[key.strip()] = value.strip()
    return out


def analyse(
    recipe: Annotated[str, typer.Argument(help="forest-carbon, redd-baseline or project-estimate")],
    boundary: Annotated[Path, typer.Option(help="the area: GeoJSON, GeoPackage or Shapefile (.shp or .zip)")],
    layer: Annotated[
        list[str] | None, typer.Option(help="ROLE=PATH_OR_SOURCE, e.g. forest=forest.tif (repeatable)")
    ] = None,
    param: Annotated[list[str] | None, typer.Option(help="K=V, e.g. dates=2000,2010,2020 (repeatable)")] = None,
    output: Annotated[Path | None, typer.Option(help="result folder (default: runs/<recipe>)")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="print results.json")] = False,
) -> None:
    """Run an analysis recipe in the foreground: the same results as a background job."""
    from carbonscope.analyses import service
    from carbonscope.analyses.inputs import boundary_file
    from carbonscope.progress import RichProgress
    from carbonscope.settings import get_settings

    settings = get_settings()
    # The command line reads any file its user can: the data-folder rule guards the web and the API.
    settings = settings.model_copy(update={"data_folders": [*settings.data_folders, Path("/")]})
    b = boundary_file(boundary, settings)
    doc = {
        "name": boundary.stem,
        "boundary": b.geometry,
        "boundary_crs": b.source_crs,
        "layers": _pairs(layer, "layer"),
        "params": _pairs(param, "param"),
        "uploads": {},
    }
    out = output or Path("runs") / recipe
    with RichProgress(console=err) as progress:
        results = service.run_here(settings, recipe, doc, out, progress)
    if json_out:
        print_json(results)
        return
    console.print(f"{recipe}: results in {out}/results.json")
    s = results.get("stock") or {}
    if s.get("tco2e"):
        t = s["tco2e"]
        console.print(f"stock {t['estimate']:,.0f} tCO2e ({t.get('lower', 0):,.0f} - {t.get('upper', 0):,.0f}, 90%)")
    totals = (results.get("crediting") or {}).get("totals") or {}
    if totals:
        console.print(f"creditable {totals['creditable_tco2e']:,.0f} tCO2e; NPV {totals['npv']:,.0f}")


def _exit_with(pid: int) -> None:
    """Stop (as on Ctrl-C: the job in hand finishes first) once the process ``pid`` has gone: the
    site that started this worker may end by a signal, which runs none of its clean-up."""
    import os
    import signal
    import threading
    import time

    def watch() -> None:
        while os.getppid() == pid:
            time.sleep(2)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, daemon=True, name="exit-with-site").start()


def worker(
    loglevel: Annotated[str, typer.Option(help="DEBUG, INFO, WARNING")] = "INFO",
    exit_with: Annotated[int | None, typer.Option(hidden=True, help="stop when this process (the site) ends")] = None,
) -> None:
    """Run an analysis worker (one job at a time; start more for more). It takes jobs from the queue
    in CARBONSCOPE_QUEUE_URL (Redis, RabbitMQ, or the embedded SQLite broker beside the data)."""
    from carbonscope.analyses import queue
    from carbonscope.db.engine import get_engine
    from carbonscope.db.migrate import ensure_schema
    from carbonscope.settings import get_settings

    ensure_schema(get_engine())
    settings = get_settings()
    if exit_with is not None:
        _exit_with(exit_with)
    err.print(f"analysis worker on {settings.effective_queue_url.split('@')[-1]}")
    queue.work(settings, loglevel=loglevel)
