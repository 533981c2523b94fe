"""Pause and resume from the status bar stop and restart a real service's worker (FakeTagger)."""

from __future__ import annotations

import threading
from pathlib import Path

from PIL import Image
from PySide6.QtCore import Qt

from autotagger.engine.fake import FakeTagger
from autotagger.gui.status import InProcessLink
from tests.gui.conftest import Demo


def test_pause_stops_the_worker_and_resume_restarts_it(qtbot, demo: Demo, tmp_path: Path) -> None:
    from autotagger.gui.app import catalog_opener
    from autotagger.gui.window import MainWindow
    from autotagger.metadata import read_metadata
    from autotagger.service.service import Service, ServiceOptions

    incoming = tmp_path / "incoming"
    incoming.mkdir()
    tagger = FakeTagger()
    service = Service(
        ServiceOptions(catalog_path=str(demo.catalog), folders=[str(incoming)], settle_seconds=0.0,
                       state_every=0.1, write_mode="embed", min_size=16),
        lambda: tagger,
    )
    states: list = []
    service.subscribe(lambda ev: states.append(ev) if type(ev).__name__ == "StateChanged" else None)
    runner = threading.Thread(target=service.run, daemon=True)
    win = MainWindow(demo.settings, demo.config, catalog_opener(demo.catalog), tmp_path / "thumbs",
                     link_factory=lambda _c: InProcessLink(service))
    qtbot.addWidget(win)
    win.show()
    runner.start()
    try:
        qtbot.waitUntil(lambda: win.status.pause.isEnabled(), timeout=10000)
        qtbot.mouseClick(win.status.pause, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: win.link.state.paused and win.status.pause.text() == "Resume", timeout=5000)
        assert service.worker.paused

        new = []
        for i in range(6):
            p = incoming / f"new_{i}.jpg"
            Image.new("RGB", (40, 30), (10 * i, 100, 200 - 10 * i)).save(p)
            new.append(p)
        qtbot.waitUntil(lambda: win.link.state.queued == len(new), timeout=15000)
        seen = len(states)
        # let the service go round its loop several more times while paused: nothing gets tagged
        qtbot.waitUntil(lambda: len(states) >= seen + 8, timeout=15000)
        assert tagger.images_seen == 0
        assert win.link.state.done == 0 and win.link.state.queued == len(new)
        assert "paused" in win.status.current.text()

        qtbot.mouseClick(win.status.pause, Qt.MouseButton.LeftButton)  # resume
        qtbot.waitUntil(lambda: win.link.state.done == len(new), timeout=20000)
        assert tagger.images_seen == len(new)
        assert not win.link.state.paused
        assert all(read_metadata(p).caption.startswith("a test photo") for p in new)
    finally:
        service.stop()
        runner.join(20)
        win.shutdown()
    assert not runner.is_alive()


def test_the_services_warnings_show_in_the_status_bar(qtbot, demo: Demo, tmp_path: Path) -> None:
    import os

    from autotagger.gui.app import catalog_opener
    from autotagger.gui.window import MainWindow
    from autotagger.service.service import Service, ServiceOptions

    incoming = tmp_path / "incoming"
    incoming.mkdir()
    with open(os.path.join(os.fsencode(incoming), b"caf\xe9.jpg"), "wb") as f:
        f.write(b"x")
    service = Service(ServiceOptions(catalog_path=str(demo.catalog), folders=[str(incoming)], settle_seconds=0.0,
                                     state_every=0.1, min_size=16), FakeTagger)
    win = MainWindow(demo.settings, demo.config, catalog_opener(demo.catalog), tmp_path / "thumbs",
                     link_factory=lambda _c: InProcessLink(service))
    qtbot.addWidget(win)
    win.show()
    runner = threading.Thread(target=service.run, daemon=True)
    runner.start()
    try:
        qtbot.waitUntil(lambda: win.status.warned.isVisible(), timeout=10000)
        assert win.status.warned.text() == "1 warning…"
        assert win.status.warnings == [f"{incoming}/caf\\xe9.jpg: file name is not valid UTF-8 (rename it to have it tagged)"]
        assert "not valid UTF-8" in win.status.warned.toolTip()
    finally:
        service.stop()
        runner.join(20)
        win.shutdown()
    assert not runner.is_alive()


def test_warnings_of_a_service_started_elsewhere_come_through_its_state_file(
    qtbot, demo: Demo, tmp_path: Path
) -> None:
    import os
    import time

    from autotagger.gui.app import catalog_opener
    from autotagger.gui.status import PollingLink, remote_reader
    from autotagger.gui.window import MainWindow
    from autotagger.service import control
    from autotagger.service.events import ServiceState

    def said(*warnings: str, total: int) -> None:  # as `autotagger service` (another process) writes it
        control.write_state(str(demo.catalog), ServiceState(
            running=True, pid=os.getpid(), updated_at=time.time(), warnings=warnings, warnings_said=total))

    said("/x/a.jpg: broken symlink, skipped", "/x/b: folder name is not valid UTF-8", total=2)
    win = MainWindow(demo.settings, demo.config, catalog_opener(demo.catalog), tmp_path / "thumbs",
                     link_factory=lambda client: PollingLink(client, remote_reader(str(demo.catalog)), interval_ms=100))
    qtbot.addWidget(win)
    win.show()
    try:
        qtbot.waitUntil(lambda: len(win.status.warnings) == 2, timeout=10000)
        said("/x/b: folder name is not valid UTF-8", "GPU out of memory: batch size lowered to 4", total=3)
        qtbot.waitUntil(lambda: len(win.status.warnings) == 3, timeout=10000)
        qtbot.wait(500)  # more polls of the same state: nothing shown twice
        assert win.status.warnings == [
            "/x/a.jpg: broken symlink, skipped",
            "/x/b: folder name is not valid UTF-8",
            "GPU out of memory: batch size lowered to 4",
        ]
        assert win.status.warned.text() == "3 warnings…"
    finally:
        win.shutdown()
