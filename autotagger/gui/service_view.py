"""The main window's view of the tagger service (in this process or elsewhere): its live state
in the status bar, its pause button and its new warnings. What it changes in the catalogue (photos
tagged, moved, brought back) reaches the grid and the panels as any change does (changes.py); a
service in this process only makes that come sooner."""

from __future__ import annotations

import dataclasses
from typing import Any

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
            events = getattr(self.link, "serviceEvent", None)  # a service in this process says what it did
            if events is not None:
                events.connect(self._service_event)
            self.status.pauseToggled.connect(lambda on: self.link.pause() if on else self.link.resume())
            self._service_changed(self.link.state)

    def _service_changed(self, state: ServiceState) -> None:
        if state.message and self.said_already(state.message):  # the catalogue's failure: said once
            state = dataclasses.replace(state, message="")
        self.status.set_state(state, bool(self.link and self.link.can_pause))
        if state.done != self._last_done and self._last_done >= 0:
            self.watch.poll()  # new tags came in: show them now rather than at the next poll
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

    def _service_event(self, _event: Any) -> None:
        """The service in this process did something (tagged, moved, brought back a photo): look at
        the catalogue now rather than at the next poll."""
        self.watch.poll()
