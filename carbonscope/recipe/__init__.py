"""The run contract both analysis engines follow (the carbon analyst and the REDD+ baseline), and
that the CLI, background jobs and the QGIS plugin call the same way:

1. ``recipe.load(path)`` reads and validates a TOML configuration (pydantic; errors name the field);
2. ``execute(recipe, cfg, ...)`` runs its steps, each returning a typed result, reporting progress
   through :class:`carbonscope.progress.Progress`, writing into a :class:`RunFolder` that is moved
   into place only when the run completes (JSON through the one strict writer);
3. objects opened for the run (readers, models) live in a :class:`RunCache` keyed by the run and are
   released when it ends.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, TypeVar

from carbonscope.progress import NullProgress, Progress
from carbonscope.recipe.cache import PROCESS, RunCache, release
from carbonscope.recipe.folder import RunFolder

C = TypeVar("C")
R = TypeVar("R")

__all__ = ["PROCESS", "Recipe", "RunCache", "RunFolder", "execute", "release"]


class Recipe(Protocol[C, R]):
    name: str
    keep: tuple[str, ...]  # sub-folders a new run carries over from the previous one

    def load(self, path: Path) -> C: ...

    def output(self, cfg: C) -> Path: ...

    def run(self, cfg: C, folder: RunFolder, progress: Progress) -> R: ...

    def moved(self, result: R, folder: RunFolder) -> R:
        """``result`` with the paths it holds in the committed folder (``folder.final``)."""
        ...


def execute(
    recipe: Recipe[C, R],
    cfg: C,
    out: Path | None = None,
    *,
    config_path: Path | None = None,
    progress: Progress | None = None,
) -> R:
    """Run ``recipe`` on ``cfg`` into ``out`` (default: the config's output folder), atomically."""
    folder = RunFolder(Path(out or recipe.output(cfg)), keep=recipe.keep)
    folder.open()
    try:
        if config_path is not None:
            folder.copy(config_path, "config.toml")
        result = recipe.run(cfg, folder, progress or NullProgress())
    except BaseException:
        folder.abandon()  # the previous run's folder stays as it was
        raise
    folder.commit()
    return recipe.moved(result, folder)
