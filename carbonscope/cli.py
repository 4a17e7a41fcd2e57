"""The ``carbonscope`` command. It only translates arguments and output; the work lives in the packages."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from carbonscope.analyses.cli import analyse as analyse_cmd
from carbonscope.analyses.cli import worker as worker_cmd
from carbonscope.baseline.cli import app as baseline_app
from carbonscope.biomass.cli import app as biomass_app
from carbonscope.cli_output import console, err, guard_commands
from carbonscope.cli_output import fail as _fail
from carbonscope.cli_output import print_json as _print_json
from carbonscope.db.engine import write as db_write
from carbonscope.errors import NotFoundError
from carbonscope.ops import cli as ops_cli
from carbonscope.registry.codes import CODES

app = typer.Typer(
    help="CarbonScope: the open hub of the voluntary carbon market.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database administration.", no_args_is_help=True)
users_app = typer.Typer(help="User accounts.", no_args_is_help=True)
news_app = typer.Typer(help="News: feeds and item dumps, linked to projects.", no_args_is_help=True)
outbox_app = typer.Typer(help="Queued e-mail.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(news_app, name="news")
app.add_typer(outbox_app, name="outbox")
app.add_typer(biomass_app, name="biomass")
app.add_typer(baseline_app, name="baseline")
app.command("analyse")(analyse_cmd)
app.command("worker")(worker_cmd)
app.command("scheduler")(ops_cli.scheduler)
app.command("status")(ops_cli.status)
db_app.command("backup")(ops_cli.backup)
db_app.command("restore")(ops_cli.restore)


def _engine():
    from carbonscope.db.engine import get_engine
    from carbonscope.db.migrate import ensure_schema

    engine = get_engine()
    ensure_schema(engine)
    return engine


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database schema to the latest revision."""
    from carbonscope.db.engine import get_engine
    from carbonscope.db.migrate import current_revision, upgrade

    engine = get_engine()
    upgrade(engine)
    console.print(
        f"database at revision [bold]{current_revision(engine)}[/bold]: {engine.url.render_as_string(hide_password=True)}"
    )


@app.command()
def ingest(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="registry export files or folders (default: the folder CARBONSCOPE_REGISTRIES_DIR names)"),
    ] = None,
    source: Annotated[
        str | None,
        typer.Option(
            help="force one source: verra, gold-standard, american-carbon-registry, climate-action-reserve, art-trees, vrod, offsetsdb"
        ),
    ] = None,
    force: Annotated[bool, typer.Option(help="re-read files already ingested")] = False,
    strict: Annotated[bool, typer.Option(help="refuse a file with any bad row instead of skipping the row")] = False,
    partial: Annotated[
        bool, typer.Option(help="the files hold only some rows of their exports: retract nothing they lack")
    ] = False,
    json_out: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
) -> None:
    """Ingest registry exports (files or folders); the source is recognised from the headers."""
    from carbonscope.errors import InvalidField
    from carbonscope.jobs import ingest_files as run  # the app's snapshot hooks (alerts) with it
    from carbonscope.progress import RichProgress
    from carbonscope.settings import get_settings

    if not paths:
        folder = get_settings().registries_dir
        if folder is None:
            raise InvalidField(
                "paths", "name files or folders, or set CARBONSCOPE_REGISTRIES_DIR to a folder of exports"
            )
        paths = [folder]
    engine = _engine()
    with RichProgress(console=err) as progress:
        report = run(paths, engine, source=source, force=force, strict=strict, partial=partial, progress=progress)
    if json_out:
        _print_json(_report_doc(report))
        return
    _print_ingest(report)


def _report_doc(report) -> dict:
    return {
        "snapshot": report.snapshot_id,
        "seconds": round(report.seconds, 2),
        "files": [
            {
                "path": f.path,
                "source": f.source,
                "kind": f.kind,
                "status": f.status,
                "rows": f.rows,
                "projects": f.projects,
                "events": f.events,
                "warnings": len(f.warnings),
                "skipped_rows": f.skipped_rows,
            }
            for f in report.files
        ],
        "projects_touched": report.projects_touched,
        "new_projects": report.new_projects,
        "new_events": report.new_events,
        "updated_events": report.updated_events,
        "retracted_events": report.retracted_events,
        "corrected_events": report.corrected_events,
        "delisted_records": report.delisted_records,
        "changes": report.changes,
        "reconciliation_differences": report.reconciliation_differences,
    }


