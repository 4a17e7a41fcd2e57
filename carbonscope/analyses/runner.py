"""Run one analysis job in a worker: claim it, run its recipe into its result folder with
progress, heartbeat and cancel checks written to its row, and record how it ended.

A worker that dies (SIGKILL, a lost machine) stops beating; ``store.reap`` then marks the job
failed with the reason, so nothing stays ``running`` forever."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import traceback
from pathlib import Path

from sqlalchemy import Engine

from carbonscope.analyses import files, store
from carbonscope.analyses.recipes import get as get_recipe
from carbonscope.db.engine import write
from carbonscope.errors import CarbonScopeError
from carbonscope.recipe import RunFolder
from carbonscope.settings import Settings

log = logging.getLogger("carbonscope.analyses")


class Cancelled(Exception):
    """The owner cancelled the job while it ran."""


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class JobProgress:
    """The engines' progress protocol, kept in memory and written to the job's row by the heartbeat.

    Each ``task`` is a step; the job's fraction is (steps finished + the current step's share)
    over the steps the recipe usually takes, held below 1 until the job has succeeded."""

    def __init__(self, expected_steps: int):
        self.expected = max(1, expected_steps)
        self.steps = 0
        self.step = "starting"
        self.total: float | None = None
        self.done = 0.0
        self.lines: list[str] = []
        self.cancelled = threading.Event()
        self.lock = threading.Lock()

    def _check(self) -> None:
        if self.cancelled.is_set():
            raise Cancelled()

    def fraction(self) -> float:
        part = min(1.0, self.done / self.total) if self.total else 0.0
        return min(0.99, (self.steps - 1 + part) / max(self.expected, self.steps)) if self.steps else 0.0

    def task(self, description: str, total: float | None = None) -> object:
        self._check()
        with self.lock:
            self.steps += 1
            self.step, self.total, self.done = description, total, 0.0
            self.lines.append(f"{time.strftime('%H:%M:%S')} {description}")
        return self.steps

    def advance(self, task: object, amount: float = 1.0) -> None:
        self._check()
        if task == self.steps:
            self.done += amount

    def update(
        self,
        task: object,
        *,
        description: str | None = None,
        total: float | None = None,
        completed: float | None = None,
    ) -> None:
        self._check()
        if task != self.steps:
            return
        with self.lock:
            if description is not None:
                self.step = description
            if total is not None:
                self.total = total
            if completed is not None:
                self.done = completed

    def log(self, message: str) -> None:
        with self.lock:
            self.lines.append(f"{time.strftime('%H:%M:%S')} {message}")

    def take_lines(self) -> list[str]:
        with self.lock:
            out, self.lines = self.lines, []
        return out


def _beat(engine: Engine, aid: str, progress: JobProgress, every: float, stop: threading.Event) -> None:
    """Write progress when it changes (at most twice a second) and a sign of life every ``every`` s."""
    last_at, last = 0.0, None
    while not stop.wait(0.5):
        now = time.monotonic()
        state = (round(progress.fraction(), 3), progress.step, len(progress.lines))
        if state == last and now - last_at < every:
            continue
        try:
            with write(engine) as tx:
                store.append_log(tx, aid, progress.take_lines())
                if store.beat(tx, aid, state[0], state[1]):
                    progress.cancelled.set()
            last_at, last = now, state
        except Exception:  # a busy database skips one beat; the next one catches up
            log.exception("heartbeat of analysis %s", aid)


class _ToJobLog(logging.Handler):
    """The engines' warnings (a zone beyond the raster, a misregistered layer) in the job's log."""

    def __init__(self, progress: JobProgress):
        super().__init__(logging.WARNING)
        self.progress = progress

    def emit(self, record: logging.LogRecord) -> None:
        self.progress.log(f"warning: {record.getMessage()}")


# progress.task calls a run usually makes (measured on the test runs), for the job's overall fraction
EXPECTED_STEPS = {"redd-baseline": 2, "forest-carbon": 8, "project-estimate": 10}


def run_job(settings: Settings, engine: Engine, aid: str, worker: str | None = None) -> str:
    """Run job ``aid`` to its end; returns the status it ended with (or 'skipped')."""
    worker = worker or worker_name()
    with write(engine) as tx:
        store.reap(tx, settings.analysis_stale_seconds)
        if not store.claim(tx, aid, worker):
            return "skipped"
        job = store.get(tx, aid)
    recipe = get_recipe(job["recipe"])
    progress = JobProgress(EXPECTED_STEPS.get(recipe.name, 6))
    progress.log(f"{recipe.title} (recipe {recipe.name} {recipe.version}) on worker {worker}")
    stop = threading.Event()
    beat = threading.Thread(
        target=_beat, args=(engine, aid, progress, settings.analysis_heartbeat_seconds, stop), daemon=True
    )
    beat.start()
    folder = RunFolder(files.local_folder(settings, aid))
    status, error, summary, final = "failed", None, None, None
    to_log = _ToJobLog(progress)
    engines = logging.getLogger("carbonscope")
    engines.addHandler(to_log)
    try:
        folder.open()
        work = folder.path / "inputs"
        work.mkdir(exist_ok=True)
        doc = _with_uploads(job["inputs"], settings, aid)
        # the job's own uploads are readable to it, besides the data folders
        readable = settings.model_copy(
            update={"data_folders": [*settings.data_folders, files.upload_folder(settings, aid)]}
        )
        results = recipe.run(readable, doc, work, folder.path, progress)
        results = {"recipe": recipe.name, "recipe_version": recipe.version, **results}
        folder.json("results.json", results)
        progress.task("saving the results")
        _areas_gpkg(work, folder.path / "areas.gpkg")
        final = str(folder.commit())
        final = files.publish(settings, aid, Path(final))
        status, summary = "succeeded", summary_of(recipe.name, results)
    except Cancelled:
        folder.abandon()
        status, error = "cancelled", "cancelled by its owner while it ran"
    except CarbonScopeError as exc:
        folder.abandon()
        error = str(exc)
        progress.log(f"failed: {error}")
    except Exception as exc:
        folder.abandon()
        error = f"an unexpected error stopped the analysis ({type(exc).__name__}: {exc})"
        progress.log(traceback.format_exc())
        log.exception("analysis %s", aid)
    finally:
        engines.removeHandler(to_log)
        stop.set()
        beat.join()
    with write(engine) as tx:
        store.append_log(tx, aid, [*progress.take_lines(), f"{time.strftime('%H:%M:%S')} {status}"])
        store.finish(tx, aid, status, error=error, folder=final, summary=summary)
    return status


def _areas_gpkg(work: Path, out: Path) -> None:
    """The boundary (and the reference region, when there is one) as one GeoPackage to download."""
    import geopandas as gpd

    for name in ("boundary", "reference"):
        src = work / f"{name}.geojson"
        if src.exists():
            gpd.read_file(src).to_file(out, layer=name, driver="GPKG")


def _with_uploads(inputs: dict, settings: Settings, aid: str) -> dict:
    """The request with uploaded files' names replaced by their paths in the job's upload folder."""
    uploads = inputs.get("uploads") or {}
    layers = {
        role: str(files.upload_folder(settings, aid) / uploads[v]) if v in uploads else v
        for role, v in (inputs.get("layers") or {}).items()
    }
    return {**inputs, "layers": layers}


def summary_of(recipe: str, results: dict) -> dict:
    """The few numbers a card or a list shows."""
    out: dict = {"agb_map": (results.get("map") or {}).get("agb")}
    stock = results.get("stock") or {}
    if stock.get("tco2e"):
        out["stock_tco2e"] = stock["tco2e"]
        out["area_ha"] = stock.get("area_ha")
    crediting = results.get("crediting") or {}
    totals = crediting.get("totals") or {}
    if totals:
        years = crediting.get("years") or []
        out["creditable_tco2e"] = totals.get("creditable_tco2e")
        out["creditable_tco2e_per_year"] = (totals.get("creditable_tco2e") or 0) / max(1, len(years))
        out["creditable_interval"] = (crediting.get("intervals") or {}).get("creditable_tco2e")
        out["npv"] = totals.get("npv")
        out["currency"] = crediting.get("currency")
        out["baseline_method"] = (results.get("baseline_choice") or {}).get("method")
    if results.get("deforestation_ha"):
        out["deforestation_ha"] = results["deforestation_ha"]
    return out
