"""The first-run panel: what it says, Download now with a progress bar, Cancel, offline. The download
and size functions are fakes (no network); the real ones are tested in tests/engine/test_download.py."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from autotagger.engine.download import ModelDownloadError
from autotagger.gui.first_run import FirstRunPanel, model_notice

pytestmark = pytest.mark.gui

MODEL = "Salesforce/blip2-opt-2.7b"  # in the estimate table
UNKNOWN = "acme/not-a-real-model-for-tests"
ONLINE: dict[str, str] = {}
OFFLINE = {"HF_HUB_OFFLINE": "1"}


@pytest.fixture(autouse=True)
def _online(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setattr("autotagger.gui.first_run.is_cached", lambda model: Path(model).is_dir())


class Gate:
    """A fake download_model that reports half, waits for the test, then finishes (or sees Cancel)."""

    def __init__(self, total: int = 200_000_000, fail: ModelDownloadError | None = None) -> None:
        self.total, self.fail = total, fail
        self.go = threading.Event()
        self.calls: list[str] = []

    def __call__(self, model: str, *, progress: Any, cancel: threading.Event) -> str:
        self.calls.append(model)
        if self.fail is not None:
            raise self.fail
        progress(0, self.total)
        progress(self.total // 2, self.total)
        while not self.go.wait(0.02):
            if cancel.is_set():
                raise ModelDownloadError("cancelled", f"download of {model} cancelled")
        progress(self.total, self.total)
        return f"/cache/models--x/snapshots/abc ({model})"


def make_panel(qtbot: Any, download: Any, size: Any = lambda m: None) -> FirstRunPanel:
    panel = FirstRunPanel(download_fn=download, size_fn=size)
    qtbot.addWidget(panel)
    panel.show()
    return panel


def test_notice_texts_without_qt_state() -> None:
    n = model_notice(MODEL, ONLINE)
    assert n.needed and n.can_download and "about 15.5 GB" in n.text
    n = model_notice(MODEL, ONLINE, size_bytes=15_480_000_000)
    assert "15.5 GB" in n.text and "about" not in n.text
    assert "size unknown" in model_notice(UNKNOWN, ONLINE).text
    off = model_notice(MODEL, OFFLINE)
    assert off.offline and not off.can_download
    assert "cannot be reached" in off.text and "autotagger model download" in off.text and "Settings" in off.text


def test_download_now_moves_the_bar_and_says_ready(qtbot: Any) -> None:
    gate = Gate()
    panel = make_panel(qtbot, gate)
    panel.set_model(MODEL, ONLINE)
    assert panel.isVisible() and panel.download_btn.isVisible() and not panel.bar.isVisible()
    ready: list[str] = []
    panel.modelReady.connect(ready.append)
    qtbot.mouseClick(panel.download_btn, _left())
    assert panel.bar.isVisible() and panel.cancel_btn.isVisible() and not panel.download_btn.isEnabled()
    qtbot.waitUntil(lambda: panel.bar.value() == 500, timeout=5000)
    assert panel.bar.text() == "100 / 200 MB"
    gate.go.set()
    qtbot.waitUntil(lambda: bool(ready), timeout=5000)
    assert gate.calls == [MODEL]
    assert "is ready" in panel.label.text() and ready[0].startswith("/cache/")
    assert not panel.bar.isVisible() and not panel.download_btn.isVisible()
    assert panel._thread is None


def test_cancel_stops_and_offers_download_again(qtbot: Any) -> None:
    gate = Gate()
    panel = make_panel(qtbot, gate)
    panel.set_model(MODEL, ONLINE)
    qtbot.mouseClick(panel.download_btn, _left())
    qtbot.waitUntil(lambda: panel.bar.value() == 500, timeout=5000)
    qtbot.mouseClick(panel.cancel_btn, _left())
    qtbot.waitUntil(lambda: "cancelled" in panel.label.text(), timeout=5000)
    assert panel.download_btn.isEnabled() and panel.download_btn.text() == "Download now"
    assert not panel.bar.isVisible()


def test_offline_failure_says_so_plainly(qtbot: Any) -> None:
    gate = Gate(fail=ModelDownloadError("offline", "cannot reach the Hugging Face hub to download x (offline?)"))
    panel = make_panel(qtbot, gate)
    panel.set_model(MODEL, ONLINE)
    qtbot.mouseClick(panel.download_btn, _left())
    qtbot.waitUntil(lambda: panel.download_btn.isEnabled(), timeout=5000)
    text = panel.label.text()
    assert "hub cannot be reached" in text and "autotagger model download" in text and "local model folder" in text
    assert panel.download_btn.text() == "Try again"


def test_offline_environment_offers_no_download(qtbot: Any) -> None:
    sizes: list[str] = []
    panel = make_panel(qtbot, Gate(), size=lambda m: sizes.append(m))
    panel.set_model(MODEL, OFFLINE)
    assert panel.isVisible() and not panel.download_btn.isVisible()
    assert "cannot be reached" in panel.label.text() and "about 15.5 GB" in panel.label.text()
    assert sizes == []  # offline: the hub is not asked


def test_real_size_replaces_the_estimate(qtbot: Any) -> None:
    panel = make_panel(qtbot, Gate(), size=lambda m: 15_480_000_000 if m == MODEL else None)
    panel.set_model(MODEL, ONLINE)
    qtbot.waitUntil(lambda: "(15.5 GB)" in panel.label.text(), timeout=5000)
    assert "about" not in panel.label.text()


def test_no_notice_for_a_model_that_is_there(qtbot: Any, tmp_path: Path) -> None:
    panel = make_panel(qtbot, Gate())
    panel.set_model(str(tmp_path), ONLINE)
    assert not panel.isVisible()


def test_window_shows_the_panel_for_a_missing_model(qtbot: Any, demo: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from autotagger.gui.app import catalog_opener
    from autotagger.gui.window import MainWindow

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # no hub lookups from the window's default size function
    settings = demo.settings.replace(model=MODEL)
    win = MainWindow(settings, demo.config, catalog_opener(demo.catalog), demo.root / "thumbs")
    qtbot.addWidget(win)
    win.show()
    try:
        assert win.notice.isVisible() and "cannot be reached" in win.notice.label.text()
    finally:
        win.shutdown()


def _left() -> Any:
    from PySide6.QtCore import Qt

    return Qt.MouseButton.LeftButton


def test_the_window_does_not_migrate_a_catalogue_an_older_autotagger_holds(tmp_path: Path) -> None:
    """The reader's own upgrade refuses while another process holds the writer lock; the window used to
    fall back to a writer, which migrated the catalogue behind that process's back."""
    import sqlite3

    from autotagger.catalog import CatalogError
    from autotagger.catalog.lock import WriterLock
    from autotagger.gui.app import catalog_opener
    from tests.catalog.helpers import build_old

    path = tmp_path / "c.sqlite3"
    build_old(path, 4)
    with WriterLock(path), pytest.raises(CatalogError, match="writing to it"):
        catalog_opener(path)(True)
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 4
    conn.close()
    first = tmp_path / "new" / "c.sqlite3"  # the first run: made by a writer, then read
    catalog_opener(first)(True).close()
    assert first.exists()
