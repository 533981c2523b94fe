"""Another program's SQLite database given as the catalogue (a Lightroom .lrcat, a digiKam database)
is refused before anything is written: a writer used to switch it to WAL and add our tables to it."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from autotagger.catalog import Catalog, CatalogError
from autotagger.cli import main


def _lightroom(path: Path) -> str:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE Adobe_images (id_local INTEGER PRIMARY KEY, captureTime TEXT)")
    conn.execute("INSERT INTO Adobe_images VALUES (1, '2024-06-01')")
    conn.commit()
    conn.close()
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("readonly", [False, True])
def test_another_programs_database_is_refused_and_left_unchanged(tmp_path: Path, readonly: bool) -> None:
    path = tmp_path / "Lightroom Catalog.lrcat"
    before = _lightroom(path)
    with pytest.raises(CatalogError, match="another program's SQLite database") as err:
        Catalog(path, readonly=readonly)
    assert str(path) in str(err.value) and "\n" not in str(err.value)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Lightroom Catalog.lrcat"]  # no -wal, no backup
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    conn.close()


def test_the_cli_says_so_in_one_line_and_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "photos.lrcat"
    before = _lightroom(path)
    assert main(["--catalog", str(path), "folders", "add", str(tmp_path)]) != 0
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "not an autotagger catalogue" in err
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def test_an_empty_file_still_becomes_a_catalogue(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    path.touch()
    cat = Catalog(path)
    try:
        assert cat.schema_version > 0
    finally:
        cat.close()


def test_a_reader_on_an_empty_file_says_there_is_no_catalogue_yet(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    path.touch()
    with pytest.raises(CatalogError, match=r"no catalogue at .*the file is empty") as err:
        Catalog(path, readonly=True)
    assert "schema v0" not in str(err.value) and path.stat().st_size == 0