def _print_ingest(report) -> None:
    t = Table(title=f"snapshot {report.snapshot_id}")
    for col in ("file", "source", "kind", "status", "rows", "projects", "events", "warnings"):
        t.add_column(col, justify="right" if col in ("rows", "projects", "events", "warnings") else "left")
    for f in report.files:
        t.add_row(
            Path(f.path).name,
            f.source,
            f.kind,
            f.status,
            f"{f.rows:,}",
            f"{f.projects:,}",
            f"{f.events:,}",
            str(len(f.warnings)),
        )
    console.print(t)
    for f in report.files:
        for w in f.warnings[:5]:
            where = ", ".join(
                x
                for x in (
                    Path(f.path).name,
                    f"row {w.row}" if w.row else None,
                    f"column {w.column!r}" if w.column else None,
                )
                if x
            )
            err.print(f"[yellow]warning[/yellow] {where}: {w.message}", highlight=False)
        if len(f.warnings) > 5:
            err.print(
                f"[yellow]... {len(f.warnings) - 5} more warnings in {Path(f.path).name}[/yellow] (see `carbonscope check`)"
            )
    if report.unchanged:
        console.print(f"nothing changed ({report.seconds:.1f} s)")
    else:
        console.print(
            f"{report.projects_touched:,} projects touched, {report.new_projects:,} new; {report.new_events:,} new events, "
            f"{report.updated_events:,} updated; {report.changes:,} changes ({report.seconds:.1f} s)"
        )
        if report.reconciliation_differences:
            console.print(
                f"{report.reconciliation_differences:,} stated totals differ from the totals CarbonScope uses for their"
                " project (e.g. OffsetsDB's issued beside VROD's, or a registry's own events); each project page"
                " says which rule chose its totals, and `carbonscope check` (or the site's Data page) lists them"
            )
        if report.retracted_events or report.corrected_events or report.delisted_records:
            console.print(
                f"newer exports retracted {report.retracted_events:,} events and corrected {report.corrected_events:,} "
                f"(kept in history); {report.delisted_records:,} projects no longer listed in a projects export"
            )
        for f in report.files:
            if f.status == "older":
                console.print(
                    f"[yellow]not applied[/yellow] {Path(f.path).name}: an older {f.kind} export than the one already loaded"
                )


@app.command()
def refresh(
    registry: Annotated[
        list[str] | None,
        typer.Option(
            help="verra, american-carbon-registry, climate-action-reserve, art-trees (repeatable); default all"
        ),
    ] = None,
) -> None:
    """Download the current exports of registries that allow automated access, archive and ingest them."""
    from carbonscope.jobs import refresh_registries
    from carbonscope.progress import RichProgress
    from carbonscope.settings import get_settings

    engine = _engine()
    with RichProgress(console=err) as progress:
        report = refresh_registries(get_settings(), engine, registry, progress=progress)
    for src, files in report.downloaded.items():
        console.print(f"[green]downloaded[/green] {src}: {', '.join(str(f) for f in files)}")
    for src, why in report.skipped.items():
        console.print(f"[yellow]skipped[/yellow] {src}: {why}")
    for src, why in report.failed.items():
        err.print(f"[red]failed[/red] {src}: {why} (database untouched for it)")
    if report.ingest:
        _print_ingest(report.ingest)
    if report.failed:
        raise typer.Exit(1)


def _parse_since(value: str) -> datetime:
    v = value.strip().lower()
    if v.endswith("d") and v[:-1].isdigit():
        return datetime.now(UTC) - timedelta(days=int(v[:-1]))
    try:
        dt = datetime.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(
            f"{value!r} is not a date (YYYY-MM-DD), a timestamp or a number of days like 7d"
        ) from exc
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


