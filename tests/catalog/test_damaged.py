"""A damaged catalogue file: every call says so in one line naming the file and the backup to restore."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from autotagger.catalog import Catalog, CatalogDamaged
from autotagger.catalog.errors import damage_error
from tests.catalog.helpers import damaged_catalogue, result

CALLS: dict[str, Callable[[Catalog], Any]] = {
    "search": lambda c: c.search("dog"),
    "search tag:": lambda c: c.search("tag:dog"),
    "count": lambda c: c.count(""),
    "status": lambda c: c.status(),
    "tag_counts": lambda c: c.tag_counts(),
    "iter_images": lambda c: list(c.iter_images()),
    "get_image": lambda c: c.get_image("/p/dog.jpg"),
    "list_folders": lambda c: c.list_folders(),
}


@pytest.fixture
def damaged(tmp_path: Path) -> Path:
    return damaged_catalogue(tmp_path / "catalog.sqlite3")


def says_damaged(info: pytest.ExceptionInfo[CatalogDamaged], path: Path) -> str:
    text = str(info.value)
    assert "\n" not in text and f"catalogue {path} is damaged (database disk image is malformed)" in text
    assert "restore a backup" in text and "move it away" in text
    return text


@pytest.mark.parametrize("call", sorted(CALLS))
def test_every_read_says_the_catalogue_is_damaged(damaged: Path, call: str) -> None:
    with Catalog(damaged, readonly=True) as cat, pytest.raises(CatalogDamaged) as info:
        CALLS[call](cat)
    assert says_damaged(info, damaged).endswith("restore a backup or move it away")  # none beside it


def test_writes_say_it_too_and_name_the_newest_backup(damaged: Path) -> None:
    old = damaged.with_name(damaged.name + ".v3-backup-20240101T000000")
    new = damaged.with_name(damaged.name + ".v4-backup-20250101T000000")
    for backup, when in ((old, 1_700_000_000), (new, 1_750_000_000)):
        backup.write_bytes(b"a backup")
        os.utime(backup, (when, when))
    with Catalog(damaged) as cat:
        for write in (lambda: cat.record_result(result("/p/new.jpg")), lambda: cat.enqueue("/p/new.jpg"),
                      lambda: cat.add_tags("/p/dog.jpg", ["x"])):
            with pytest.raises(CatalogDamaged) as info:
                write()
            assert f"({new.name} beside it)" in says_damaged(info, damaged)


def test_a_file_that_is_no_database_says_so_when_opened(tmp_path: Path) -> None:
    path = tmp_path / "catalog.sqlite3"
    Catalog(path).close()
    with open(path, "r+b") as f:
        f.write(b"\xa5" * 100)  # the header
    for readonly in (True, False):
        with pytest.raises(CatalogDamaged) as info:
            Catalog(path, readonly=readonly)
        assert str(info.value) == (
            f"cannot open catalogue {path}: it is damaged or not a catalogue (file is not a database); "
            "restore a backup or move it away"
        )


def test_other_database_errors_are_not_damage(tmp_path: Path) -> None:
    """Only a damaged file is said to be one: a busy file or a bug in our SQL must not send anyone to
    their backups."""
    conn = sqlite3.connect(":memory:")
    errors: list[sqlite3.DatabaseError] = []
    for sql in ("INSERT INTO t VALUES (NULL)", "SELECT * FROM t WHERE t MATCH 'a AND'", "SELECT nosuch FROM t"):
        conn.execute("CREATE TABLE IF NOT EXISTS t (x NOT NULL)")
        with pytest.raises(sqlite3.DatabaseError) as info:
            conn.execute(sql)
        errors.append(info.value)
    errors += [sqlite3.OperationalError("database is locked"), sqlite3.OperationalError("malformed MATCH expression")]
    for exc in errors:
        assert damage_error(tmp_path / "c.sqlite3", exc) is None, exc
    corrupt = sqlite3.DatabaseError("database disk image is malformed")  # as Python before 3.11 has it
    assert isinstance(damage_error(tmp_path / "c.sqlite3", corrupt), CatalogDamaged)
