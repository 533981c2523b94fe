"""The status bar and the links that feed it: a service in this process, one started elsewhere,
or none (then the catalogue's own queue counts are shown and pause is disabled).
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QLabel, QProgressBar, QPushButton, QStatusBar, QWidget

from autotagger.catalog.records import CatalogStatus
from autotagger.service.events import ServiceState as Snapshot


@dataclass(frozen=True)
class ServiceState:
    """What the front ends show, whatever the source."""

    running: bool = False
    paused: bool = False
    queued: int = 0
    done: int = 0
    failed: int = 0
    rate: float = 0.0  # images per second
    current: str = ""
    device: str = ""
    source: str = ""  # "this process", "pid 1234", "catalogue"
    message: str = ""
    warnings: tuple[str, ...] = ()  # the service's last warnings, newest last
    warnings_said: int = 0  # how many it has said in its run


def state_from_snapshot(snap: Snapshot, source: str) -> ServiceState:
    """What the GUI shows of a service's own state (in this process, or its state file)."""
    return ServiceState(
        running=snap.running,
        paused=snap.paused,
        queued=snap.queue_length,
        done=snap.done,
        failed=snap.failed,
        rate=snap.images_per_s,
        current=snap.current_file,
        device=snap.device,
        source=source,
        warnings=tuple(snap.warnings),
        warnings_said=snap.warnings_said,
    )


def state_from_catalog_status(st: CatalogStatus) -> ServiceState:
    """No service runs: the catalogue's own queue and counts."""
    return ServiceState(running=False, queued=st.jobs_pending, done=st.tagged, failed=st.failed, source="catalogue")


class ServiceLink(QObject):
    """Base: emits ``changed(ServiceState)`` on the GUI thread."""

    changed = Signal(object)
    can_pause = False

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.state = ServiceState()
        self.changed.connect(self._remember)

    def _remember(self, state: ServiceState) -> None:
        self.state = state

    def pause(self) -> None:  # pragma: no cover - overridden
        pass

    def resume(self) -> None:  # pragma: no cover - overridden
        pass

    def stop(self) -> None:
        pass


