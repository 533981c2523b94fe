"""The tray: the service running in this process, an icon with a progress tooltip, a menu
(pause/resume, open window, tag a folder, quit), notifications, and a single instance per catalogue."""

from __future__ import annotations

import getpass
import hashlib
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QColor, QIcon, QPainter, QPixmap
from PySide6.QtNetwork import QLocalServer, QLocalSocket
from PySide6.QtWidgets import QFileDialog, QMenu, QSystemTrayIcon

from autotagger.config import Settings
from autotagger.gui.status import InProcessLink, ServiceLink, ServiceState

BIG_BATCH = 20  # a batch at least this big gets a "done" notification
FAILED_NOTICE_EVERY_MS = 15000


def instance_name(catalog_path: Path) -> str:
    key = hashlib.sha1(str(Path(catalog_path).resolve()).encode()).hexdigest()[:12]
    try:
        user = getpass.getuser()
    except Exception:  # no user name: still unique per catalogue
        user = "user"
    return f"autotagger-{user}-{key}"


class SingleInstance(QObject):
    """The first process listens on a local socket named after the catalogue; a later one finds it,
    asks it to show its window, and is told to go away."""

    activated = Signal()

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self.server: QLocalServer | None = None

    def other_is_running(self, message: bytes = b"show") -> bool:
        sock = QLocalSocket()
        sock.connectToServer(self.name)
        if sock.waitForConnected(500):
            sock.write(message)
            sock.waitForBytesWritten(500)
            sock.disconnectFromServer()
            return True
        return False

    def claim(self) -> bool:
        """True if this process is now the one instance."""
        if self.other_is_running():
            return False
        QLocalServer.removeServer(self.name)  # a stale socket left by a crash
        self.server = QLocalServer(self)
        if not self.server.listen(self.name):
            return False
        self.server.newConnection.connect(self._on_connection)
        return True

    def _on_connection(self) -> None:
        assert self.server is not None
        while self.server.hasPendingConnections():
            sock = self.server.nextPendingConnection()
            sock.readyRead.connect(lambda s=sock: self._read(s))
            sock.disconnected.connect(sock.deleteLater)

    def _read(self, sock: QLocalSocket) -> None:
        if bytes(sock.readAll().data()).startswith(b"show"):
            self.activated.emit()

    def release(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None


def tray_icon(paused: bool = False, busy: bool = False) -> QIcon:
    pm = QPixmap(64, 64)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setBrush(QColor("#888" if paused else ("#2e7d32" if busy else "#1565c0")))
    p.setPen(Qt.PenStyle.NoPen)
    p.drawRoundedRect(4, 12, 56, 40, 8, 8)
    p.setBrush(QColor("white"))
    p.drawEllipse(20, 20, 24, 24)
    p.setBrush(QColor("#333"))
    p.drawEllipse(26, 26, 12, 12)
    p.end()
    return QIcon(pm)


def tooltip(state: ServiceState) -> str:
    if not state.running:
        return "autotagger: stopped" + (f" ({state.message})" if state.message else "")
    if state.paused:
        return f"autotagger: paused, {state.queued} queued"
    if state.queued or state.current:
        rate = f", {state.rate:.1f} images/s" if state.rate else ""
        current = f"\n{Path(state.current).name}" if state.current else ""
        return f"autotagger: {state.done} tagged, {state.queued} queued{rate}{current}"
    return f"autotagger: watching, {state.done} tagged" + (f", {state.failed} failed" if state.failed else "")


class Tray(QObject):
    """The icon over a ServiceLink: the service in this process (its events come one by one) or one
    started elsewhere, such as the systemd/launchd unit (``attached``: its state file is polled, and
    its new warnings and failures are read from there; Quit leaves that service running)."""

    quitRequested = Signal()

    def __init__(self, link: ServiceLink, open_window: Callable[[], None], tag_folder: Callable[[str], None],
                 parent: QObject | None = None, *, attached: bool = False) -> None:
        super().__init__(parent)
        self.link = link
        link.setParent(self)
        self.icon = QSystemTrayIcon(tray_icon(), self)
        self.menu = QMenu()
        self.status_action = QAction("starting…", self.menu)
        self.status_action.setEnabled(False)
        self.pause_action = QAction("Pause", self.menu)
        self.pause_action.triggered.connect(self.toggle_pause)
        open_action = QAction("Open window", self.menu)
        open_action.triggered.connect(open_window)
        folder_action = QAction("Tag a folder…", self.menu)
        folder_action.triggered.connect(self._choose_folder)
        self._tag_folder = tag_folder
        quit_action = QAction("Quit tray (the service goes on)" if attached else "Quit", self.menu)
        quit_action.triggered.connect(self.quitRequested)
        for a in (self.status_action, None, self.pause_action, open_action, folder_action, None, quit_action):
            if a is None:
                self.menu.addSeparator()
            else:
                self.menu.addAction(a)
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(
            lambda reason: open_window() if reason == QSystemTrayIcon.ActivationReason.Trigger else None)
        self.link.changed.connect(self._changed)
        events = getattr(self.link, "serviceEvent", None)
        if events is not None:
            events.connect(self._event)
        self._by_events = events is not None
        self._seen: tuple[str, int, int] | None = None  # polled: (source, warnings said, failed) known
        self.notifications: list[tuple[str, str]] = []  # (title, text): what was shown, for tests
        self._batch_peak = 0
        self._batch_start_done = 0
        self._failed = _Batched(self, FAILED_NOTICE_EVERY_MS, lambda items: self.notify(
            "autotagger: could not tag", _summary(items, "files failed"), critical=True))
        # the service's warnings: a file it cannot take, a folder unplugged, the inotify limit, a GPU
        # that ran out of memory (each scan problem comes once while it lasts)
        self._warned = _Batched(self, FAILED_NOTICE_EVERY_MS, lambda items: self.notify(
            "autotagger", _summary(items, "warnings")))
        self._changed(self.link.state)
        self.icon.show()

    def toggle_pause(self) -> None:
        if self.link.state.paused:
            self.link.resume()
        else:
            self.link.pause()

    def _choose_folder(self) -> None:
        d = QFileDialog.getExistingDirectory(None, "Tag every photo in a folder now")
        if d:
            self._tag_folder(d)

    def notify(self, title: str, text: str, critical: bool = False) -> None:
        self.notifications.append((title, text))
        icon = QSystemTrayIcon.MessageIcon.Warning if critical else QSystemTrayIcon.MessageIcon.Information
        if QSystemTrayIcon.supportsMessages():
            self.icon.showMessage(title, text, icon, 8000)

    def _changed(self, state: ServiceState) -> None:
        if not self._by_events:
            self._news(state)
        self.icon.setToolTip(tooltip(state))
        self.icon.setIcon(tray_icon(state.paused, state.running and state.queued > 0))
        self.status_action.setText(tooltip(state).replace("autotagger: ", "").split("\n")[0])
        self.pause_action.setText("Resume" if state.paused else "Pause")
        self.pause_action.setEnabled(state.running)
        # a batch: from the queue first growing to its end
        if state.queued > 0:
            if self._batch_peak == 0:
                self._batch_start_done = state.done
            self._batch_peak = max(self._batch_peak, state.queued)
        elif self._batch_peak and not state.current:
            n = state.done - self._batch_start_done
            if self._batch_peak >= BIG_BATCH or n >= BIG_BATCH:
                self.notify("autotagger", f"Finished: {n} photo(s) tagged.")
            self._batch_peak = 0

    def _news(self, state: ServiceState) -> None:
        """A polled service: what its state says happened since the last poll (nothing for the first
        state of a service, whose past is not news)."""
        if not state.running:
            return
        seen = self._seen
        self._seen = (state.source, state.warnings_said, state.failed)
        if seen is None or seen[0] != state.source:
            return
        new = state.warnings_said - seen[1]
        for warning in state.warnings[-new:] if new > 0 else ():
            self._warned.add(warning)
        if state.failed > seen[2]:
            self._failed.add(f"{state.failed - seen[2]} photo(s) failed (`autotagger status` lists them)")

    def _event(self, ev: Any) -> None:
        name = type(ev).__name__
        if name == "FileFailed" and not getattr(ev, "will_retry", False):
            self._failed.add(f"{Path(ev.path).name}: {ev.error}")
        elif name == "Notice" and getattr(ev, "level", "") == "error":
            self.notify("autotagger", ev.message, critical=True)
        elif name == "Notice" and getattr(ev, "level", "") == "warning":
            self._warned.add(ev.message)


def _summary(items: list[str], what: str) -> str:
    return items[0] if len(items) == 1 else f"{len(items)} {what}, e.g. {items[0]}"


class _Batched:
    """Notifications of one kind, one every ``every_ms`` at most: the first at once, then what came
    in the meantime, in one."""

    def __init__(self, parent: QObject, every_ms: int, show: Callable[[list[str]], None]) -> None:
        self._pending: list[str] = []
        self._show = show
        self._timer = QTimer(parent)
        self._timer.setSingleShot(True)
        self._timer.setInterval(every_ms)
        self._timer.timeout.connect(self._flush)

    def add(self, item: str) -> None:
        self._pending.append(item)
        if not self._timer.isActive():
            self._flush()
            self._timer.start()

    def _flush(self) -> None:
        if self._pending:
            items, self._pending = self._pending, []
            self._show(items)


def service_options(settings: Settings) -> Any:
    from autotagger.service.service import ServiceOptions

    return ServiceOptions.from_settings(settings)


class ServiceThread:
    """Runs ``service.run()`` on a plain thread; remembers how it ended (one line)."""

    def __init__(self, service: Any, on_exit: Callable[[], None]) -> None:
        self.service = service
        self.error: str | None = None
        self._on_exit = on_exit
        self.thread = threading.Thread(target=self._run, name="autotagger-service", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _run(self) -> None:
        try:
            self.service.run()
            self.error = getattr(self.service, "exit_error", None)
        except Exception as exc:  # AlreadyRunning, CatalogError...: one line for the user
            self.error = " ".join(str(exc).split()) or type(exc).__name__
        finally:
            self._on_exit()


class _Exit(QObject):
    exited = Signal()


def run_tray(settings: Settings, config_path: Path, tagger_factory: Callable[[], Any]) -> tuple[int, str]:
    """Start the service and the tray icon; returns (exit code, message). Blocks until Quit. When a
    service already runs on the catalogue (the systemd/launchd unit, `autotagger service`), the tray
    shows that one instead of failing to start a second."""
    from autotagger.gui.app import ensure_app
    from autotagger.service.control import read_state

    app = ensure_app()
    app.setQuitOnLastWindowClosed(False)
    single = SingleInstance(instance_name(settings.catalog_path))
    if not single.claim():
        return 1, f"a tray for catalogue {settings.catalog_path} is already running (its window was asked to show)"
    try:
        if not QSystemTrayIcon.isSystemTrayAvailable():
            return 1, "no system tray on this desktop; run `autotagger service` (or `watch`) instead, and `gui` to browse"
        elsewhere = read_state(settings.catalog_path)
        if elsewhere is not None and elsewhere.running:
            return _attached(app, single, settings, config_path)
        return _in_process(app, single, settings, config_path, tagger_factory)
    finally:
        single.release()


def _tag_in_background(settings: Settings) -> Callable[[str], None]:
    """The menu's "Tag a folder…": queue its photos in the catalogue (whichever service runs takes them)."""

    def tag(folder: str) -> None:
        def job() -> None:
            from autotagger.catalog import Catalog
            from autotagger.gui.ops import tag_folder

            with Catalog(settings.catalog_path) as cat:
                tag_folder(cat, folder, settings.recursive)

        threading.Thread(target=job, name="autotagger-tag-folder", daemon=True).start()

    return tag


class _Windows:
    """The main window, built on first use."""

    def __init__(self, settings: Settings, config_path: Path, service: Any = None) -> None:
        self._args = (settings, config_path, service)
        self.window: Any = None

    def show(self) -> None:
        from autotagger.gui.app import build_window

        if self.window is None:
            settings, config_path, service = self._args
            self.window = build_window(settings, config_path, service=service, keep_running_in_tray=True)
        self.window.show()
        self.window.raise_()
        self.window.activateWindow()

    def close(self) -> None:
        if self.window is not None:
            self.window.shutdown()


def _in_process(app: Any, single: SingleInstance, settings: Settings, config_path: Path,
                tagger_factory: Callable[[], Any]) -> tuple[int, str]:
    from autotagger.service.service import Service

    service = Service(service_options(settings), tagger_factory)
    exit_signal = _Exit()
    runner = ServiceThread(service, exit_signal.exited.emit)
    windows = _Windows(settings, config_path, service)
    tray = Tray(InProcessLink(service), windows.show, _tag_in_background(settings))
    single.activated.connect(windows.show)
    tray.quitRequested.connect(service.stop)
    exit_signal.exited.connect(app.quit)
    runner.start()
    app.exec()
    service.stop()
    runner.thread.join(timeout=30)
    windows.close()
    tray.icon.hide()
    if runner.error:
        return 1, runner.error
    return 0, ""


def _attached(app: Any, single: SingleInstance, settings: Settings, config_path: Path) -> tuple[int, str]:
    from autotagger.gui.app import catalog_opener
    from autotagger.gui.status import PollingLink, remote_control, remote_reader
    from autotagger.gui.worker import CatalogClient

    opener = catalog_opener(settings.catalog_path)
    client = CatalogClient(lambda: opener(True), "tray-read")
    link = PollingLink(client, remote_reader(settings.catalog_path), remote_control(settings.catalog_path))
    windows = _Windows(settings, config_path)
    tray = Tray(link, windows.show, _tag_in_background(settings), attached=True)
    single.activated.connect(windows.show)
    tray.quitRequested.connect(app.quit)
    app.exec()
    link.stop()
    windows.close()
    tray.icon.hide()
    client.shutdown()
    return 0, ""
