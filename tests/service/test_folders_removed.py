"""A folder removed from the watched list while its photos wait in the queue: the photos the watcher
queued there are dropped, not tagged; those still under a watched folder, those a person asked for and
those already in the worker's hands are tagged."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from autotagger.catalog import Catalog, CatalogError
from autotagger.service.events import Notice
from autotagger.service.folders import WatchedFolders
from autotagger.service.service import Service

from .helpers import (
    LoggingTagger,
    Running,
    forget_folder,
    make_jpeg,
    model_calls,
    options,
    remember_folder,
    wait_until,
)


def _pending(cat_path: Path) -> set[str]:
    with Catalog(cat_path) as cat:
        return {j.path for j in cat.list_jobs("pending", limit=-1)}


def test_photos_queued_in_a_removed_folder_are_dropped_not_tagged(tmp_path: Path) -> None:
    a, b, deep, c = (tmp_path / n for n in ("a", "b", "deep", "c"))
    for folder in (a, b / "sub", deep / "inner", c / "sub"):
        folder.mkdir(parents=True)
    log, cat_path = tmp_path / "calls.log", tmp_path / "catalog.sqlite3"
    dropped = [make_jpeg(b / "one.jpg", 1), make_jpeg(b / "two.jpg", 2), make_jpeg(b / "sub" / "three.jpg", 3)]
    asked = make_jpeg(b / "asked.jpg", 4)  # "Tag again" in the window: a person's request
    kept = make_jpeg(deep / "inner" / "kept.jpg", 5)  # deep is watched with its sub-folders
    here, below = make_jpeg(c / "here.jpg", 6), make_jpeg(c / "sub" / "below.jpg", 7)
    for folder in (a, b, deep, deep / "inner", c):
        remember_folder(cat_path, folder)
    with Catalog(cat_path) as cat:
        cat.enqueue(str(asked), reason="retag")
    svc = Service(options(tmp_path, None, check_every=0.2), lambda: LoggingTagger(log))
    svc.pause()  # nothing is claimed: everything the first scan finds waits in the queue
    with Running(svc) as running:
        everything = {str(p) for p in (*dropped, kept, here, below)}
        wait_until(lambda: _pending(cat_path) >= everything, 20, what="the first scan")
        forget_folder(cat_path, b)
        forget_folder(cat_path, deep / "inner")
        remember_folder(cat_path, c, recursive=False)  # its sub-folders no longer watched

        said = [
            f"{b}: no longer watched, 3 queued photos dropped",
            f"{deep / 'inner'}: no longer watched",
            f"{c}: watching (without its sub-folders), 1 queued photo in its sub-folders dropped",
        ]
        wait_until(lambda: set(said) <= {e.message for e in running.events if isinstance(e, Notice)}, 20,
                   what="the folders followed")
        assert _pending(cat_path) == {str(asked), str(kept), str(here)}
        svc.resume()
        wait_until(lambda: set(model_calls(log)) == {str(asked), str(kept), str(here)}, 20, what="the rest")
    assert _pending(cat_path) == set()
    assert all(n == 1 for n in model_calls(log).values())


def test_only_pending_jobs_the_watcher_queued_under_no_watched_folder_go(tmp_path: Path) -> None:
    top, c = tmp_path / "top", tmp_path / "c"
    with Catalog(tmp_path / "catalog.sqlite3") as cat:
        claimed = str(c / "claimed.jpg")
        cat.enqueue(claimed, reason="new")
        assert [j.path for j in cat.claim_jobs(1)] == [claimed]  # in the worker's hands: it finishes
        for reason in ("new", "scan", "changed", "resume", "gui", "retag", "retry"):
            cat.enqueue(str(c / f"{reason}.jpg"), reason=reason)
        cat.enqueue(str(top / "b" / "x.jpg"), reason="new")  # top/b goes, top (deep) still watches it
        cat.enqueue(str(tmp_path / "cc" / "y.jpg"), reason="new")  # "cc" is not under "c"
        watched = WatchedFolders([str(top), str(top / "b"), str(c)])
        watched.replace(watched.wanted(cat))
        added, removed = watched.replace([(str(top), True)])
        assert (added, removed) == ([], [str(top / "b"), str(c)])
        assert watched.drop_unwatched(cat, removed) == {str(c): 4}
        left = {j.path: j.status for j in cat.list_jobs()}
    assert left == {
        claimed: "claimed",
        str(c / "gui.jpg"): "pending",
        str(c / "retag.jpg"): "pending",
        str(c / "retry.jpg"): "pending",
        str(top / "b" / "x.jpg"): "pending",
        str(tmp_path / "cc" / "y.jpg"): "pending",
    }


def test_a_drop_that_failed_is_done_and_said_at_the_next_look(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"

    class Busy(Catalog):
        refusals = 1

        def drop_pending_jobs(self, job_ids: Sequence[int]) -> int:
            if Busy.refusals:
                Busy.refusals -= 1
                raise CatalogError("catalogue is busy")
            return super().drop_pending_jobs(job_ids)

    said: list[str] = []

    def say(event: Any) -> None:
        said.append(event.message)

    with Busy(tmp_path / "catalog.sqlite3") as cat:
        cat.add_folder(str(a))
        cat.add_folder(str(b))
        cat.enqueue(str(b / "x.jpg"), reason="scan")
        watched = WatchedFolders(None)
        assert watched.follow(cat, None, say)
        cat.remove_folder(str(b))
        cat.add_folder(str(c))
        with pytest.raises(CatalogError):
            watched.follow(cat, None, say)
        assert watched.paths == [str(a), str(c)] and len(said) == 2
        assert watched.follow(cat, None, say)  # c is still to be scanned
        assert cat.pending_count() == 0
    assert said[2:] == [f"{b}: no longer watched, 1 queued photo dropped", f"{c}: watching"]
