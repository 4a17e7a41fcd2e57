"""Command-line layer of operations: the scheduler, backups and restores, and what ran."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

from carbonscope.cli_output import console, err

TICK_AT_LEAST = timedelta(seconds=60)  # freshness is checked this often even when nothing is due


def scheduler(
    once: Annotated[bool, typer.Option(help="run what is due now, then stop (e.g. from cron)")] = False,
    exit_with: Annotated[int | None, typer.Option(hidden=True, help="stop when this process (the site) ends")] = None,
) -> None:
    """Run the schedules of CARBONSCOPE_SCHEDULES (registry refreshes, news, folders, backups):
    each fire time once, even with several schedulers; alerts on failure and on recovery."""
    from carbonscope.analyses.cli import _exit_with
    from carbonscope.db.engine import get_engine
    from carbonscope.db.migrate import ensure_schema
    from carbonscope.ops.run import tick
    from carbonscope.ops.schedule import next_fire, triggers
    from carbonscope.settings import get_settings

    settings = get_settings()
    engine = get_engine(settings.effective_database_url)
    ensure_schema(engine)
    triggers(settings)  # an unknown job name stops here, naming it
    if settings.log_json:
        from carbonscope.ops.logs import use_json_logs

        use_json_logs()
    if exit_with is not None:
        _exit_with(exit_with)
    err.print(f"scheduler: {', '.join(f'{j} ({c})' for j, c in settings.schedules.items()) or 'no schedules'}")
    while True:
        for job, result in tick(settings, engine):
            line = f"{job}: {result.outcome}" + (f" ({result.error})" if result.error else "")
            (console if result.outcome in ("ok", "queued") else err).print(line, highlight=False)
        if once:
            return
        now = datetime.now(UTC)
        wake = min(filter(None, [next_fire(settings, now), now + TICK_AT_LEAST]))
        time.sleep(max(1.0, (wake - datetime.now(UTC)).total_seconds()))


def backup(
    dest: Annotated[
        Path | None, typer.Argument(help="a file, or a folder for a dated file (default: the backup folder)")
    ] = None,
) -> None:
    """Back the database up (SQLite's online backup while the site runs; pg_dump for PostgreSQL)."""
    from carbonscope.ops import backup as ops_backup
    from carbonscope.settings import get_settings

    settings = get_settings()
    result = ops_backup.backup(settings.effective_database_url, dest or settings.effective_backup_dir)
    console.print(f"backup: {result.path} ({result.bytes:,} bytes, {result.seconds:.1f} s)")


def restore(
    src: Annotated[Path, typer.Argument(help="a backup file written by `carbonscope db backup`")],
    yes: Annotated[bool, typer.Option("--yes", help="replace the database without asking")] = False,
) -> None:
    """Replace the database with a backup (stop the site and workers first)."""
    from carbonscope.ops import backup as ops_backup
    from carbonscope.settings import get_settings

    settings = get_settings()
    if not yes:
        typer.confirm(f"Replace the database {settings.effective_database_url.split('@')[-1]} with {src}?", abort=True)
    seconds = ops_backup.restore(settings.effective_database_url, src)
    console.print(f"restored {src} in {seconds:.1f} s; run `carbonscope db upgrade` if it is from an older version")


def status() -> None:
    """The schedules, their last runs and the alerts that are failing."""
    from rich.table import Table

    from carbonscope.db.engine import get_engine
    from carbonscope.ops import alerts
    from carbonscope.ops.schedule import last_runs
    from carbonscope.settings import get_settings

    settings = get_settings()
    engine = get_engine(settings.effective_database_url)
    t = Table("job", "fire time", "started", "finished", "outcome", "error")
    for r in last_runs(engine, 20):
        t.add_row(
            r["job"], f"{r['due_at']:%Y-%m-%d %H:%M}", f"{r['started_at']:%H:%M:%S}",
            f"{r['finished_at']:%H:%M:%S}" if r["finished_at"] else "", r["outcome"], (r["error"] or "")[:80],
        )  # fmt: skip
    console.print(t)
    for a in alerts.states(engine):
        if a["state"] == "failing":
            err.print(f"[red]failing[/red] {a['key']} since {a['since']:%Y-%m-%d %H:%M}: {a['message']}")
