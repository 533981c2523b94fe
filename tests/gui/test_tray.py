"""Tray pieces: single instance, tooltip, notifications; the tag tree builder."""

from __future__ import annotations

from pathlib import Path

from autotagger.gui.status import ServiceState
from autotagger.gui.tagtree import build_tree, tag_term
from autotagger.gui.tray import SingleInstance, Tray, instance_name, tooltip


def test_second_instance_is_refused_and_asks_the_first_to_show(qtbot, tmp_path: Path) -> None:
    name = instance_name(tmp_path / "c.sqlite3") + "-test"
    first = SingleInstance(name)
    assert first.claim()
    shown = []
    first.activated.connect(lambda: shown.append(1))
    second = SingleInstance(name)
    assert not second.claim()
    qtbot.waitUntil(lambda: shown == [1], timeout=5000)
    first.release()
    third = SingleInstance(name)
    assert third.claim()  # free again once the first is gone
    third.release()


def test_instance_name_is_per_catalogue(tmp_path: Path) -> None:
    assert instance_name(tmp_path / "a.sqlite3") != instance_name(tmp_path / "b.sqlite3")


def test_tooltip_says_what_is_happening() -> None:
    assert "paused" in tooltip(ServiceState(running=True, paused=True, queued=4))
    busy = tooltip(ServiceState(running=True, queued=12, done=3, rate=2.5, current="/x/IMG_1.JPG"))
    assert "12 queued" in busy and "2.5 images/s" in busy and "IMG_1.JPG" in busy
    assert "stopped" in tooltip(ServiceState(running=False))


class _FakeService:
    def __init__(self) -> None:
        self.cb = None
        from autotagger.service.events import ServiceState as Snap

        self.state = Snap(running=True)

    def subscribe(self, cb):  # type: ignore[no-untyped-def]
        self.cb = cb
        return lambda: None

    def snapshot(self):  # type: ignore[no-untyped-def]
        return self.state

    def pause(self) -> None: ...
    def resume(self) -> None: ...
    def stop(self) -> None: ...


def test_tray_notifies_when_a_big_batch_ends_and_when_files_fail(qtbot) -> None:
    from autotagger.service.events import FileFailed, StateChanged
    from autotagger.service.events import ServiceState as Snap

    svc = _FakeService()
    tray = Tray(svc, lambda: None, lambda d: None)
    svc.cb(StateChanged(Snap(running=True, queue_length=30, done=0, current_file="/a.jpg")))
    svc.cb(StateChanged(Snap(running=True, queue_length=0, done=30)))
    qtbot.waitUntil(lambda: any("30 photo" in t for _, t in tray.notifications), timeout=3000)
    svc.cb(FileFailed("/x/broken.jpg", "not an image"))
    qtbot.waitUntil(lambda: any("broken.jpg: not an image" in t for _, t in tray.notifications), timeout=3000)
    n = len(tray.notifications)
    svc.cb(StateChanged(Snap(running=True, queue_length=2, done=30)))
    svc.cb(StateChanged(Snap(running=True, queue_length=0, done=32)))  # a small batch: no notification
    qtbot.waitUntil(lambda: tray.link.state.done == 32, timeout=3000)
    assert len(tray.notifications) == n
    tray.icon.hide()


def test_tray_shows_the_services_warnings_a_burst_in_one(qtbot) -> None:
    from autotagger.service.events import Notice

    svc = _FakeService()
    tray = Tray(svc, lambda: None, lambda d: None)
    svc.cb(Notice("info", "scan: 3 queued, 0 moved, 0 removed"))  # not worth a notification
    svc.cb(Notice("warning", "/x/caf\\xe9.jpg: file name is not valid UTF-8 (rename it to have it tagged)"))
    qtbot.waitUntil(lambda: len(tray.notifications) == 1, timeout=3000)
    assert tray.notifications[0] == ("autotagger", "/x/caf\\xe9.jpg: file name is not valid UTF-8 (rename it to have it tagged)")
    for i in range(3):  # more while the first is on screen: one notification for them, later
        svc.cb(Notice("warning", f"/x/{i}.jpg: broken symlink, skipped"))
    qtbot.wait(200)
    assert len(tray.notifications) == 1
    tray._warned._flush()  # what the timer does
    assert tray.notifications[1] == ("autotagger", "3 warnings, e.g. /x/0.jpg: broken symlink, skipped")
    tray.icon.hide()


def test_tag_tree_sums_children() -> None:
    tree = build_tree([("setting|outdoors", 5), ("setting|indoors", 3), ("people", 2)])
    assert tree["setting"][0] == 8 and tree["setting"][1]["outdoors"][0] == 5
    assert tree["people"] == (2, {})
    assert tag_term("time of day|night") == 'tag:"time of day|night"'
