"""What every ``carbonscope`` sub-command prints with: consoles, errors (exit code), JSON."""

from __future__ import annotations

import functools
import sys
from typing import Never

import typer
from rich.console import Console
from rich.markup import escape

from carbonscope.errors import CarbonScopeError
from carbonscope.extras import missing_extra
from carbonscope.jsonsafe import dumps


def _width(stream) -> int | None:
    """A terminal's own width; a file or pipe (a log) gets wide lines instead of rich's 80 columns,
    so tables and file names are not cut ("americ…"). ``COLUMNS`` still wins when set."""
    import os

    if os.environ.get("COLUMNS") or stream.isatty():
        return None
    return 200


console = Console(width=_width(sys.stdout))
err = Console(stderr=True, width=_width(sys.stderr))


def fail(exc: Exception, code: int = 1) -> Never:
    err.print(f"[bold red]error:[/bold red] {escape(str(exc))}", highlight=False)  # brackets in a message are text
    raise typer.Exit(code)


def print_json(doc: object) -> None:
    sys.stdout.write(dumps(doc) + "\n")


def guard_commands(app: typer.Typer) -> None:
    """Every command of ``app`` (and of its sub-apps): an error CarbonScope raises on purpose, or an
    optional part that is not installed, is printed as one line and exits with code 2, never a traceback."""
    for info in app.registered_commands:
        if info.callback is not None and not getattr(info.callback, "_guarded", False):
            info.callback = _guarded(info.callback)
    for group in app.registered_groups:
        if group.typer_instance is not None:
            guard_commands(group.typer_instance)


def _guarded(fn):
    @functools.wraps(fn)
    def run(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except CarbonScopeError as exc:
            fail(exc, 2)
        except ModuleNotFoundError as exc:
            needed = missing_extra(exc)
            if needed is None:
                raise
            fail(needed, 2)

    run._guarded = True  # type: ignore[attr-defined]
    return run
