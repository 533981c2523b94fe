"""Progress events for the front ends: plain frozen dataclasses, safe to hand to any thread."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ServiceState:
    running: bool = False
    paused: bool = False
    queue_length: int = 0
    images_per_s: float = 0.0
    current_file: str = ""
    device: str = ""
    done: int = 0
    failed: int = 0
    folders: tuple[str, ...] = ()
    polling: bool = False
    pid: int = 0
    updated_at: float = 0.0  # time.time() of the last update
    warnings: tuple[str, ...] = ()  # the last warnings and errors said (newest last)
    warnings_said: int = 0  # how many were said in this run: a front end shows the ones it has not seen


@dataclass(frozen=True)
class FileTagged:
    path: str
    caption: str
    tags: tuple[str, ...]
    reused: bool = False  # True when no model ran (a journal hit or a capture sibling's result)


@dataclass(frozen=True)
class FileFailed:
    path: str
    error: str  # one line
    will_retry: bool = False
    retry_in: float = 0.0  # seconds until the next attempt, when there is one


@dataclass(frozen=True)
class FileMoved:
    old: str
    new: str


@dataclass(frozen=True)
class FileRestored:
    """A photo the catalogue had forgotten (gone from the watched folders) is back at ``path``: its
    record (the model's result, a person's edits) came back with it, no model ran. ``old`` is where it
    was when it was forgotten (may be ``path`` itself)."""

    path: str
    old: str


@dataclass(frozen=True)
class Notice:
    level: str  # "info" | "warning" | "error"
    message: str  # one line


@dataclass(frozen=True)
class StateChanged:
    state: ServiceState


Event = FileTagged | FileFailed | FileMoved | FileRestored | Notice | StateChanged
