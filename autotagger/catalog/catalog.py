"""The Catalog: one SQLite file shared by the GUI, the service and the CLI. One instance per thread."""

from __future__ import annotations

import functools
import inspect
import sqlite3
from collections.abc import Callable, Generator
from typing import Any

from autotagger.catalog.edits import EditsMixin
from autotagger.catalog.errors import damage_error
from autotagger.catalog.images import ImagesMixin
from autotagger.catalog.jobs import JobsMixin
from autotagger.catalog.search import SearchMixin


class Catalog(ImagesMixin, EditsMixin, JobsMixin, SearchMixin):
    """``Catalog(path)`` creates or upgrades the file (WAL, migrations with a backup first);
    ``Catalog(path, readonly=True)`` only reads and never creates. See the mixins for the calls."""

    def __enter__(self) -> Catalog:
        return self

    def data_version(self) -> int:
        """A number that changes whenever another connection (another process, or another thread's
        Catalog) has committed to the file since this one last asked; SQLite's ``PRAGMA
        data_version``. A reader polls it to notice changes made elsewhere, at no cost."""
        return int(self._conn.execute("PRAGMA data_version").fetchone()[0])

    def checkpoint(self) -> bool:
        """Copy the WAL into the catalogue and cut the WAL file to nothing; for a writer that has gone
        idle (the queue empty), so that a quiet service leaves no WAL behind (journal_size_limit only
        trims it to WAL_SIZE_LIMIT, and only at the next write). Best effort and never waits: a reader
        in the middle of a read (the GUI) or another writer makes it give up, and it returns False;
        True when the WAL is empty now."""
        if self.readonly or self._in_txn:
            return False
        conn = self._conn
        busy_ms = int(conn.execute("PRAGMA busy_timeout").fetchone()[0])
        conn.execute("PRAGMA busy_timeout = 0")  # TRUNCATE would otherwise wait out every reader
        try:
            busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        except sqlite3.OperationalError:  # locked: someone is writing
            return False
        finally:
            conn.execute(f"PRAGMA busy_timeout = {busy_ms}")
        return int(busy) == 0


def _said(cat: Catalog, exc: sqlite3.DatabaseError) -> Exception:
    """What to raise for ``exc``: CatalogDamaged for a corrupt page, else ``exc`` itself."""
    return damage_error(cat.path, exc) or exc


def _says_damage(method: Callable[..., Any]) -> Callable[..., Any]:
    """``method`` with a corrupt page turned into CatalogDamaged, one line naming the file and its
    backup. SQLite meets a damaged page only in the statement that reads it, anywhere, long after the
    file opened: without this every command and the GUI said a bare "DatabaseError"."""
    if inspect.isgeneratorfunction(method):  # iter_images: its rows are read as it is iterated

        @functools.wraps(method)
        def generator(self: Catalog, *args: Any, **kwargs: Any) -> Generator[Any, Any, Any]:
            try:
                return (yield from method(self, *args, **kwargs))
            except sqlite3.DatabaseError as exc:
                raise _said(self, exc) from None

        return generator

    @functools.wraps(method)
    def call(self: Catalog, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.DatabaseError as exc:
            raise _said(self, exc) from None

    return call


def _guard(cls: type) -> None:
    """Every public method of ``cls`` (the mixins' included) through ``_says_damage``."""
    for name, member in inspect.getmembers(cls, inspect.isfunction):
        if not name.startswith("_"):
            setattr(cls, name, _says_damage(member))


_guard(Catalog)
