"""A DNG (or TIFF) whose metadata another tool edits keeps its identity: Lightroom or exiftool adding a
keyword is not a new photo for the model, and a file renamed and edited is a move (its record, a
person's caption with it, follows). Records of older catalogues, which hold the whole-file digest,
still match their unchanged files and are upgraded to the metadata-blind digest."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from autotagger.catalog import Catalog
from autotagger.metadata import read_metadata
from autotagger.service.events import FileMoved
from autotagger.service.ingest import Ingestor
from autotagger.service.service import Service
from autotagger.types import Tag, TagResult
from autotagger.watch.hashing import content_hash, legacy_hash
from autotagger.watch.settle import FileStat
from tests.metadata.conftest import EXIFTOOL, needs_exiftool
from tests.metadata.dngfiles import adobe_dng

from .helpers import (
    LoggingTagger,
    Running,
    catalog_rows,
    make_jpeg,
    model_calls,
    options,
    run_once,
    wait_until,
)

CAPTION = "Anna at the lake"


def exiftool(*args: str) -> None:
    assert EXIFTOOL is not None
    subprocess.run([EXIFTOOL, *args], check=True, capture_output=True)


def keywords(path: Path) -> tuple[str, ...]:
    return read_metadata(path).subjects


def set_caption(cat_path: Path, photo: Path) -> None:
    with Catalog(cat_path) as cat:
        cat.set_caption(str(photo), CAPTION)


def state(cat_path: Path, photo: Path) -> tuple[int | None, str]:
    """The record's size and status (a touch records the new size; a change sets it pending)."""
    rec = catalog_rows(cat_path)[str(photo)]
    return rec.size, rec.status


@needs_exiftool
def test_a_dng_edited_and_renamed_by_another_tool_is_not_tagged_again(tmp_path: Path) -> None:
    photos, log = tmp_path / "photos", tmp_path / "calls.log"
    photos.mkdir()
    cat_path = tmp_path / "catalog.sqlite3"
    make_jpeg(photos / "keep.jpg", 1)  # the folder never looks emptied
    dng = adobe_dng(photos / "IMG_0001.dng")
    with Running(Service(options(tmp_path, [photos]), lambda: LoggingTagger(log))) as run:
        wait_until(lambda: [r.status for r in catalog_rows(cat_path).values()] == ["tagged"] * 2, what="tagged")
        assert "Anna" in keywords(dng) and "test" in keywords(dng)  # Lightroom's keyword, then ours
        set_caption(cat_path, dng)
        # a keyword added in Lightroom (exiftool here): the file is rewritten, the photo is the same
        before = state(cat_path, dng)
        exiftool("-overwrite_original", "-XMP-dc:Subject+=lake", str(dng))
        wait_until(lambda: state(cat_path, dng) not in (before, (before[0], "pending")), what="the edit seen")
        assert model_calls(log)[str(dng)] == 1
        assert state(cat_path, dng) == (dng.stat().st_size, "tagged")
        # saved under a new name with another keyword, the original deleted: a move, by content
        renamed = photos / "lake.dng"
        exiftool("-XMP-dc:Subject+=summer", "-o", str(renamed), str(dng))
        dng.unlink()
        wait_until(lambda: FileMoved(str(dng), str(renamed)) in run.events, what="the move")
        wait_until(lambda: str(dng) not in catalog_rows(cat_path), what="the old record gone")
    rows = catalog_rows(cat_path)
    assert rows[str(renamed)].status == "tagged" and rows[str(renamed)].caption == CAPTION
    assert str(renamed) not in model_calls(log) and model_calls(log)[str(dng)] == 1
    assert {"Anna", "lake", "summer", "test"} <= set(keywords(renamed))  # the person's stay in the file


@needs_exiftool
def test_a_dng_renamed_and_edited_while_the_service_was_not_running_is_a_move(tmp_path: Path) -> None:
    photos, log = tmp_path / "photos", tmp_path / "calls.log"
    photos.mkdir()
    cat_path = tmp_path / "catalog.sqlite3"
    make_jpeg(photos / "keep.jpg", 1)
    dng = adobe_dng(photos / "IMG_0001.dng")
    run_once(tmp_path, photos, log)
    set_caption(cat_path, dng)
    renamed = photos / "lake.dng"
    dng.rename(renamed)
    exiftool("-overwrite_original", "-XMP-dc:Subject+=lake", str(renamed))
    events = run_once(tmp_path, photos, log)
    assert FileMoved(str(dng), str(renamed)) in events
    rows = catalog_rows(cat_path)
    assert str(dng) not in rows and rows[str(renamed)].caption == CAPTION
    assert str(renamed) not in model_calls(log)


