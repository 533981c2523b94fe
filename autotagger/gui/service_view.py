"""The main window's view of the tagger service (in this process or elsewhere): its live state
in the status bar, its pause button, its new warnings, and the side panels and grid refreshed
as photos are tagged."""

from __future__ import annotations

from autotagger.gui.status import ServiceLink, ServiceState
from autotagger.gui.window_parts import WindowParts


class ServiceMixin(WindowParts):
    """The service's state, a part of MainWindow (see WindowParts)."""

    def _connect_service(self, link: ServiceLink | None) -> None:
        self._last_done = -1
        self._warnings_source, self._warnings_seen = "", 0
        self.link = link
        if self.link is not None:
            self.link.changed.connect(self._service_changed)
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
