"""What every ``carbonscope`` sub-command prints with: consoles, errors (exit code), JSON."""

from __future__ import annotations

import json
import sys

import typer
from rich.console import Console

from carbonscope.jsonsafe import json_safe

console = Console()
err = Console(stderr=True)


def fail(exc: Exception, code: int = 1):
    err.print(f"[bold red]error:[/bold red] {exc}", highlight=False)
    raise typer.Exit(code)


def print_json(doc) -> None:
    sys.stdout.write(json.dumps(json_safe(doc), indent=2, default=str, ensure_ascii=False) + "\n")
