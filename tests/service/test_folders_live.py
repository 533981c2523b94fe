"""The remembered folders while the service runs: a folder added (the window's Folders tab, Settings,
`autotagger folders add`) is watched and scanned within seconds, a removed one is no longer watched,
and a folder remembered with --no-recursive is watched and scanned without its sub-folders."""

from __future__ import annotations

import threading
from pathlib import Path

from autotagger.service.events import Notice
from autotagger.service.service import Service

from .helpers import (
    LoggingTagger,
    Running,
    catalog_rows,
    forget_folder,
    make_jpeg,
    model_calls,
    options,
    remember_folder,
    wait_until,
)


def _flat_tree(tmp_path: Path) -> tuple[Path, Path, Path, Path, Path]:
    """top/here.jpg and top/sub/below.jpg, top remembered without its sub-folders: (top, the model's
    log, the catalogue, here, below)."""
    top, log = tmp_path / "top", tmp_path / "calls.log"
    (top / "sub").mkdir(parents=True)
    cat_path = tmp_path / "catalog.sqlite3"
    remember_folder(cat_path, top, recursive=False)
    return top, log, cat_path, make_jpeg(top / "here.jpg", 1), make_jpeg(top / "sub" / "below.jpg", 2)


def test_a_folder_added_while_running_is_scanned_and_watched_and_a_removed_one_is_left(tmp_path: Path) -> None:
    a, b, log = tmp_path / "a", tmp_path / "b", tmp_path / "calls.log"
    a.mkdir()
    b.mkdir()
    cat_path = tmp_path / "catalog.sqlite3"
    remember_folder(cat_path, a)
    old = make_jpeg(b / "old.jpg", 1)  # in b before b is remembered
    svc = Service(options(tmp_path, None, check_every=0.2), lambda: LoggingTagger(log))
    with Running(svc) as running:
        assert svc.folders == [str(a)]
        remember_folder(cat_path, b)
        wait_until(lambda: model_calls(log)[str(old)] == 1, 20, what="b's photo found by a scan")
        new = make_jpeg(b / "new.jpg", 2)
        wait_until(lambda: model_calls(log)[str(new)] == 1, 20, what="b watched")
        assert svc.folders == [str(a), str(b)] and str(b) in svc.watcher.watched()  # type: ignore[union-attr]
        assert svc.snapshot().folders == (str(a), str(b))

        forget_folder(cat_path, b)
        wait_until(lambda: str(b) not in svc.watcher.watched(), 10, what="b no longer watched")  # type: ignore[union-attr]
        make_jpeg(b / "after.jpg", 3)
        marker = make_jpeg(a / "marker.jpg", 4)  # events are handled in order: once a's marker is
        wait_until(lambda: model_calls(log)[str(marker)] == 1, 20, what="marker")  # tagged, b's is seen
        assert svc.folders == [str(a)]
        messages = [e.message for e in running.events if isinstance(e, Notice)]
        assert f"{b}: watching" in messages and f"{b}: no longer watched" in messages
    assert str(b / "after.jpg") not in model_calls(log)
    assert str(b / "after.jpg") not in catalog_rows(cat_path)


def test_a_folder_remembered_without_sub_folders_is_watched_and_scanned_so(tmp_path: Path) -> None:
    top, log, cat_path, here, below = _flat_tree(tmp_path)
    svc = Service(options(tmp_path, None, check_every=0.2), lambda: LoggingTagger(log))
    with Running(svc):
        wait_until(lambda: model_calls(log)[str(here)] == 1, 20, what="the top folder's photo")
        (top / "new").mkdir()  # a folder appears: not walked
        make_jpeg(top / "new" / "x.jpg", 3)
        make_jpeg(top / "sub" / "y.jpg", 4)
        marker = make_jpeg(top / "marker.jpg", 5)
        wait_until(lambda: model_calls(log)[str(marker)] == 1, 20, what="marker")
        assert set(model_calls(log)) == {str(here), str(marker)}

        remember_folder(cat_path, top, recursive=True)  # now with its sub-folders: scanned again, deep
        wait_until(lambda: model_calls(log)[str(below)] == 1, 20, what="the sub-folder scanned")
        wait_until(lambda: model_calls(log)[str(top / "new" / "x.jpg")] == 1, 20)
        late = make_jpeg(top / "sub" / "late.jpg", 6)
        wait_until(lambda: model_calls(log)[str(late)] == 1, 20, what="the sub-folder watched")
    assert all(n == 1 for n in model_calls(log).values())


def test_once_with_a_flat_folder_leaves_its_sub_folders_alone(tmp_path: Path) -> None:
    _, log, cat_path, here, _ = _flat_tree(tmp_path)
    Service(options(tmp_path, None, once=True), lambda: LoggingTagger(log)).run()
    assert set(model_calls(log)) == {str(here)}
    assert set(catalog_rows(cat_path)) == {str(here)}


def test_a_service_with_no_folders_says_so_and_picks_up_the_first_one(tmp_path: Path) -> None:
    a, log = tmp_path / "a", tmp_path / "calls.log"
    a.mkdir()
    cat_path = tmp_path / "catalog.sqlite3"
    photo = make_jpeg(a / "p.jpg", 1)
    svc = Service(options(tmp_path, None, check_every=0.2), lambda: LoggingTagger(log))
    events: list[object] = []
    svc.subscribe(events.append)
    thread = threading.Thread(target=svc.run, daemon=True)
    thread.start()
    try:
        wait_until(lambda: any(isinstance(e, Notice) and "no folders to watch" in e.message for e in events), 10)
        remember_folder(cat_path, a)
        wait_until(lambda: model_calls(log)[str(photo)] == 1, 20, what="the first folder's photo")
    finally:
        svc.stop()
        thread.join(30)
    assert not thread.is_alive()


def test_settings_folders_are_followed_too_and_given_folders_are_not(tmp_path: Path) -> None:
    from autotagger.config import Settings
    from autotagger.service.service import ServiceOptions

    cat_path = tmp_path / "c.sqlite3"
    extra = tmp_path / "extra"
    settings = Settings(catalog=str(cat_path), folders=[str(extra)])
    followed = ServiceOptions.from_settings(settings)
    assert followed.follow_catalog and followed.extra_folders == (str(extra),)
    given = ServiceOptions.from_settings(settings, folders=[str(tmp_path / "x")])
    assert not given.follow_catalog and given.extra_folders == ()
