"""A run's output folder, written whole or not at all.

Everything a run writes goes to ``<out>.partial``; :meth:`RunFolder.commit` moves it into place in
one rename, so a reader (a person, the web's job page) sees the previous complete folder or the new
one, never a half-written mix, and a failed run leaves the previous folder as it was."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from types import TracebackType

import pandas as pd

from carbonscope.jsonsafe import write_json


class RunFolder:
    def __init__(self, out: Path, keep: tuple[str, ...] = ()):
        """``keep``: sub-folders of the previous run to carry over (hard links where the file system
        allows): downloads such as STAC layers that a new run would otherwise fetch again."""
        self.out = Path(out).resolve()
        self.path = self.out.with_name(self.out.name + ".partial")
        self.keep = keep
        self.committed = False

    def __enter__(self) -> RunFolder:
        self.open()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if kind is None:
            self.commit()
        else:
            self.abandon()

    def open(self) -> Path:
        if self.path.exists():
            shutil.rmtree(self.path)
        self.path.mkdir(parents=True)
        for name in self.keep:
            old = self.out / name
            if old.is_dir():
                shutil.copytree(old, self.path / name, copy_function=_link_or_copy)
        return self.path

    def file(self, name: str) -> Path:
        """Where to write ``name`` (parents made)."""
        p = self.path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        return p

    def json(self, name: str, doc: object) -> Path:
        """Strict JSON (NaN as null, numpy as numbers), the one writer of every run's JSON."""
        p = self.file(name)
        write_json(p, doc)
        return p

    def table(self, name: str, df: pd.DataFrame, formats: tuple[str, ...] = ("csv", "parquet")) -> None:
        for fmt in formats:
            p = self.file(f"{name}.{fmt}")
            if fmt == "csv":
                df.to_csv(p, index=False)
            else:
                df.to_parquet(p, index=False)

    def copy(self, src: Path, name: str) -> Path:
        p = self.file(name)
        shutil.copyfile(src, p)
        return p

    def final(self, p: Path) -> Path:
        """Where a path written in the partial folder lives once committed."""
        p = Path(p)
        try:
            return self.out / p.resolve().relative_to(self.path)
        except ValueError:
            return p

    def commit(self) -> Path:
        """Move the finished folder into place (the previous run's folder is removed)."""
        old = self.out.with_name(self.out.name + ".previous")
        if old.exists():
            shutil.rmtree(old)
        if self.out.exists():
            self.out.rename(old)
        self.path.rename(self.out)
        if old.exists():
            shutil.rmtree(old)
        self.committed = True
        return self.out

    def abandon(self) -> None:
        """Remove what a failed run wrote; the previous folder stays."""
        shutil.rmtree(self.path, ignore_errors=True)


def _link_or_copy(src: str, dst: str) -> str:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)
    return dst
