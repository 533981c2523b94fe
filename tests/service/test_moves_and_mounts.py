"""No photo record or person's edit is lost: a watched folder (or a sub-folder) whose disk is not mounted
is not taken for "every photo deleted", a rename followed at once by an edit keeps the record, photos in
hidden folders are left alone, and a failing first scan is said and tried again."""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from autotagger.catalog import Catalog
from autotagger.service import ingest, service
from autotagger.service.events import FileMoved, Notice
from autotagger.service.ingest import RECENTLY_EMPTIED, Ingestor
from autotagger.service.service import Service

from .helpers import LoggingTagger, Running, catalog_rows, make_jpeg, model_calls, options, wait_until

CAPTION = "Grandma's garden, summer 1998"


def run_once(tmp: Path, folder: Path, log: Path) -> list[str]:
    """One `--once` run; the warnings it said."""
    svc = Service(options(tmp, [folder], once=True), lambda: LoggingTagger(log))
    events: list[Any] = []
    svc.subscribe(events.append)
    svc.run()
    assert svc.exit_error is None
    return [e.message for e in events if isinstance(e, Notice) and e.level == "warning"]


def edit_caption(cat_path: Path, photo: Path) -> None:
    with Catalog(cat_path) as cat:
        cat.set_caption(str(photo), CAPTION)


# -- 1. a disk that is not mounted ----------------------------------------------------------------------
def test_an_unmounted_watched_folder_forgets_nothing_and_nothing_is_tagged_again(tmp_path: Path) -> None:
    card, away, log = tmp_path / "card", tmp_path / "away", tmp_path / "calls.log"
    (card / "DCIM").mkdir(parents=True)
    a, b = make_jpeg(card / "a.jpg", 1), make_jpeg(card / "DCIM" / "b.jpg", 2)
    cat_path = tmp_path / "catalog.sqlite3"
    run_once(tmp_path, card, log)
    edit_caption(cat_path, a)
    card.rename(away)  # the disk goes; its mount point stays, empty
    card.mkdir()
    (card / "notes.txt").write_text("not a photo")  # no photo at all counts as empty
    said = run_once(tmp_path, card, log)
    assert said == [
        f"{card}: watched folder is empty but the catalogue knows 2 photos there (unmounted?); nothing forgotten"
    ]
    assert sorted(catalog_rows(cat_path)) == sorted([str(a), str(b)])
    (card / "notes.txt").unlink()
    card.rmdir()
    away.rename(card)  # the disk is back
    assert run_once(tmp_path, card, log) == []
    rows = catalog_rows(cat_path)
    assert model_calls(log) == {str(a): 1, str(b): 1}  # not tagged again
    assert rows[str(a)].caption == CAPTION and rows[str(b)].status == "tagged"


def test_an_unmounted_sub_folder_forgets_nothing_and_a_removed_one_is_forgotten(tmp_path: Path) -> None:
    photos, log = tmp_path / "photos", tmp_path / "calls.log"
    nas = photos / "nas"
    (nas / "2020").mkdir(parents=True)
    here = make_jpeg(photos / "here.jpg", 1)
    a, b = make_jpeg(nas / "2020" / "a.jpg", 2), make_jpeg(nas / "b.jpg", 3)
    cat_path = tmp_path / "catalog.sqlite3"
    run_once(tmp_path, photos, log)
    edit_caption(cat_path, a)
    nas.rename(tmp_path / "nas-away")  # the share is not mounted: its mount point is an empty folder
    nas.mkdir()
    said = run_once(tmp_path, photos, log)
    assert said == [
        f"{nas}: folder is empty but the catalogue knows 2 photos there (unmounted?); nothing forgotten "
        "(if they were deleted, remove the empty folder)"
    ]
    assert sorted(catalog_rows(cat_path)) == sorted([str(here), str(a), str(b)])
    nas.rmdir()  # the person says they are gone for good
    assert run_once(tmp_path, photos, log) == []
    assert sorted(catalog_rows(cat_path)) == [str(here)]


def test_a_folder_that_cannot_be_read_forgets_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    photos, log = tmp_path / "photos", tmp_path / "calls.log"
    (photos / "locked").mkdir(parents=True)
    make_jpeg(photos / "here.jpg", 1)
    inside = make_jpeg(photos / "locked" / "a.jpg", 2)
    run_once(tmp_path, photos, log)
    real = os.scandir

    def scandir(path: Any) -> Any:  # chmod 0 does not stop root, so refuse the way the kernel would
        if os.path.basename(path) == "locked":
            raise PermissionError(13, "Permission denied")
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    said = run_once(tmp_path, photos, log)
    monkeypatch.undo()
    assert said == [f"{photos / 'locked'}: cannot read folder: Permission denied"]
    assert catalog_rows(tmp_path / "catalog.sqlite3")[str(inside)].status == "tagged"


def test_a_photo_said_deleted_from_a_folder_that_looks_unmounted_is_kept(tmp_path: Path) -> None:
    """A polling watcher reports every photo of a share that went away as deleted: its mount point is
    empty and has not changed for long. A folder a person just emptied has just changed."""
    nas = tmp_path / "photos" / "nas"
    nas.mkdir(parents=True)
    a = make_jpeg(nas / "a.jpg", 1)
    with Catalog(tmp_path / "catalog.sqlite3") as cat:
        ing = Ingestor(cat, lambda event: None)
        ing.reconcile([str(tmp_path / "photos")])
        a.unlink()
        long_ago = time.time() - RECENTLY_EMPTIED - 60
        os.utime(nas, (long_ago, long_ago))
        assert not ing.gone(str(a)) and cat.get_image(str(a)) is not None
        os.utime(nas)  # emptied just now: a person deleted it
        assert ing.gone(str(a)) and cat.get_image(str(a)) is None


