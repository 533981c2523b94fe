"""Catalogue errors: ``str(exc)`` is always one line for the user."""

from __future__ import annotations


class CatalogError(Exception):
    """Anything wrong with the catalogue (missing, newer schema, network filesystem, busy, ...)."""


class CatalogDamaged(CatalogError):
    """The catalogue file is corrupt (SQLite says malformed, or not a database): the message names the
    file and the backup to restore."""


class QueryError(CatalogError):
    """A malformed search query."""


class AlreadyRunning(CatalogError):
    """Another process holds the catalogue's writer lock (the message names its pid)."""

    def __init__(self, message: str, pid: int | None = None) -> None:
        super().__init__(message)
        self.pid = pid
