"""One exception hierarchy. Messages say what went wrong, where, and how to fix it."""

from __future__ import annotations


class CarbonScopeError(Exception):
    """Base class of every error CarbonScope raises on purpose."""


class InputError(CarbonScopeError):
    """Bad input data: names the file, and the row and column where known."""

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


class DatabaseBusy(CarbonScopeError):
    """The database stayed locked by another writer for longer than we wait."""


class NotFoundError(CarbonScopeError):
    """A requested record does not exist."""


class AuthError(CarbonScopeError):
    """Wrong credentials, an expired session or token (HTTP 401)."""


class PermissionDenied(CarbonScopeError):
    """Signed in, but not allowed to do this (HTTP 403)."""


class Throttled(CarbonScopeError):
    """Too many attempts; ``retry_after`` seconds to wait (HTTP 429)."""

    def __init__(self, message: str, retry_after: int):
        self.retry_after = retry_after
        super().__init__(message)


class Busy(CarbonScopeError):
    """The server is doing as much of this as it may at once; ``retry_after`` seconds (HTTP 503)."""

    def __init__(self, message: str, retry_after: int = 10):
        self.retry_after = retry_after
        super().__init__(message)


class InvalidField(CarbonScopeError):
    """A form or API field with a bad value (HTTP 422); names the field."""

    def __init__(self, field: str, message: str):
        self.field, self.message = field, message
        super().__init__(f"{field}: {message}")