# -- 2. a rename, then an edit at once --------------------------------------------------------------------
def test_a_photo_renamed_and_edited_at_once_keeps_its_record_and_a_persons_caption(tmp_path: Path) -> None:
    photos, log = tmp_path / "photos", tmp_path / "calls.log"
    photos.mkdir()
    cat_path = tmp_path / "catalog.sqlite3"
    a = make_jpeg(photos / "a.jpg", 1)
    with Running(Service(options(tmp_path, [photos]), lambda: LoggingTagger(log))) as run:
        wait_until(lambda: catalog_rows(cat_path)[str(a)].status == "tagged", what="a tagged")
        edit_caption(cat_path, a)
        b = photos / "b.jpg"
        a.rename(b)
        make_jpeg(b, 2)  # edited right after the rename: other pixels
        wait_until(lambda: model_calls(log)[str(b)] == 1, what="b tagged again, as changed")
        wait_until(lambda: catalog_rows(cat_path)[str(b)].status == "tagged", what="b's result recorded")
        assert [e for e in run.events if isinstance(e, FileMoved)] == [FileMoved(str(a), str(b))]
    rows = catalog_rows(cat_path)
    assert sorted(rows) == [str(b)]
    assert rows[str(b)].caption == CAPTION and rows[str(b)].caption_source == "person"


def test_a_folder_renamed_and_a_photo_in_it_edited_at_once_keeps_the_records(tmp_path: Path) -> None:
    photos, log = tmp_path / "photos", tmp_path / "calls.log"
    (photos / "trip").mkdir(parents=True)
    cat_path = tmp_path / "catalog.sqlite3"
    a, b = make_jpeg(photos / "trip" / "a.jpg", 1), make_jpeg(photos / "trip" / "b.jpg", 2)
    with Running(Service(options(tmp_path, [photos]), lambda: LoggingTagger(log))):
        wait_until(lambda: all(r.status == "tagged" for r in catalog_rows(cat_path).values()), what="tagged")
        edit_caption(cat_path, a)
        edit_caption(cat_path, b)
        (photos / "trip").rename(photos / "Trip 2024")
        new_a, new_b = photos / "Trip 2024" / "a.jpg", photos / "Trip 2024" / "b.jpg"
        make_jpeg(new_a, 3)  # edited right after the rename
        wait_until(lambda: model_calls(log)[str(new_a)] == 1, what="a tagged again, as changed")
        wait_until(lambda: catalog_rows(cat_path)[str(new_a)].status == "tagged", what="a's result recorded")
    rows = catalog_rows(cat_path)
    assert sorted(rows) == [str(new_a), str(new_b)]
    assert rows[str(new_a)].caption == CAPTION and rows[str(new_b)].caption == CAPTION
    assert model_calls(log)[str(new_b)] == 0  # not edited: not tagged again


# -- 3. hidden folders --------------------------------------------------------------------------------
def test_photos_in_hidden_folders_are_not_tagged_by_the_watcher(tmp_path: Path) -> None:
    photos, log = tmp_path / "photos", tmp_path / "calls.log"
    for hidden in (".Trash-1000/files", ".thumbs", "2024/.git"):
        (photos / hidden).mkdir(parents=True)
    cat_path = tmp_path / "catalog.sqlite3"
    with Running(Service(options(tmp_path, [photos]), lambda: LoggingTagger(log))):
        hidden_photos = [
            make_jpeg(photos / d / f"h{i}.jpg", i)
            for i, d in enumerate((".Trash-1000/files", ".thumbs", "2024/.git"))
        ]
        marker = make_jpeg(photos / "2024" / "marker.jpg", 9)  # handled after them
        wait_until(lambda: catalog_rows(cat_path).get(str(marker)) is not None, what="the marker seen")
        wait_until(lambda: catalog_rows(cat_path)[str(marker)].status == "tagged", what="the marker tagged")
    assert sorted(catalog_rows(cat_path)) == [str(marker)]
    assert not any(model_calls(log)[str(p)] for p in hidden_photos)


# -- 5. the first scan -----------------------------------------------------------------------------------
def test_a_failing_first_scan_is_said_and_tried_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    photos, log = tmp_path / "photos", tmp_path / "calls.log"
    photos.mkdir()
    a = make_jpeg(photos / "a.jpg", 1)
    real = ingest.Ingestor.reconcile
    refused: list[bool] = []

    def locked_once(self: Ingestor, *args: Any, **kw: Any) -> Any:
        if not refused:
            refused.append(True)
            raise sqlite3.OperationalError("database is locked")
        return real(self, *args, **kw)

    monkeypatch.setattr(ingest.Ingestor, "reconcile", locked_once)
    monkeypatch.setattr(service, "RESCAN_AFTER_ERROR", 0.5)
    with Running(Service(options(tmp_path, [photos]), lambda: LoggingTagger(log))) as run:
        wait_until(lambda: model_calls(log)[str(a)] == 1, what="a found by the next scan")
        assert run.service.exit_error is None
    said = [e.message for e in run.events if isinstance(e, Notice) and "locked" in e.message]
    assert said == ["scan: database is locked (will look again in 0.5 s)"]
