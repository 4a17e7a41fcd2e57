"""Documents attached to proposals: type checked by content, size limited, stored by content hash."""

from __future__ import annotations

import hashlib
import re
import zipfile
from io import BytesIO
from pathlib import Path

from sqlalchemy import Connection

from carbonscope.errors import InvalidField

TYPES = {
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".csv": "text/csv",
    ".txt": "text/plain",
}


def safe_name(filename: str) -> str:
    name = Path((filename or "").replace("\\", "/")).name
    name = re.sub(r"[^A-Za-z0-9._ -]+", "_", name).strip(" .")
    return (name or "document")[:120]


def _matches(suffix: str, data: bytes) -> bool:
    if suffix == ".pdf":
        return data.startswith(b"%PDF-")
    if suffix == ".png":
        return data.startswith(b"\x89PNG\r\n\x1a\n")
    if suffix in (".jpg", ".jpeg"):
        return data.startswith(b"\xff\xd8\xff")
    if suffix in (".docx", ".xlsx"):
        if not data.startswith(b"PK\x03\x04"):
            return False
        try:
            names = zipfile.ZipFile(BytesIO(data)).namelist()
        except zipfile.BadZipFile:
            return False
        return any(n.startswith("word/" if suffix == ".docx" else "xl/") for n in names)
    if suffix in (".csv", ".txt"):
        if b"\x00" in data:
            return False
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return False
        return True
    return False


def check(filename: str, data: bytes, max_bytes: int) -> tuple[str, str, str]:
    """(safe file name, content type, sha256) of an acceptable upload; refuses anything else."""
    name = safe_name(filename)
    suffix = Path(name).suffix.lower()
    if suffix not in TYPES:
        raise InvalidField("document", f"{name!r}: allowed types are {', '.join(sorted(TYPES))}")
    if not data:
        raise InvalidField("document", f"{name!r} is empty")
    if len(data) > max_bytes:
        raise InvalidField("document", f"{name!r} is {len(data):,} bytes; the limit is {max_bytes:,}")
    if not _matches(suffix, data):
        raise InvalidField("document", f"{name!r}: the content is not a {suffix[1:].upper()} file")
    return name, TYPES[suffix], hashlib.sha256(data).hexdigest()


def store(uploads: Path, sha: str, data: bytes) -> Path:
    path = uploads / sha[:2] / sha
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".part")
        tmp.write_bytes(data)
        tmp.replace(path)
    return path


def stored_path(uploads: Path, sha: str) -> Path:
    if not re.fullmatch(r"[0-9a-f]{64}", sha):
        raise InvalidField("document", "bad document reference")
    return uploads / sha[:2] / sha


def sweep_orphans(conn: Connection, uploads: Path, older_than_seconds: int = 3600) -> int:
    """Remove stored files no document refers to (what a failed commit left), older than an hour so
    a file whose transaction is still committing is never taken."""
    import time

    from sqlalchemy import select

    from carbonscope.db.schema import documents as table

    if not uploads.exists():
        return 0
    known = {sha for (sha,) in conn.execute(select(table.c.sha256).distinct())}
    cutoff, removed = time.time() - older_than_seconds, 0
    for path in uploads.glob("??/*"):
        if path.is_file() and path.name not in known and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            removed += 1
    return removed
