"""Progress reporting that long work calls without knowing who listens (CLI bars, web jobs, nothing)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, cast

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import TaskID


class Progress(Protocol):
    def task(self, description: str, total: float | None = None) -> object: ...
    def advance(self, task: object, amount: float = 1.0) -> None: ...
    def update(
        self,
        task: object,
        *,
        description: str | None = None,
        total: float | None = None,
        completed: float | None = None,
    ) -> None: ...
    def log(self, message: str) -> None: ...


class NullProgress:
    def task(self, description: str, total: float | None = None) -> object:
        return None

    def advance(self, task: object, amount: float = 1.0) -> None:
        pass

    def update(
        self,
        task: object,
        *,
        description: str | None = None,
        total: float | None = None,
        completed: float | None = None,
    ) -> None:
        pass

    def log(self, message: str) -> None:
        pass


class RichProgress:
    """Adapter over :class:`rich.progress.Progress`; use as a context manager."""

    def __init__(self, console: Console | None = None) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )
        from rich.progress import (
            Progress as _P,
        )

        self._p = _P(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )

    def __enter__(self) -> RichProgress:
        self._p.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._p.__exit__(*exc)

    def task(self, description: str, total: float | None = None) -> object:
        return self._p.add_task(description, total=total)

    def advance(self, task: object, amount: float = 1.0) -> None:
        self._p.advance(cast("TaskID", task), amount)

    def update(
        self,
        task: object,
        *,
        description: str | None = None,
        total: float | None = None,
        completed: float | None = None,
    ) -> None:
        self._p.update(cast("TaskID", task), description=description, total=total, completed=completed)

    def log(self, message: str) -> None:
        self._p.console.log(message)
