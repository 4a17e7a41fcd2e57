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


class NotFoundError(CarbonScopeError):
    """A requested record does not exist."""
