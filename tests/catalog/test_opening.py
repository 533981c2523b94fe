"""A writer opening a catalogue, and a reader upgrading an older one, take the same steps (opening.py):
the same settings and journal mode on the file, each refusal said in the opener's own words."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from autotagger.catalog import Catalog, CatalogError
from autotagger.catalog.schema import LATEST
from tests.catalog.helpers import build_old


class _NoWal(sqlite3.Connection):
    """A connection on a file that stays in its journal mode (a VFS or filesystem without WAL)."""

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        if sql == "PRAGMA journal_mode = WAL":
            return super().execute("PRAGMA journal_mode")
        return super().execute(sql, *args)


@pytest.fixture()
def no_wal(monkeypatch: pytest.MonkeyPatch) -> None:
    real = sqlite3.connect
    monkeypatch.setattr(sqlite3, "connect", lambda *a, **k: real(*a, factory=_NoWal, **k))


# the tables, indexes and triggers (not sqlite_stat1, which a writer's close() adds: PRAGMA optimize)
_SCHEMA = "SELECT type, name, sql FROM sqlite_schema WHERE name NOT LIKE 'sqlite_stat%' ORDER BY name"


def _old_without_wal(path: Path) -> None:
    build_old(path, 4)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = DELETE")
    conn.close()


def test_a_writer_and_a_reader_upgrade_leave_the_same_file(tmp_path: Path) -> None:
    files = {}
    for readonly in (False, True):
        path = tmp_path / f"{readonly}" / "catalog.sqlite3"
        path.parent.mkdir()
        _old_without_wal(path)
        with Catalog(path, readonly=readonly) as cat:
            assert cat.schema_version == LATEST and cat.backup_path is not None
        conn = sqlite3.connect(path)
        files[readonly] = (
            conn.execute("PRAGMA journal_mode").fetchone()[0],
            conn.execute(_SCHEMA).fetchall(),
            conn.execute("SELECT version FROM schema_migrations ORDER BY version").fetchall(),
        )
        conn.close()
    assert files[False][0] == "wal" and files[False] == files[True]


@pytest.mark.usefixtures("no_wal")
def test_a_writer_says_when_the_file_cannot_use_wal(tmp_path: Path) -> None:
    path = tmp_path / "catalog.sqlite3"
    with pytest.raises(CatalogError) as info:
        Catalog(path)
    assert str(info.value) == f"catalogue {path}: cannot switch to WAL mode"


@pytest.mark.usefixtures("no_wal")
def test_a_reader_says_when_the_file_cannot_use_wal(tmp_path: Path) -> None:
    path = tmp_path / "catalog.sqlite3"
    _old_without_wal(path)
    with pytest.raises(CatalogError) as info:
        Catalog(path, readonly=True)
    assert str(info.value) == (
        f"catalogue {path} has schema v4 and needs an upgrade to v{LATEST}, which cannot be made now: "
        "it cannot be switched to WAL mode"
    )
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 4
    conn.close()
