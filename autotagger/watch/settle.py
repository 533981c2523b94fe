"""Settle detection: a file is ready only when its size and mtime have not changed for the settle time
and it can be opened for reading, so a half-copied file is never tagged.

Pure bookkeeping with an injectable clock; the caller feeds it paths (from events or scans) and asks
``ready()`` now and then. Not thread-safe: one owner thread.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class FileStat:
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, st: os.stat_result) -> FileStat:
        return cls(st.st_size, st.st_mtime_ns)

    @property
    def mtime(self) -> float:
        return self.mtime_ns / 1e9


@dataclass
class _Pending:
    stat: FileStat | None
    since: float


def stat_file(path: str) -> FileStat | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return FileStat.of(st)


def can_open(path: str) -> bool:
    try:
        with open(path, "rb") as f:
            f.read(1)
    except OSError:
        return False
    return True


class SettleTracker:
    def __init__(
        self,
        settle_seconds: float,
        clock: Callable[[], float] = time.monotonic,
        stat: Callable[[str], FileStat | None] = stat_file,
        opener: Callable[[str], bool] = can_open,
    ) -> None:
        self.settle_seconds = settle_seconds
        self._clock = clock
        self._stat = stat
        self._open = opener
        self._pending: dict[str, _Pending] = {}

    def __len__(self) -> int:
        return len(self._pending)

    def __contains__(self, path: object) -> bool:
        return path in self._pending

    def touch(self, paths: Iterable[str]) -> None:
        """Note that ``paths`` changed (an event); their settle clock restarts."""
        now = self._clock()
        for p in paths:
            self._pending[p] = _Pending(self._stat(p), now)

    def forget(self, path: str) -> None:
        self._pending.pop(path, None)

    def ready(self) -> list[tuple[str, FileStat]]:
        """Paths whose stat has been stable for the settle time and that open; they leave the tracker.

        Vanished files leave silently; a changed stat restarts the clock; empty files wait (a copy
        tool may create a file before it writes a byte)."""
        now = self._clock()
        out: list[tuple[str, FileStat]] = []
        for path, pend in list(self._pending.items()):
            cur = self._stat(path)
            if cur is None:
                del self._pending[path]
                continue
            if cur != pend.stat:
                self._pending[path] = _Pending(cur, now)
                if self.settle_seconds > 0:
                    continue
            elif now - pend.since < self.settle_seconds:
                continue
            if cur.size == 0 or not self._open(path):
                self._pending[path] = _Pending(cur, now)
                continue
            del self._pending[path]
            out.append((path, cur))
        return sorted(out)

    def next_due(self) -> float | None:
        """Seconds until the earliest pending file could be ready (None when nothing is pending)."""
        if not self._pending:
            return None
        now = self._clock()
        earliest = min(p.since for p in self._pending.values())
        return max(0.0, earliest + self.settle_seconds - now)
