"""The watchdog wrapper: events become plain paths; the inotify limit falls back to polling (and says
so); a folder that vanishes is dropped and reported."""

from __future__ import annotations

import errno
import queue
import shutil
from pathlib import Path

import pytest

from autotagger.watch.observer import FolderWatcher, PathEvent


def next_event(w: FolderWatcher, kind: str, timeout: float = 10.0) -> PathEvent:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            ev = w.events.get(timeout=0.1)
        except queue.Empty:
            continue
        if ev.kind == kind:
            return ev
    raise AssertionError(f"no {kind} event within {timeout} s")


def test_events_for_images_only(tmp_path: Path) -> None:
    w = FolderWatcher()
    w.start([str(tmp_path)])
    try:
        (tmp_path / "notes.txt").write_text("x")
        (tmp_path / "a.jpg.autotagger-tmp").write_bytes(b"x")
        (tmp_path / "a.jpg").write_bytes(b"x")
        assert next_event(w, "changed").path == str(tmp_path / "a.jpg")
        (tmp_path / "a.jpg").rename(tmp_path / "b.jpg")
        assert next_event(w, "moved") == PathEvent("moved", str(tmp_path / "b.jpg"), old=str(tmp_path / "a.jpg"))
    finally:
        w.stop()


@pytest.mark.parametrize("poll", [False, True])
def test_photos_in_hidden_folders_make_no_events(tmp_path: Path, poll: bool) -> None:
    for hidden in (".Trash-1000/files", "2024/.thumbs", ".git"):
        (tmp_path / hidden).mkdir(parents=True)
    w = FolderWatcher(poll=poll, poll_interval=0.1)
    w.start([str(tmp_path)])
    try:
        for i, hidden in enumerate((".Trash-1000/files", "2024/.thumbs", ".git")):
            (tmp_path / hidden / f"h{i}.jpg").write_bytes(b"x")
        (tmp_path / "2024" / ".thumbs" / "h1.jpg").rename(tmp_path / "2024" / ".thumbs" / "h9.jpg")
        (tmp_path / "2024" / "seen.jpg").write_bytes(b"x")  # after them: its event comes after theirs
        assert next_event(w, "changed").path == str(tmp_path / "2024" / "seen.jpg")
        (tmp_path / "2024" / "seen.jpg").rename(tmp_path / ".Trash-1000" / "files" / "seen.jpg")
        assert next_event(w, "deleted").path == str(tmp_path / "2024" / "seen.jpg")
    finally:
        w.stop()


def test_inotify_limit_falls_back_to_polling(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from watchdog.observers import Observer

    def full(self: object, *a: object, **k: object) -> None:
        raise OSError(errno.ENOSPC, "inotify watch limit reached")

    monkeypatch.setattr(Observer, "schedule", full)
    w = FolderWatcher(poll_interval=0.1)
    w.start([str(tmp_path)])
    try:
        assert w.polling and w.watched() == [str(tmp_path)]
        assert any("fs.inotify.max_user_watches" in n for n in w.notices)
        (tmp_path / "c.jpg").write_bytes(b"x")
        assert next_event(w, "changed").path == str(tmp_path / "c.jpg")
    finally:
        w.stop()


def test_vanished_folder_is_dropped_and_reported(tmp_path: Path) -> None:
    card = tmp_path / "card"
    card.mkdir()
    w = FolderWatcher(poll=True, poll_interval=0.1)
    w.start([str(card), str(tmp_path / "never-there")])
    try:
        assert w.watched() == [str(card)]
        assert any("never-there" in n and "missing" in n for n in w.notices)
        shutil.rmtree(card)
        assert w.check() == [str(card)]
        assert w.watched() == [] and any("disappeared" in n for n in w.notices)
        card.mkdir()
        assert w.add(str(card)) and w.watched() == [str(card)]
    finally:
        w.stop()


def test_a_photo_whose_name_is_not_utf8_is_reported_not_queued(tmp_path: Path) -> None:
    import os

    w = FolderWatcher()
    w.start([str(tmp_path)])
    try:
        with open(os.path.join(os.fsencode(tmp_path), b"caf\xe9.jpg"), "wb") as f:
            f.write(b"x")
        ev = next_event(w, "error")
        assert ev.path == f"{tmp_path}/caf\\xe9.jpg: file name is not valid UTF-8 (rename it to have it tagged)"
        (tmp_path / "next.jpg").write_bytes(b"x")
        assert next_event(w, "changed").path == str(tmp_path / "next.jpg")  # nothing queued before it
    finally:
        w.stop()


def test_more_folders_than_inotify_watches_is_said(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from autotagger.watch import observer
    from autotagger.watch.scan import scan

    for sub in ("2024/01", "2024/02", "2025/01"):
        (tmp_path / "photos" / sub).mkdir(parents=True)
    folders = scan([str(tmp_path / "photos")]).folders
    assert folders == 6  # the root, two years, three months
    limit = tmp_path / "max_user_watches"
    monkeypatch.setattr(observer, "INOTIFY_WATCHES", str(limit))
    limit.write_text("5\n")
    said = FolderWatcher().too_many_folders(folders)
    assert said is not None and said.startswith("6 folders to watch but inotify allows 5 watches")
    assert "sysctl fs.inotify.max_user_watches=524288" in said
    assert FolderWatcher(poll=True).too_many_folders(folders) is None  # polling has no such limit
    limit.write_text("6\n")
    assert FolderWatcher().too_many_folders(folders) is None
    limit.unlink()
    assert FolderWatcher().too_many_folders(folders) is None  # not Linux: nothing to say
