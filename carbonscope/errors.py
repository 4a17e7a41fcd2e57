"""One exception hierarchy. Messages say what went wrong, where, and how to fix it.

Each class carries the HTTP status it answers with (``status``), so the web app has one handler
for all of them (an HTML page or RFC 9457 problem details) and the CLI one exit path."""

from __future__ import annotations


class CarbonScopeError(Exception):
    """Base class of every error CarbonScope raises on purpose."""

    status = 400
    retry_after: int | None = None

    def headers(self) -> dict[str, str]:
        return {"retry-after": str(self.retry_after)} if self.retry_after else {}

    def fields(self) -> list[dict]:
        """The form or API fields at fault: ``[{"field", "message"}]``."""
        return []


class InputError(CarbonScopeError):
    """Bad input data: names the file, and the row and column where known."""

    status = 400

    def __init__(self, message: str, *, file: str | None = None, row: int | None = None, column: str | None = None):
        self.file, self.row, self.column, self.reason = file, row, column, message
        where = []
        if file:
            where.append(str(file))
        if row is not None:
            where.append(f"row {row}")
        if column:
            where.append(f"column {column!r}")
        super().__init__(f"{': '.join([', '.join(where), message]) if where else message}")


class UnrecognisedFileError(InputError):
    """A file whose headers match no known registry export."""


class DownloadError(CarbonScopeError):
    """A registry download failed after retries."""

    status = 502


class DatabaseBusy(CarbonScopeError):
    """The database stayed locked by another writer for longer than we wait."""

    status = 503
    retry_after = 10


class NotFoundError(CarbonScopeError):
    """A requested record does not exist."""

    status = 404


class AuthError(CarbonScopeError):
    """Wrong credentials, an expired session or token (HTTP 401)."""

    status = 401

    def headers(self) -> dict[str, str]:
        return {"www-authenticate": "Bearer"}


class PermissionDenied(CarbonScopeError):
    """Signed in, but not allowed to do this (HTTP 403)."""

    status = 403


class Throttled(CarbonScopeError):
    """Too many attempts; ``retry_after`` seconds to wait (HTTP 429)."""

    status = 429

    def __init__(self, message: str, retry_after: int):
        self.retry_after = retry_after
        super().__init__(message)


class Busy(CarbonScopeError):
    """The server is doing as much of this as it may at once; ``retry_after`` seconds (HTTP 503)."""

    status = 503

    def __init__(self, message: str, retry_after: int = 10):
        self.retry_after = retry_after
        super().__init__(message)


class InvalidField(CarbonScopeError):
    """A form, API or command-line field with a bad value (HTTP 422); names the field."""

    status = 422

    def __init__(self, field: str, message: str):
        self.field, self.message = field, message
        super().__init__(f"{field}: {message}")

    def fields(self) -> list[dict]:
        return [{"field": self.field, "message": self.message}]


def first_problem(exc: Exception, default: str = "") -> tuple[str, str, object]:
    """(where, message, input) of a pydantic ValidationError's first problem: the dotted field path
    (``default`` when the problem is the whole object), pydantic's message, and the value given."""
    first = exc.errors()[0]  # type: ignore[attr-defined]
    return ".".join(str(p) for p in first["loc"]) or default, first["msg"], first.get("input")


def read_toml(path, what: str) -> dict:
    """A TOML file's contents; a missing file or bad TOML is an InputError naming the file and ``what``
    it was meant to be (the analyses' configurations and the data sources file share this)."""
    import tomllib
    from pathlib import Path

    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InputError(f"no such {what}", file=str(path)) from exc
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"not valid TOML ({exc})", file=str(path)) from None