class InProcessLink(ServiceLink):
    """A Service object running in this process (the tray, or `gui` with a worker). The service's
    callback may run on its worker thread: it only emits a signal, which Qt queues to us."""

    can_pause = True
    serviceEvent = Signal(object)  # FileTagged / FileFailed / Notice ... as the service sends them
    _incoming = Signal(object)

    def __init__(self, service: Any, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self._incoming.connect(self._on_event)
        service.subscribe(self._incoming.emit)
        self._on_event(service.snapshot())

    def _on_event(self, ev: Any) -> None:
        snap = ev if isinstance(ev, Snapshot) else getattr(ev, "state", None)
        if isinstance(snap, Snapshot):
            self.changed.emit(state_from_snapshot(snap, "this process"))
        else:
            self.serviceEvent.emit(ev)

    def _request(self, paused: bool) -> None:
        # The running service re-reads its control file every tick and applies the paused state it
        # finds there, so a direct pause() alone would be undone: say it in the file as well.
        path = getattr(getattr(self.service, "options", None), "catalog_path", None)
        if path:
            from autotagger.service.control import request

            with contextlib.suppress(OSError):
                request(path, paused=paused)

    def pause(self) -> None:
        self._request(True)
        self.service.pause()
        self._on_event(self.service.snapshot())

    def resume(self) -> None:
        self._request(False)
        self.service.resume()
        self._on_event(self.service.snapshot())

    def stop(self) -> None:
        self.service.stop()


def remote_reader(catalog_path: Any) -> Any:
    """``read(catalog)`` for PollingLink: the state file of a service started elsewhere, else the
    catalogue's own counts."""

    def read(catalog: Any) -> ServiceState:
        from autotagger.service.control import read_state

        snap = read_state(catalog_path)
        if snap is not None and snap.running:
            return state_from_snapshot(snap, f"pid {snap.pid}")
        return state_from_catalog_status(catalog.status())

    return read


def remote_control(catalog_path: Any) -> Any:
    def control(command: str) -> None:
        from autotagger.service.control import request

        request(catalog_path, paused=(command == "pause"))

    return control


class PollingLink(ServiceLink):
    """Polls a ``read() -> (snapshot_or_None, source)`` callable off the GUI thread via ``client``;
    used for a service started elsewhere (its state file) or, failing that, the catalogue counts."""

    def __init__(self, client: Any, read: Any, control: Any = None, interval_ms: int = 1500,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._client = client
        self._read = read
        self._control = control  # callable(command: str) -> None, or None
        self.can_pause = control is not None
        self._busy = False
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.poll)
        self._timer.start()
        self.poll()

    def poll(self) -> None:
        if self._busy:
            return
        self._busy = True
        self._client.call(lambda cat: self._read(cat), on_done=self._got, on_error=self._err)

    def _got(self, state: ServiceState) -> None:
        self._busy = False
        self.changed.emit(state)

    def _err(self, message: str) -> None:
        self._busy = False
        self.changed.emit(ServiceState(message=message, source="catalogue"))

    def pause(self) -> None:
        if self._control:
            self._control("pause")
            self.poll()

    def resume(self) -> None:
        if self._control:
            self._control("resume")
            self.poll()

    def stop(self) -> None:
        self._timer.stop()


#: How many of the service's warnings the status bar keeps (newest last).
KEEP_WARNINGS = 50


class StatusBar(QStatusBar):
    pauseToggled = Signal(bool)  # True = pause asked
    failedClicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.queue = QLabel("queue: –")
        self.rate = QLabel("")
        self.current = QLabel("")
        self.current.setMinimumWidth(120)
        self.device = QLabel("")
        self.count = QLabel("")
        self._catalog_error = ""  # set_catalog_error
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(120)
        self.progress.setTextVisible(False)
        self.progress.setVisible(False)
        self.failed = QPushButton("")
        self.failed.setFlat(True)
        self.failed.setVisible(False)
        self.failed.clicked.connect(self.failedClicked)
        # the service's warnings (a photo it cannot take, a folder unplugged, the inotify limit...)
        self.warnings: list[str] = []
        self.warned = QPushButton("")
        self.warned.setFlat(True)
        self.warned.setVisible(False)
        self.warned.clicked.connect(self._show_warnings)
        self.pause = QPushButton("Pause")
        self.pause.setCheckable(True)
        self.pause.setEnabled(False)
        self.pause.toggled.connect(self._toggled)
        self.addWidget(self.count)
        self.addWidget(self.current, 1)
        for w in (self.progress, self.queue, self.rate, self.device, self.warned, self.failed, self.pause):
            self.addPermanentWidget(w)

    def add_warning(self, message: str) -> None:
        self.warnings = [*self.warnings, message][-KEEP_WARNINGS:]
        n = len(self.warnings)
        self.warned.setText(f"{n} warning{'s' if n != 1 else ''}…")
        self.warned.setToolTip("\n".join(self.warnings[-5:]))
        self.warned.setVisible(True)

    def _show_warnings(self) -> None:
        from PySide6.QtWidgets import QMessageBox

        box = QMessageBox(QMessageBox.Icon.Warning, "autotagger: warnings",
                          f"The tagger said, newest last ({len(self.warnings)}):", parent=self)
        box.setDetailedText("\n".join(self.warnings))
        box.setInformativeText(self.warnings[-1] if self.warnings else "")
        clear = box.addButton("Clear", QMessageBox.ButtonRole.ResetRole)
        box.addButton(QMessageBox.StandardButton.Close)
        box.exec()
        if box.clickedButton() is clear:
            self.warnings = []
            self.warned.setVisible(False)

    def _toggled(self, on: bool) -> None:
        self.pause.setText("Resume" if on else "Pause")
        self.pauseToggled.emit(on)

    def set_state(self, s: ServiceState, can_pause: bool) -> None:
        self.queue.setText(f"queue: {s.queued}")
        self.rate.setText(f"{s.rate:.1f} images/s" if s.running and s.rate else "")
        if s.message:
            self.current.setText(s.message)
        elif s.paused:
            self.current.setText("paused")
        elif s.current:
            self.current.setText(f"tagging {os.path.basename(s.current)}")
        elif s.running:
            self.current.setText("idle, watching")
        else:
            self.current.setText("no tagger running" if s.source == "catalogue" else "")
        self.device.setText(f"device: {s.device}" if s.device else "")
        self.failed.setVisible(s.failed > 0)
        self.failed.setText(f"{s.failed} failed…")
        busy = s.running and not s.paused and s.queued > 0
        self.progress.setVisible(busy)
        if busy:
            total = s.done + s.queued
            self.progress.setRange(0, max(total, 1))
            self.progress.setValue(s.done)
        self.pause.setEnabled(can_pause and s.running)
        self.pause.blockSignals(True)
        self.pause.setChecked(s.paused)
        self.pause.setText("Resume" if s.paused else "Pause")
        self.pause.blockSignals(False)

    def set_catalog_error(self, message: str) -> None:
        """The catalogue failed as a whole (damaged, cannot be opened): said where the count was, in
        place of the count and of any search error, for as long as the window runs (every later call
        would fail the same way)."""
        self._catalog_error = " ".join(message.split())
        self.clearMessage()
        self._say_error(self._catalog_error)

    def _say_error(self, text: str) -> None:
        self.count.setText(f"{text}  |")
        self.count.setToolTip(text)
        self.count.setStyleSheet("color:#c33;")

    def set_count(self, shown: int, total: int) -> None:
        if self._catalog_error:
            return
        self.count.setStyleSheet("")
        self.count.setToolTip("")
        if total < 0:
            self.count.setText("searching…  |")
        else:
            self.count.setText(f"{total:,} image{'' if total == 1 else 's'}  |")

    def set_query_error(self, message: str) -> None:
        """The search failed: say why where the count was (no stale count), until the next search."""
        if not self._catalog_error:
            self._say_error(" ".join(f"search: {message}".split()))
