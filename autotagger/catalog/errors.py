"""Catalogue errors: ``str(exc)`` is always one line for the user."""

from __future__ import annotations

import glob
import os
import sqlite3
from contextlib import suppress
from pathlib import Path


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


def damage_error(path: Path, exc: BaseException) -> CatalogDamaged | None:
    """The one line for a corrupt catalogue (a damaged page is met by whatever statement reads it,
    long after the file opened), naming the file and its newest backup; None for any other error."""
    if not isinstance(exc, sqlite3.DatabaseError):
        return None
    name = getattr(exc, "sqlite_errorname", "")  # Python 3.11+; before, the message tells
    text = " ".join(str(exc).split())
    if name:
        corrupt, notadb = name.startswith("SQLITE_CORRUPT"), name.startswith("SQLITE_NOTADB")
    else:
        corrupt, notadb = "disk image is malformed" in text, "file is not a database" in text
    if not (corrupt or notadb):
        return None
    return damaged(path, text, notadb=notadb)


def damaged(path: Path, detail: str, *, notadb: bool = False) -> CatalogDamaged:
    """CatalogDamaged for ``path``: what is wrong (``detail``), and the newest backup beside it to restore."""
    where = os.path.abspath(path)
    backups: list[Path] = []
    with suppress(OSError):
        backups = [
            p for p in Path(where).parent.glob(f"{glob.escape(Path(where).name)}.v*-backup-*")
            if p.is_file() and not p.name.endswith(("-journal", "-wal", "-shm"))
        ]
    backup = f" ({max(backups, key=_mtime).name} beside it)" if backups else ""
    if notadb:  # the header: also a file that never was a catalogue (--catalog given a photo)
        what = f"cannot open catalogue {where}: it is damaged or not a catalogue"
    else:
        what = f"catalogue {where} is damaged"
    return CatalogDamaged(f"{what} ({detail}); restore a backup{backup} or move it away")


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
