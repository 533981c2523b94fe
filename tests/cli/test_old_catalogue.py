"""The read-only commands on a catalogue an older autotagger wrote: upgraded where it can be (backup
beside it), then read as always; and what they show of photos the catalogue forgot (nothing)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from autotagger.catalog import Catalog, WriterLock
from autotagger.catalog.schema import LATEST
from tests.catalog.helpers import build_old, result
from tests.cli.helpers import no_settings, run


@pytest.fixture(autouse=True)
def _no_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    no_settings(tmp_path, monkeypatch)


def test_search_finds_in_a_v4_catalogue_upgrading_it_with_a_backup(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "catalog.sqlite3"
    build_old(path, 4)
    code, out, err = run(capsys, "--catalog", str(path), "search", "lighthouse", "--json")
    assert (code, err) == (0, "")
    assert [json.loads(line)["path"] for line in out.splitlines()] == ["/old/lighthouse.jpg"]
    backups = list(tmp_path.glob("catalog.sqlite3.v4-backup-*"))
    assert len(backups) == 1
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == LATEST
    conn.close()
    code, out, _ = run(capsys, "--catalog", str(path), "status", "--json")
    assert code == 0 and json.loads(out)["schema_version"] == LATEST


def test_a_v4_catalogue_held_by_a_running_older_writer_is_one_line(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "catalog.sqlite3"
    build_old(path, 4)
    with WriterLock(path):
        code, out, err = run(capsys, "--catalog", str(path), "tags")
    assert code != 0 and out == ""
    assert len(err.strip().splitlines()) == 1 and f"catalogue {path} has schema v4" in err
    assert "is writing to it" in err and not list(tmp_path.glob("catalog.sqlite3.v4-backup-*"))


def test_status_tags_and_search_do_not_see_a_forgotten_photo(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "catalog.sqlite3"
    with Catalog(path) as cat:
        cat.record_result(result("/p/dog.jpg"), content_hash="jdog")
        cat.record_result(result("/p/cat.jpg", caption="a cat", tags=("animal|cat",)), content_hash="jcat")
        cat.add_tags("/p/dog.jpg", ["family|rex"])
        cat.remove_image("/p/dog.jpg")  # gone from the watched folders: a tombstone, not an image
    code, out, _ = run(capsys, "--catalog", str(path), "status")
    assert code == 0 and "images:    1  tagged 1, pending 0, failed 0" in out
    code, out, _ = run(capsys, "--catalog", str(path), "tags", "--json")
    assert code == 0 and "rex" not in out and "dog" not in out and "animal|cat" in out
    code, out, _ = run(capsys, "--catalog", str(path), "search", "dog")
    assert code == 0 and out == ""
    code, out, _ = run(capsys, "--catalog", str(path), "export", "--format", "json")
    assert code == 0 and "/p/dog.jpg" not in out and "/p/cat.jpg" in out