# -- catalogues made before the TIFF/DNG/WebP digests ---------------------------------------------------
def tagged_with_old_digest(cat: Catalog, path: Path) -> None:
    """A record as an older version left it: tagged, with the whole-file digest of the file."""
    st = path.stat()
    result = TagResult(str(path), caption=CAPTION, tags=(Tag("setting|lake", 0.9, "setting"),), model_id="m")
    cat.record_result(result, size=st.st_size, mtime=st.st_mtime, content_hash=legacy_hash(path))


@pytest.fixture
def tiff(tmp_path: Path) -> Path:
    from PIL import Image

    (tmp_path / "photos").mkdir()
    path = tmp_path / "photos" / "a.tif"
    Image.new("RGB", (64, 48), (10, 120, 30)).save(path, "TIFF")
    return path


def test_an_older_record_of_an_unchanged_file_is_touched_not_queued(tmp_path: Path, tiff: Path) -> None:
    with Catalog(tmp_path / "catalog.sqlite3") as cat:
        tagged_with_old_digest(cat, tiff)
        os.utime(tiff, (1_000_000_000, 1_000_000_000))  # copied back from a backup: another mtime
        assert Ingestor(cat, lambda e: None).consider(str(tiff), FileStat.of(tiff.stat())) == "touched"
        rec = cat.get_image(str(tiff))
        assert rec is not None and rec.status == "tagged" and rec.caption == CAPTION
        assert rec.content_hash == content_hash(tiff) and rec.content_hash.startswith("t")  # upgraded
        assert cat.list_jobs("pending") == []


def test_an_older_record_follows_its_file_moved_and_comes_back_when_forgotten(tmp_path: Path, tiff: Path) -> None:
    events: list[Any] = []
    with Catalog(tmp_path / "catalog.sqlite3") as cat:
        ing = Ingestor(cat, events.append)
        tagged_with_old_digest(cat, tiff)
        moved = tiff.with_name("b.tif")
        tiff.rename(moved)
        assert ing.consider(str(moved), FileStat.of(moved.stat())) == "moved"
        rec = cat.get_image(str(moved))
        assert rec is not None and rec.caption == CAPTION and rec.content_hash == content_hash(moved)
        assert cat.get_image(str(tiff)) is None and events == [FileMoved(str(tiff), str(moved))]
        # forgotten (moved out of the watched folders) while its record held the older digest
        cat.record_result(TagResult(str(moved), caption=CAPTION, model_id="m"), content_hash=legacy_hash(moved))
        back = moved.with_name("c.tif")
        moved.rename(tmp_path / "away.tif")
        assert ing.gone(str(moved))
        (tmp_path / "away.tif").rename(back)
        assert ing.consider(str(back), FileStat.of(back.stat())) == "restored"
        rec = cat.get_image(str(back))
        assert rec is not None and rec.status == "tagged" and rec.caption == CAPTION
        assert cat.list_jobs("pending") == []


def test_a_scan_finds_a_move_by_the_older_digest_and_upgrades_unchanged_files(tmp_path: Path, tiff: Path) -> None:
    photos = tiff.parent
    still = photos / "still.tif"
    still.write_bytes(tiff.read_bytes())  # a copy: the same pixels, its own record
    os.utime(still, (1_000_000_000, 1_000_000_000))
    with Catalog(tmp_path / "catalog.sqlite3") as cat:
        ing = Ingestor(cat, lambda e: None)
        tagged_with_old_digest(cat, tiff)
        tagged_with_old_digest(cat, still)
        moved = photos / "moved.tif"
        tiff.rename(moved)
        summary = ing.reconcile([str(photos)])
        assert (summary.moved, summary.queued, summary.deleted) == (1, 0, 0)
        new = content_hash(moved)
        assert {r.path: r.content_hash for r in cat.iter_images()} == {str(moved): new, str(still): new}
        assert all(r.status == "tagged" for r in cat.iter_images()) and cat.list_jobs("pending") == []


@needs_exiftool
def test_an_upgraded_record_survives_a_keyword_edit(tmp_path: Path, tiff: Path) -> None:
    """The scan at start gives an unchanged file of an older catalogue the new digest: a keyword added
    later by Lightroom is not a new photo."""
    with Catalog(tmp_path / "catalog.sqlite3") as cat:
        ing = Ingestor(cat, lambda e: None)
        tagged_with_old_digest(cat, tiff)
        ing.reconcile([str(tiff.parent)])
        exiftool("-overwrite_original", "-XMP-dc:Subject+=lake", str(tiff))
        assert ing.consider(str(tiff), FileStat.of(tiff.stat())) == "touched"
        assert cat.list_jobs("pending") == []
