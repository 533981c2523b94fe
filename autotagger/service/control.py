"""A small control channel so a GUI or tray can see and steer a service started elsewhere.

Beside the catalogue ``X.sqlite3``: ``X.sqlite3.service.json`` is the state the running service
rewrites atomically about once a second; ``X.sqlite3.control.json`` holds requests
(``{"paused": bool, "stop": n}``) that the service polls. Both are written temp-file + rename.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from pathlib import Path
from typing import Any

from autotagger.service.events import ServiceState

STALE_AFTER = 10.0  # seconds without an update: the service is not running (killed, crashed)


def state_path(catalog_path: str | os.PathLike[str]) -> Path:
    p = Path(catalog_path)
    return p.with_name(p.name + ".service.json")


def control_path(catalog_path: str | os.PathLike[str]) -> Path:
    p = Path(catalog_path)
    return p.with_name(p.name + ".control.json")


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f)
    os.replace(tmp, path)


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_state(catalog_path: str | os.PathLike[str], state: ServiceState) -> None:
    data = dataclasses.asdict(state)
    data["folders"] = list(state.folders)
    _write_json(state_path(catalog_path), data)


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_state(catalog_path: str | os.PathLike[str], now: float | None = None) -> ServiceState | None:
    """The last state a service wrote, with ``running`` False when it is stale or its process is gone;
    None when no service ever ran on this catalogue."""
    data = _read_json(state_path(catalog_path))
    if data is None:
        return None
    known = {f.name for f in dataclasses.fields(ServiceState)}
    values = {k: v for k, v in data.items() if k in known}
    values["folders"] = tuple(values.get("folders") or ())
    values["warnings"] = tuple(str(w) for w in values.get("warnings") or ())
    try:
        state = ServiceState(**values)
    except TypeError:
        return None
    now = time.time() if now is None else now
    if state.running and (now - state.updated_at > STALE_AFTER or not _alive(state.pid)):
        state = dataclasses.replace(state, running=False, current_file="", images_per_s=0.0)
    return state


def request(catalog_path: str | os.PathLike[str], *, paused: bool | None = None, stop: bool = False) -> None:
    """Ask the service to pause/resume and/or stop. FileNotFoundError (one line, naming the
    catalogue) when its folder does not exist: no service can run there."""
    path = control_path(catalog_path)
    if not path.parent.is_dir():
        raise FileNotFoundError(2, f"no catalogue at {catalog_path} (its folder does not exist)")
    data = _read_json(path) or {}
    if paused is not None:
        data["paused"] = bool(paused)
    if stop:
        data["stop"] = int(data.get("stop", 0)) + 1
    _write_json(path, data)


class ControlReader:
    """Polled by the service: reports the requested pause state and new stop requests."""

    def __init__(self, catalog_path: str | os.PathLike[str]) -> None:
        self.path = control_path(catalog_path)
        data = _read_json(self.path) or {}
        self._stop_seen = int(data.get("stop", 0))
        self._paused_seen: bool | None = None

    def reset(self) -> None:
        """A fresh start is not paused (an old request must not silently hold a new service)."""
        data = _read_json(self.path) or {}
        data["paused"] = False
        self._stop_seen = int(data.get("stop", 0))
        self._paused_seen = False
        _write_json(self.path, data)

    def poll(self) -> tuple[bool | None, bool]:
        """(a NEW pause request or None, whether a new stop was requested).

        Only a change of the file's value counts: a pause made directly on the Service (the
        tray's menu, the GUI in the same process) is not undone by a stale value in the file."""
        data = _read_json(self.path)
        if data is None:
            return None, False
        stop = int(data.get("stop", 0))
        new_stop = stop > self._stop_seen
        self._stop_seen = stop
        raw = data.get("paused")
        paused = bool(raw) if raw is not None else None
        if paused == self._paused_seen:
            return None, new_stop
        self._paused_seen = paused
        return paused, new_stop
