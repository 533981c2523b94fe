"""Tray pieces: single instance, tooltip, notifications; the tag tree builder."""

from __future__ import annotations

from pathlib import Path

from autotagger.gui.status import InProcessLink, PollingLink, ServiceState
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
    tray = Tray(InProcessLink(svc), lambda: None, lambda d: None)
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
    tray = Tray(InProcessLink(svc), lambda: None, lambda d: None)
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


class _Now:
    """A CatalogClient that answers at once, on this thread."""

    def call(self, fn, on_done=None, on_error=None):  # type: ignore[no-untyped-def]
        on_done(fn(None))


def test_a_tray_on_a_service_started_elsewhere_says_its_new_warnings_and_failures(qtbot) -> None:
    """The systemd unit runs the service; the tray polls its state file and tells what is new."""
    states = [ServiceState(running=True, done=100, failed=3, warnings=("old news",), warnings_said=1,
                           source="pid 41")]
    link = PollingLink(_Now(), lambda cat: states[-1], lambda command: None, interval_ms=60000)
    tray = Tray(link, lambda: None, lambda d: None, attached=True)
    assert tray.notifications == []  # what the service said before the tray came is not news
    assert "goes on" in tray.menu.actions()[-1].text()  # Quit leaves that service running
    states.append(ServiceState(running=True, done=101, failed=4, warnings=("old news", "/x/a.jpg: broken symlink"),
                               warnings_said=2, source="pid 41"))
    link.poll()
    assert ("autotagger", "/x/a.jpg: broken symlink") in tray.notifications
    assert any("1 photo(s) failed" in text for _, text in tray.notifications)
    n = len(tray.notifications)
    states.append(ServiceState(running=True, done=5, failed=9, warnings=("a new run's",), warnings_said=1,
                               source="pid 77"))  # restarted: a new service's counts are its own
    link.poll()
    assert len(tray.notifications) == n
    tray.icon.hide()


def test_tag_tree_sums_children() -> None:
    tree = build_tree([("setting|outdoors", 5), ("setting|indoors", 3), ("people", 2)])
    assert tree["setting"][0] == 8 and tree["setting"][1]["outdoors"][0] == 5
    assert tree["people"] == (2, {})
    assert tag_term("time of day|night") == 'tag:"time of day|night"'


def test_the_tray_shows_a_service_already_running_instead_of_failing_to_start_one(
    qtbot, tmp_path: Path, monkeypatch
) -> None:
    import os
    import time

    from PySide6.QtWidgets import QApplication

    import autotagger.gui.tray as tray_module
    import autotagger.service.service as service_module
    from autotagger.config import Settings
    from autotagger.service import control
    from autotagger.service.events import ServiceState as Snap

    catalog = tmp_path / "catalog.sqlite3"
    control.write_state(str(catalog), Snap(running=True, pid=os.getpid(), updated_at=time.time()))  # the unit's
    shown: list[Tray] = []
    real_tray = tray_module.Tray

    def tray_spy(*args, **kw):  # type: ignore[no-untyped-def]
        shown.append(real_tray(*args, **kw))
        return shown[-1]

    def no_second_service(*args, **kw):  # type: ignore[no-untyped-def]
        raise AssertionError("a second service was started on the catalogue")

    monkeypatch.setattr(tray_module.QSystemTrayIcon, "isSystemTrayAvailable", staticmethod(lambda: True))
    monkeypatch.setattr(tray_module, "Tray", tray_spy)
    monkeypatch.setattr(service_module, "Service", no_second_service)
    monkeypatch.setattr(QApplication, "exec", lambda self: 0)  # Quit at once
    settings = Settings(catalog=str(catalog))
    assert tray_module.run_tray(settings, tmp_path / "config.toml", lambda: None) == (0, "")
    assert len(shown) == 1 and "goes on" in shown[0].menu.actions()[-1].text()
    assert shown[0].link.can_pause  # pause and resume go to that service through its control file
