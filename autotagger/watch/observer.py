"""Filesystem events from watchdog, turned into plain paths on a queue.

Inotify by default; watchdog's PollingObserver with ``poll=True`` (network shares) or when inotify's
watch limit is reached (we say so, naming the sysctl, and fall back). Events carry no judgement: the
settle tracker and the catalogue decide what a path means.
"""

from __future__ import annotations

import collections
import contextlib
import errno
import os
import queue
import threading
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from typing import Any

from autotagger.watch.files import bad_name_photo, is_candidate, is_hidden_under

INOTIFY_WATCHES = "/proc/sys/fs/inotify/max_user_watches"
INOTIFY_LIMIT_HINT = (
    "inotify watch limit reached (raise it with: sysctl fs.inotify.max_user_watches=524288); "
    "falling back to polling"
)
#: How many of the last notices ``FolderWatcher.notices`` keeps: a folder that cannot be watched is tried
#: (and said) again at every check, for as long as the service runs.
KEEP_NOTICES = 100


@dataclass(frozen=True)
class PathEvent:
    """``kind``: "changed" (created/modified/moved here from outside the photos), "deleted" (removed/moved
    away), "moved" (a photo renamed from ``old`` to ``path``), "folder_moved" (a folder renamed from
    ``old`` to ``path``), "rescan" (a folder appeared, vanished or moved: walk it), "error" (``path``
    holds a one-line message)."""

    kind: str
    path: str
    old: str = ""


class _Handler:
    """Turns one watch's watchdog events into PathEvents. A rename stays a rename (so the catalogue's
    record, with a person's edits, follows the file at once instead of racing a delete against the new
    name's settle time), and nothing in a hidden folder under ``root`` counts, as in the scan."""

    def __init__(self, put: Callable[[PathEvent], None], root: str) -> None:
        self._put = put
        self._root = root

    def _photo(self, path: str) -> bool:
        return bool(path) and is_candidate(path) and not is_hidden_under(path, self._root)

    def _folder(self, path: str) -> bool:
        return bool(path) and not is_hidden_under(path, self._root)

    def dispatch(self, event: Any) -> None:
        kind = event.event_type
        src = os.fsdecode(event.src_path)
        dest = os.fsdecode(getattr(event, "dest_path", "") or "")
        if event.is_directory:
            self._folder_event(kind, src, dest)
            return
        arrived = dest if kind == "moved" else src if kind == "created" else ""
        said = bad_name_photo(arrived) if arrived and self._folder(os.path.dirname(arrived)) else None
        if said:
            self._put(PathEvent("error", said))
        if kind == "moved":
            left, came = self._photo(src), self._photo(dest)
            if left and came:
                self._put(PathEvent("moved", dest, old=src))
            elif left:  # renamed to a name we ignore, or into a hidden folder (the desktop's trash)
                self._put(PathEvent("deleted", src))
            elif came:  # a temp file (a download, our own writer's) renamed to its real name
                self._put(PathEvent("changed", dest))
        elif kind == "deleted":
            if self._photo(src):
                self._put(PathEvent("deleted", src))
        elif kind in ("created", "modified", "closed") and self._photo(src):
            self._put(PathEvent("changed", src))

    def _folder_event(self, kind: str, src: str, dest: str) -> None:
        if kind == "moved":
            left, came = self._folder(src), self._folder(dest)
            if left and came:
                self._put(PathEvent("folder_moved", dest, old=src))
            if came:
                self._put(PathEvent("rescan", dest))
            if left:
                self._put(PathEvent("rescan", src))
        elif kind in ("created", "deleted") and self._folder(src):
            self._put(PathEvent("rescan", src))


