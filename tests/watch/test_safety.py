"""No photo record is lost and nothing hidden is tagged: temp-file names only by their ending, hidden
folders ignored by the live watcher as by the scan, renames delivered as renames, and a watched folder
that looks unmounted (or a folder that cannot be read) never taken for "every photo deleted"."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
)

from autotagger.metadata.safefile import temp_path_for
from autotagger.watch.files import is_candidate, is_hidden_under, is_ignored_name
from autotagger.watch.observer import PathEvent, _Handler
from autotagger.watch.reconcile import KnownFile, plan_reconcile
from autotagger.watch.scan import scan
from autotagger.watch.settle import FileStat

ROOT = "/photos"


def handled(*events: Any, root: str = ROOT) -> list[PathEvent]:
    out: list[PathEvent] = []
    handler = _Handler(out.append, root)
    for ev in events:
        handler.dispatch(ev)
    return out


# -- temp-file names (only their ending counts) -------------------------------------------------------
@pytest.mark.parametrize(
    "name",
    ["new.years.party.jpg", "moon.partial.eclipse.jpg", "IMG~1.JPG", "my.tmp.photo.jpg", "a.part.two.CR2"],
)
def test_a_name_with_a_temp_word_inside_is_a_photo(name: str) -> None:
    assert is_candidate(f"/a/{name}")


@pytest.mark.parametrize(
    "name",
    ["x.jpg.part", "x.jpg.tmp", "x.jpg.crdownload", "x.jpg.partial", "x.jpg~", "X.JPG.PART", ".x.jpg.Ab12Cd"],
)
def test_temp_files_are_still_ignored(name: str) -> None:
    assert is_ignored_name(name) and not is_candidate(f"/a/{name}")


def test_our_own_writers_temp_files_stay_ignored() -> None:
    for photo in ("IMG~1.JPG", "new.years.party.jpg"):
        temp = temp_path_for(Path("/a") / photo).name
        assert is_ignored_name(temp) and not is_candidate(f"/a/{temp}"), temp


def test_the_scan_finds_photos_with_a_temp_word_inside(tmp_path: Path) -> None:
    for name in ("new.years.party.jpg", "IMG~1.JPG", "x.jpg.part", "x.jpg~"):
        (tmp_path / name).write_bytes(b"x")
    assert sorted(scan([str(tmp_path)]).files) == [
        str(tmp_path / "IMG~1.JPG"),
        str(tmp_path / "new.years.party.jpg"),
    ]


# -- hidden folders: the live watcher agrees with the scan ---------------------------------------------
def test_hidden_under_looks_at_every_folder_below_the_root_only() -> None:
    assert is_hidden_under("/photos/.Trash-1000/files/a.jpg", "/photos")
    assert is_hidden_under("/photos/2024/.thumbs/a.jpg", "/photos")
    assert is_hidden_under("/photos/.git", "/photos")
    assert not is_hidden_under("/photos/2024/a.jpg", "/photos")
    assert not is_hidden_under("/home/me/.pictures/2024/a.jpg", "/home/me/.pictures")  # watched on purpose
    assert not is_hidden_under("/home/me/.pictures", "/home/me/.pictures")


def test_events_in_hidden_folders_are_ignored() -> None:
    assert handled(
        FileCreatedEvent(f"{ROOT}/.Trash-1000/files/a.jpg"),
        FileModifiedEvent(f"{ROOT}/2024/.thumbs/b.jpg"),
        FileDeletedEvent(f"{ROOT}/.git/c.jpg"),
        DirCreatedEvent(f"{ROOT}/.thumbs"),
        DirDeletedEvent(f"{ROOT}/.thumbs/large"),
        FileCreatedEvent(f"{ROOT}/2024/d.jpg"),
    ) == [PathEvent("changed", f"{ROOT}/2024/d.jpg")]


def test_a_photo_put_in_the_trash_is_deleted_and_one_taken_out_is_new() -> None:
    assert handled(
        FileMovedEvent(f"{ROOT}/a.jpg", f"{ROOT}/.Trash-1000/files/a.jpg"),
        FileMovedEvent(f"{ROOT}/.Trash-1000/files/b.jpg", f"{ROOT}/b.jpg"),
        DirMovedEvent(f"{ROOT}/trip", f"{ROOT}/.Trash-1000/files/trip"),
    ) == [
        PathEvent("deleted", f"{ROOT}/a.jpg"),
        PathEvent("changed", f"{ROOT}/b.jpg"),
        PathEvent("rescan", f"{ROOT}/trip"),
    ]


# -- renames stay renames ------------------------------------------------------------------------------
def test_a_renamed_photo_is_one_moved_event() -> None:
    assert handled(FileMovedEvent(f"{ROOT}/a.jpg", f"{ROOT}/b.jpg")) == [
        PathEvent("moved", f"{ROOT}/b.jpg", old=f"{ROOT}/a.jpg")
    ]


def test_a_temp_file_renamed_to_a_photo_is_new_and_a_photo_renamed_away_is_deleted() -> None:
    assert handled(
        FileMovedEvent(f"{ROOT}/a.jpg.part", f"{ROOT}/a.jpg"),
        FileMovedEvent(f"{ROOT}/b.jpg", f"{ROOT}/b.jpg.bak"),
    ) == [PathEvent("changed", f"{ROOT}/a.jpg"), PathEvent("deleted", f"{ROOT}/b.jpg")]


def test_a_renamed_folder_is_a_folder_move_and_both_places_are_looked_at() -> None:
    assert handled(DirMovedEvent(f"{ROOT}/trip", f"{ROOT}/Trip 2024")) == [
        PathEvent("folder_moved", f"{ROOT}/Trip 2024", old=f"{ROOT}/trip"),
        PathEvent("rescan", f"{ROOT}/Trip 2024"),
        PathEvent("rescan", f"{ROOT}/trip"),
    ]


# -- an empty watched folder, an empty or unreadable sub-folder: nothing forgotten ----------------------
def known(*paths: str) -> dict[str, KnownFile]:
    return {p: KnownFile(p, 1, 1.0, f"h-{os.path.basename(p)}", "tagged") for p in paths}


def no_hash(path: str) -> str:
    raise AssertionError(f"{path} should not be read")


def test_a_watched_folder_with_no_photo_left_forgets_nothing() -> None:
    plan = plan_reconcile({}, known("/card/a.jpg", "/card/DCIM/b.jpg"), ["/card"], hash_fn=no_hash)
    assert plan.deleted == []
    assert plan.errors == [
        "/card: watched folder is empty but the catalogue knows 2 photos there (unmounted?); nothing forgotten"
    ]


def test_an_empty_sub_folder_forgets_nothing_but_a_deleted_photo_elsewhere_is_forgotten() -> None:
    disk = {"/p/keep.jpg": FileStat(1, 10**9)}
    cat = known("/p/keep.jpg", "/p/deleted.jpg", "/p/nas/2020/a.jpg", "/p/nas/b.jpg", "/p/nas/c.jpg")
    plan = plan_reconcile(disk, cat, ["/p"], hash_fn=no_hash, empty_folders=["/p/nas"])
    assert plan.deleted == ["/p/deleted.jpg"]
    assert plan.errors == [
        "/p/nas: folder is empty but the catalogue knows 3 photos there (unmounted?); nothing forgotten "
        "(if they were deleted, remove the empty folder)"
    ]


def test_photos_moved_out_of_a_folder_that_is_now_empty_still_follow() -> None:
    disk = {"/p/sorted/a.jpg": FileStat(1, 10**9)}
    plan = plan_reconcile(
        disk, known("/p/inbox/a.jpg"), ["/p"], hash_fn=lambda p: "h-a.jpg", empty_folders=["/p/inbox"]
    )
    assert [(m.old, m.new) for m in plan.moves] == [("/p/inbox/a.jpg", "/p/sorted/a.jpg")]
    assert plan.deleted == [] and plan.new == [] and plan.errors == []


def test_the_scan_names_empty_and_unreadable_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "mnt").mkdir()
    (tmp_path / "locked").mkdir()
    (tmp_path / "a.jpg").write_bytes(b"x")
    real = os.scandir

    def scandir(path: Any) -> Any:
        if os.path.basename(path) == "locked":
            raise PermissionError(13, "Permission denied")
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    result = scan([str(tmp_path)])
    monkeypatch.undo()
    assert result.empty_folders == [str(tmp_path / "mnt")]
    assert result.unreadable == [str(tmp_path / "locked")]
