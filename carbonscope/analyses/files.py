"""Where a job's files live: its result folder (the data folder, or an fsspec bucket when
``CARBONSCOPE_RESULTS_URL`` is set) and its uploads; reading a result file by name, never by path."""

from __future__ import annotations

import re
from pathlib import Path

from carbonscope.errors import NotFoundError
from carbonscope.settings import Settings

SAFE = re.compile(r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$")


def local_folder(settings: Settings, aid: str) -> Path:
    return settings.analyses_dir / aid / "results"


def upload_folder(settings: Settings, aid: str) -> Path:
    return settings.analyses_dir / aid / "uploads"


def publish(settings: Settings, aid: str, folder: Path) -> str:
    """Copy a committed result folder to the results bucket (when set); the folder's address."""
    if not settings.results_url:
        return str(folder)
    import fsspec

    url = f"{settings.results_url.rstrip('/')}/{aid}"
    fs, root = fsspec.core.url_to_fs(url)
    fs.put(str(folder), root, recursive=True)
    return url


def _checked(name: str) -> str:
    if not SAFE.match(name) or ".." in name.split("/"):
        raise NotFoundError(f"no file {name!r} in this analysis")
    return name


def read_bytes(folder: str, name: str) -> bytes:
    """A result file's bytes, by its name inside the result folder."""
    name = _checked(name)
    if "://" in folder:
        import fsspec

        fs, root = fsspec.core.url_to_fs(folder)
        try:
            return fs.cat_file(f"{root}/{name}")
        except FileNotFoundError as exc:
            raise NotFoundError(f"no file {name!r} in this analysis") from exc
    p = Path(folder) / name
    if not p.is_file():
        raise NotFoundError(f"no file {name!r} in this analysis")
    return p.read_bytes()


def local_path(folder: str, name: str, cache: Path) -> Path:
    """A result file on local disk (fetched once from the bucket into ``cache``), for readers such as tiles."""
    name = _checked(name)
    if "://" not in folder:
        p = Path(folder) / name
        if not p.is_file():
            raise NotFoundError(f"no file {name!r} in this analysis")
        return p
    target = cache / name
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(read_bytes(folder, name))
    return target


def listing(folder: str) -> list[dict]:
    """The downloadable files of a result folder: name and size."""
    if "://" in folder:
        import fsspec

        fs, root = fsspec.core.url_to_fs(folder)
        out = []
        for p, info in fs.find(root, detail=True).items():
            out.append({"name": p[len(root) :].lstrip("/"), "bytes": info.get("size")})
        return sorted(out, key=lambda f: f["name"])
    base = Path(folder)
    if not base.is_dir():
        return []
    return [
        {"name": str(p.relative_to(base)), "bytes": p.stat().st_size}
        for p in sorted(base.rglob("*"))
        if p.is_file() and not p.relative_to(base).parts[0] == "inputs"
    ]