class FolderWatcher:
    """Watches folders; events go to ``events`` (a queue.Queue of PathEvent). Start/stop from one thread."""

    def __init__(self, recursive: bool = True, poll: bool = False, poll_interval: float = 1.0) -> None:
        self.recursive = recursive
        self.poll = poll
        self.poll_interval = poll_interval
        self.events: queue.Queue[PathEvent] = queue.Queue()
        self.notices: collections.deque[str] = collections.deque(maxlen=KEEP_NOTICES)  # the last ones
        self._observer: Any = None
        self._watched: dict[str, Any] = {}
        self._flat: set[str] = set()  # watched without their sub-folders
        self._lock = threading.Lock()

    @property
    def polling(self) -> bool:
        return self.poll

    def too_many_folders(self, folders: int) -> str | None:
        """A warning when inotify cannot watch ``folders`` folders (one watch each): watchdog then
        leaves some sub-folders unwatched without a word. None when they fit, when polling, or
        where there is no such limit (not Linux)."""
        if self.poll:
            return None
        try:
            with open(INOTIFY_WATCHES, encoding="ascii") as f:
                limit = int(f.read().strip())
        except (OSError, ValueError):
            return None
        if folders <= limit:
            return None
        return (
            f"{folders} folders to watch but inotify allows {limit} watches: new photos in some of them "
            f"are found only by the periodic scan (raise it with: "
            f"sysctl fs.inotify.max_user_watches={max(524288, 2 * folders)})"
        )

    def _new_observer(self) -> Any:
        if self.poll:
            from watchdog.observers.polling import PollingObserver

            return PollingObserver(timeout=self.poll_interval)
        from watchdog.observers import Observer

        return Observer()

    def start(self, folders: Iterable[str], flat: Collection[str] = ()) -> None:
        """Start watching ``folders``; those in ``flat`` without their sub-folders."""
        with self._lock:
            self._observer = self._new_observer()
            self._observer.daemon = True
            self._observer.start()
        for f in folders:
            self.add(f, recursive=f not in flat)

    def add(self, folder: str, recursive: bool | None = None) -> bool:
        """Watch ``folder`` (with its sub-folders unless ``recursive`` is False; None: the watcher's
        default); False (with a notice) when it is missing or unreadable; retried by the caller."""
        folder = os.path.abspath(folder)
        deep = self.recursive if recursive is None else recursive
        with self._lock:
            if folder in self._watched or self._observer is None:
                return folder in self._watched
            if not os.path.isdir(folder):
                self._note(f"{folder}: watched folder is missing (unplugged or unmounted?)")
                return False
            try:
                self._watched[folder] = self._schedule_locked(folder, deep)
                return True
            except OSError as exc:
                if exc.errno in (errno.ENOSPC, errno.EMFILE) and not self.poll:
                    self._note(INOTIFY_LIMIT_HINT)
                    self._switch_to_polling_locked()
                    self._watched[folder] = self._schedule_locked(folder, deep)
                    return True
                self._note(f"{folder}: cannot watch: {exc.strerror or exc}")
                return False

    def _schedule_locked(self, folder: str, recursive: bool) -> Any:
        watch = self._observer.schedule(_Handler(self.events.put, folder), folder, recursive=recursive)
        if recursive:
            self._flat.discard(folder)
        else:
            self._flat.add(folder)
        return watch

    def _switch_to_polling_locked(self) -> None:
        folders = [*self._watched]
        old = self._observer
        try:
            old.unschedule_all()
            old.stop()
        except Exception:  # the inotify observer may already be broken
            pass
        self.poll = True
        self._watched.clear()
        self._observer = self._new_observer()
        self._observer.daemon = True
        self._observer.start()
        for f in [*folders]:
            self._watched[f] = self._schedule_locked(f, f not in self._flat)

    def remove(self, folder: str) -> None:
        folder = os.path.abspath(folder)
        with self._lock:
            watch = self._watched.pop(folder, None)
            self._flat.discard(folder)
            if watch is not None and self._observer is not None:
                with contextlib.suppress(KeyError, OSError):
                    self._observer.unschedule(watch)

    def check(self) -> list[str]:
        """Drop watches on folders that vanished (they are re-added by the caller when they return);
        returns the folders dropped."""
        dropped = []
        with self._lock:
            for folder in list(self._watched):
                if not os.path.isdir(folder):
                    dropped.append(folder)
        for folder in dropped:
            self.remove(folder)
            self._note(f"{folder}: watched folder disappeared (unplugged or unmounted?)")
        return dropped

    def watched(self) -> list[str]:
        with self._lock:
            return sorted(self._watched)

    def _note(self, message: str) -> None:
        self.notices.append(message)
        self.events.put(PathEvent("error", message))

    def stop(self) -> None:
        with self._lock:
            obs, self._observer = self._observer, None
            self._watched.clear()
            self._flat.clear()
        if obs is not None:
            obs.stop()
            obs.join(timeout=5)
