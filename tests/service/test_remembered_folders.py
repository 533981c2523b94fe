"""The remembered folders a service starts with are read by a reader, never by a writer that would
migrate a catalogue behind the back of another process holding the writer lock."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from autotagger.catalog import CatalogError
from autotagger.catalog.lock import WriterLock
from autotagger.service.folders import remembered_folders
from tests.catalog.helpers import build_old


def _older(path: Path, folder: str) -> None:
    """A v4 catalogue (as an older autotagger left it) that remembers ``folder``."""
    build_old(path, 4)
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO folders (path, recursive, added_at) VALUES (?, 1, 'x')", (folder,))
    conn.commit()
    conn.close()


def _version(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])
    finally:
        conn.close()


def test_an_empty_file_remembers_nothing_and_is_left_for_the_service(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    path.touch()
    assert remembered_folders(path, ["/extra"]) == ["/extra"]
    assert path.stat().st_size == 0


def test_a_catalogue_held_by_another_writer_is_not_migrated_behind_its_back(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    _older(path, str(tmp_path))
    before = _version(path)
    lock = WriterLock(path)
    lock.acquire()
    try:
        with pytest.raises(CatalogError, match="writing to it"):
            remembered_folders(path, [])
    finally:
        lock.release()
    assert _version(path) == before == 4
    assert not list(tmp_path.glob("c.sqlite3.v4-backup-*"))
    assert remembered_folders(path, []) == [str(tmp_path)]  # once free, the reader upgrades it itself
