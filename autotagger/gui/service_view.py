"""The main window's view of the tagger service (in this process or elsewhere): its live state
in the status bar, its pause button, its new warnings, and the side panels and grid refreshed
as photos are tagged."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QTimer

from autotagger.gui import ops
from autotagger.gui.status import ServiceLink, ServiceState
from autotagger.gui.window_parts import WindowParts
from autotagger.service.events import FileMoved, FileRestored

#: Photos brought back together (a folder moved back in) are shown by one new query, this long after the last.
RESTORED_REFRESH_MS = 300


class ServiceMixin(WindowParts):
    """The service's state, a part of MainWindow (see WindowParts)."""

    def _connect_service(self, link: ServiceLink | None) -> None:
        self._last_done = -1
        self._warnings_source, self._warnings_seen = "", 0
        self.link = link
        self._restored = QTimer(self)  # photos back from their tombstones: one re-query for them all
        self._restored.setSingleShot(True)
        self._restored.setInterval(RESTORED_REFRESH_MS)
        self._restored.timeout.connect(self._show_restored)
        if self.link is not None:
            self.link.changed.connect(self._service_changed)
            events = getattr(self.link, "serviceEvent", None)  # a service in this process says what it did
            if events is not None:
                events.connect(self._service_event)
            self.status.pauseToggled.connect(lambda on: self.link.pause() if on else self.link.resume())
            self._service_changed(self.link.state)

    def _service_changed(self, state: ServiceState) -> None:
        self.status.set_state(state, bool(self.link and self.link.can_pause))
        if state.done != self._last_done and self._last_done >= 0:
            self.refresh_side()  # new tags came in
            if self.grid_stack.currentWidget() is self.empty:
                self.model.refresh()  # the first photos: the grid instead of the first-run hint
        self._last_done = state.done
        self._show_new_warnings(state)

    def _show_new_warnings(self, state: ServiceState) -> None:
        """The service's warnings, in this process or elsewhere (its state file): those not shown yet."""
        if state.source == "catalogue":  # no service running: nothing said
            return
        if state.source != self._warnings_source or state.warnings_said < self._warnings_seen:
            self._warnings_source, self._warnings_seen = state.source, 0  # another service, or another run
        new = state.warnings_said - self._warnings_seen
        for message in state.warnings[-new:] if new > 0 else ():  # more than it keeps: all it keeps
            self.status.add_warning(message)
        self._warnings_seen = state.warnings_said

    def _service_event(self, event: Any) -> None:
        """A photo the service moved follows in the grid and the detail pane (none is tagged: ``done``
        does not change); one it brought back, with its tags, shows up."""
        if isinstance(event, FileMoved):
            self._photo_moved(event.old, event.new)
        elif isinstance(event, FileRestored):
            if event.old != event.path:
                self._photo_moved(event.old, event.path)
            self._restored.start()

    def _photo_moved(self, old: str, new: str) -> None:
        self.model.move_hit(old, new)
        shown = self.detail.record
        if shown is not None and shown.path == old:  # the pane's path, preview and folder: where it is now
            image_id = shown.id
            self.reader.call(ops.get_image, image_id, on_done=lambda rec: self._moved_record(image_id, rec))

    def _moved_record(self, image_id: int, rec: Any) -> None:
        shown = self.detail.record
        if rec is not None and shown is not None and shown.id == image_id:
            self.detail.show_record(rec)
            preview = self.previews.get(rec.path)  # asks for it; the pane gets it through previews.ready
            if preview is not None:
                self.detail.set_preview(rec.path, preview)

    def _show_restored(self) -> None:
        self.model.refresh()
        self.refresh_side()