@app.command("export")
def export_cmd(
    what: Annotated[str, typer.Argument(help="projects or credits")],
    out: Annotated[Path, typer.Argument(help="file to write: .csv, .parquet or .xlsx")],
    filter_: Annotated[
        list[str] | None,
        typer.Option(
            "--filter",
            "-f",
            help="NAME=VALUE as the API takes it, repeatable: registry=VCS, country=BR, q=mangrove, type=retirement",
        ),
    ] = None,
    sort: Annotated[str | None, typer.Option(help="column, - for descending (default -issued / -event_date)")] = None,
) -> None:
    """Write a filtered list of projects or credit events to a file (the web's download, from the shell)."""
    from carbonscope.errors import InvalidField
    from carbonscope.jobs import export_list
    from carbonscope.progress import RichProgress

    pairs = []
    for item in filter_ or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise InvalidField("--filter", f"{item!r}: write NAME=VALUE, e.g. registry=VCS")
        pairs.append((name.strip(), value.strip()))
    with RichProgress(console=err) as progress:
        report = export_list(_engine(), what, out, filters=pairs, sort=sort, progress=progress)
    console.print(f"wrote {report.rows:,} {what} ({report.bytes:,} bytes, sorted by {report.sort}) to {report.path}")


@app.command()
def changes(
    since: Annotated[str, typer.Option(help="date (YYYY-MM-DD), ISO timestamp or 7d")] = "7d",
    kind: Annotated[
        list[str] | None, typer.Option(help="new_project, status_changed, totals_changed, new_events")
    ] = None,
    limit: int = 1000,
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List the change feed: new projects, status changes, new events, changed totals."""
    from carbonscope.queries.feed import changes_since

    with _engine().connect() as conn:
        items = changes_since(conn, _parse_since(since), kinds=kind, limit=limit)
    if json_out:
        _print_json({"changes": items})
        return
    t = Table(title=f"changes since {since}")
    for col in ("time", "kind", "project", "name", "detail"):
        t.add_column(col)
    for c in items:
        t.add_row(
            str(c["created_at"])[:19],
            c["kind"],
            c["project_id"] or "",
            (c["name"] or "")[:40],
            json.dumps(c["detail"], default=str)[:80],
        )
    console.print(t)


@app.command()
def check(
    registry: Annotated[str | None, typer.Option(help="VCS, GS, ACR, CAR or ART")] = None,
    kind: Annotated[list[str] | None, typer.Option(help="only these kinds of finding")] = None,
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Reconciliation and data-quality report (differences are listed, never fixed)."""
    from carbonscope.queries.check import findings, summary

    with _engine().connect() as conn:
        items = findings(conn, registry=registry.upper() if registry else None)
    if kind:
        items = [i for i in items if i["kind"] in kind]
    if json_out:
        _print_json({"findings": items, "summary": summary(items)})
        return
    t = Table(title="findings by kind and registry")
    t.add_column("kind")
    regs = [*CODES, "-"]
    for r in regs:
        t.add_column(r, justify="right")
    for k, counts in summary(items).items():
        t.add_row(k, *[f"{counts.get(r, 0):,}" for r in regs])
    console.print(t)
    for i in [i for i in items if i["kind"] == "retired_exceeds_issued"][:50]:
        console.print(f"[red]retired > issued[/red] {i['project']}: {i['detail']}", highlight=False)
    for i in [i for i in items if i["kind"] == "beneficiaries"]:
        console.print(f"beneficiaries: {i['detail']}", highlight=False)


@app.command()
def stats(json_out: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Counts and totals by registry."""
    from carbonscope.queries.stats import by_registry

    with _engine().connect() as conn:
        doc = by_registry(conn)
    if json_out:
        _print_json(doc)
        return
    t = Table(title="registries")
    for col in ("registry", "projects", "events", "issued", "retired or cancelled", "buffer"):
        t.add_column(col, justify="left" if col == "registry" else "right")
    for reg, v in doc["registries"].items():
        t.add_row(reg, *[f"{v[k]:,}" for k in ("projects", "events", "issued", "retired_or_cancelled", "buffer")])
    console.print(t)


@app.command()
def show(
    project_id: Annotated[str, typer.Argument(metavar="ID", help="e.g. VCS1340, GS2913, ACR1185")],
    events: Annotated[int, typer.Option(help="how many recent events to show")] = 20,
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """One project with its totals and events."""
    from carbonscope.queries.projects import project_detail

    with _engine().connect() as conn:
        try:
            doc = project_detail(conn, project_id, events_limit=events)
        except NotFoundError as exc:
            _fail(exc, 1)
    if json_out:
        _print_json(doc)
        return
    console.rule(f"[bold]{doc['id']}[/bold] {doc['name'] or ''}")
    for k in (
        "registry",
        "status",
        "status_raw",
        "proponent",
        "country",
        "country_name",
        "project_type",
        "category",
        "methodologies",
        "registry_url",
    ):
        console.print(f"[dim]{k:>14}[/dim]  {doc.get(k)}", highlight=False)
    tt = doc["totals"]
    console.print(
        "  ".join(
            f"{k.replace('_', ' ')} [bold]{'not stated apart' if tt[k] is None else f'{tt[k]:,}'}[/bold]" for k in tt
        ),
        highlight=False,
    )
    for metric, rule in (doc.get("totals_rules") or {}).items():
        if rule.get("rule") == "stated":
            why = f"; the events loaded hold {rule['ledger']:,}" if rule.get("ledger") is not None else ""
            console.print(
                f"[dim]{metric.replace('_', ' '):>20}[/dim]  as stated by {rule['source']} (row {rule.get('row')}){why}",
                highlight=False,
            )
        elif rule.get("rule") == "ledger":
            console.print(f"[dim]{metric.replace('_', ' '):>20}[/dim]  sum of the events", highlight=False)
    console.print(
        "the event list is the whole story"
        if doc.get("ledger_complete")
        else "the event list is not the whole story of this project's credits",
        highlight=False,
    )
    if doc.get("events"):
        t = Table(title=f"latest {len(doc['events'])} of {doc['event_count']:,} events")
        for col in ("date", "type", "quantity", "vintage", "serial", "beneficiary"):
            t.add_column(col, justify="right" if col == "quantity" else "left")
        for e in doc["events"]:
            t.add_row(
                str(e["event_date"] or ""),
                e["type"],
                f"{e['quantity']:,}",
                str(e["vintage"] or ""),
                (e["serial"] or "")[:40],
                (e["beneficiary"] or "")[:30],
            )
        console.print(t)


@users_app.command("create")
def users_create(
    email: str,
    name: Annotated[str, typer.Option(help="display name")] = "",
    admin: Annotated[bool, typer.Option(help="give the account the admin role")] = False,
    password: Annotated[
        str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True, help="asked for when not given")
    ] = "",
) -> None:
    """Create an account (for the first admin, say)."""
    from carbonscope.accounts import users

    with db_write(_engine()) as tx:
        uid = users.register(tx, email, name or email.split("@")[0], password, role="admin" if admin else "user")
    console.print(f"created user {uid} <{email}>{' (admin)' if admin else ''}")


@users_app.command("set-role")
def users_set_role(email: str, role: Annotated[str, typer.Argument(help="user or admin")]) -> None:
    """Make an account an admin, or a plain user again."""
    from carbonscope.accounts import users

    with db_write(_engine()) as tx:
        users.set_role(tx, email, role)
    console.print(f"{email} is now {role}")


@users_app.command("token")
def users_token(
    email: str,
    name: Annotated[str, typer.Option(help="what the token is for")] = "script",
) -> None:
    """Create a personal API token for an account and print it (shown once; for scripts)."""
    from carbonscope.accounts import tokens, users

    with db_write(_engine()) as tx:
        user = users.by_email(tx, email)
        if user is None:
            raise NotFoundError(f"no account with the address {email}")
        token = tokens.create(tx, user["id"], name)
    typer.echo(token)


@outbox_app.command("send")
def outbox_send() -> None:
    """Deliver queued mail (SMTP when CARBONSCOPE_SMTP_HOST is set, else to the log)."""
    import logging

    from carbonscope.jobs import deliver_mail
    from carbonscope.settings import get_settings

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    console.print(deliver_mail(get_settings(), _engine()))


@app.command("prune")
def prune_cmd() -> None:
    """Delete what has expired: sessions, reset and confirmation links, old sign-in attempts, sent mail
    (the web app also does it every CARBONSCOPE_HOUSEKEEPING_MINUTES)."""
    from carbonscope.jobs import housekeeping
    from carbonscope.settings import get_settings

    done = housekeeping(get_settings(), _engine())
    gone = {**done["pruned"], "orphan upload files": done["orphan files"]}
    console.print(
        ", ".join(f"{n:,} {kind}" for kind, n in gone.items()) + f" removed; {done['mail']['sent']:,} queued mails sent"
    )


@news_app.command("ingest")
def news_ingest(
    paths: Annotated[list[Path], typer.Argument(help="JSON item dumps or RSS/Atom files, or folders of them")],
) -> None:
    """Add news items from files; duplicates (same link or same content) are skipped."""
    from carbonscope.news import sources, store

    files = sources.news_files(paths)
    items = [it for f in files for it in sources.from_path(f)]
    with db_write(_engine()) as tx:
        result = store.save(tx, items)
    console.print(
        f"{result['items']:,} items read from {len(files)} files: {result['new']:,} new, "
        f"{result['duplicates']:,} already loaded (same link or same text); {result['links']:,} links from the new "
        "items to the projects, developers, countries and methodologies they name (on the site's News page)"
    )


@news_app.command("refresh")
def news_refresh(
    feed: Annotated[
        list[str] | None,
        typer.Option(help="feed URL (repeatable); default: CARBONSCOPE_NEWS_FEEDS, else public carbon-market feeds"),
    ] = None,
) -> None:
    """Fetch the configured RSS/Atom feeds and add their new items (run it on a schedule, e.g. cron)."""
    from carbonscope.jobs import refresh_news
    from carbonscope.progress import RichProgress
    from carbonscope.settings import get_settings

    with RichProgress(console=err) as progress:
        report = refresh_news(get_settings(), _engine(), feed, progress=progress)
    r = report.saved
    console.print(
        f"{report.feeds - len(report.failed)} feeds read: {r['new']:,} new items, {r['duplicates']:,} already known, "
        f"{r['links']:,} links to projects, developers, countries and methodologies"
    )
    for url, why in report.failed.items():
        err.print(f"[red]failed[/red] {url}: {why}")
    if report.failed:
        raise typer.Exit(1)


@news_app.command("relink")
def news_relink() -> None:
    """Recompute the automatic links of every news item (after new projects arrive)."""
    from carbonscope.news import store

    with db_write(_engine()) as tx:
        n = store.relink(tx)
    console.print(f"{n:,} automatic links")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port")] = 8000,
    workers: Annotated[int, typer.Option(help="worker processes")] = 1,
    reload: Annotated[bool, typer.Option(help="restart on code changes (development)")] = False,
) -> None:
    """Serve the web site and the REST API (uvicorn), with one analysis worker beside it unless
    CARBONSCOPE_EMBEDDED_WORKER=false (then run `carbonscope worker` yourself), and the schedules
    when CARBONSCOPE_SCHEDULER_EMBEDDED=true (else run `carbonscope scheduler`)."""
    import subprocess
    import sys

    from carbonscope.settings import get_settings

    _engine()  # create or migrate the schema once, before workers start
    os.environ.setdefault("CARBONSCOPE_SITE_URL", f"http://{host}:{port}")  # links in mail point here unless set
    console.print(f"CarbonScope on http://{host}:{port}/  (API docs: http://{host}:{port}/api/docs)")
    settings = get_settings()
    if workers > 1 and settings.metrics_enabled:  # every worker's counts in one /metrics
        from carbonscope.ops.metrics import prepare_multiprocess

        prepare_multiprocess(settings.data_dir / "prometheus")
    helpers = []
    if settings.scheduler_embedded:
        helpers.append(
            subprocess.Popen([sys.executable, "-m", "carbonscope.cli", "scheduler", "--exit-with", str(os.getpid())])
        )
    worker = None
    if settings.embedded_worker:
        cmd = [
            sys.executable,
            "-m",
            "carbonscope.cli",
            "worker",
            "--loglevel",
            "WARNING",
            "--exit-with",
            str(os.getpid()),
        ]
        worker = subprocess.Popen(cmd)
    if worker is not None:
        helpers.append(worker)
    try:
        _serve(host, port, workers, reload)
    finally:
        for helper in helpers:
            helper.terminate()
            try:
                helper.wait(timeout=20)
            except subprocess.TimeoutExpired:
                helper.kill()


def _serve(host: str, port: int, workers: int, reload: bool) -> None:
    import uvicorn

    uvicorn.run(
        "carbonscope.web.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        reload=reload,
        log_level="warning",
        access_log=False,
        proxy_headers=False,
    )


guard_commands(app)  # every command, sub-commands included: a CarbonScopeError is one line and exit code 2


def main() -> None:
    from pydantic import ValidationError

    try:
        app()
    except ValidationError as exc:  # a setting the environment gives that cannot be read: one line per setting
        if exc.title != "Settings":
            raise
        for e in exc.errors():
            name = "CARBONSCOPE_" + str(e["loc"][0]).upper() if e["loc"] else "a setting"
            err.print(
                f"[bold red]error:[/bold red] {name}: {str(e['msg']).removeprefix('Value error, ')}", highlight=False
            )
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
