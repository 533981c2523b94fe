"""A reader (search, status, tags, export, the window's readers) that meets a catalogue of an older
schema upgrades it itself, as a writer would on open, instead of refusing: every user who upgrades
autotagger met "needs an upgrade, open it once with a writer" once. Only when it cannot (a read-only
file or folder, another process holding the writer lock: an older autotagger still running) does it
still say so, in one line, and change nothing."""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

from autotagger.catalog.errors import AlreadyRunning, CatalogError, damage_error
from autotagger.catalog.lock import WriterLock
from autotagger.catalog.opening import WalRefused, configure, open_writer
from autotagger.catalog.schema import LATEST, schema_version

#: How long the upgrade waits for a write another program is in the middle of (ms).
UPGRADE_BUSY_MS = 30_000


def _not_writable(path: Path) -> str | None:
    """Why the upgrade cannot write here (the file, its WAL files, its folder: the backup goes beside
    it), or None. A read-only mount or a file without write permission is found before anything is
    tried; what only SQLite finds (chattr +i) is said when it refuses."""
    folder = path.parent
    for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if p.exists() and not os.access(p, os.W_OK):
            return f"{p} is read-only"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"its folder {folder} is read-only"
    return None


def _cannot(path: Path, version: int, why: str) -> CatalogError:
    return CatalogError(
        f"catalogue {path} has schema v{version} and needs an upgrade to v{LATEST}, which cannot be made "
        f"now: {why}"
    )


def _upgraded_by_us(path: Path) -> bool:
    """Whether the catalogue reaches the latest schema within UPGRADE_BUSY_MS while another thread of
    this very process holds the writer lock: the same autotagger, upgrading it (a reader opened on
    another thread, as the window's are) or about to, as a writer does on open (the service started
    in the window). Not the "older autotagger" another process may be: that one is refused."""
    deadline = time.monotonic() + UPGRADE_BUSY_MS / 1000
    while True:
        try:
            conn = sqlite3.connect(f"file:{path.resolve().as_posix()}?mode=ro", uri=True)
            try:
                if schema_version(conn) >= LATEST:
                    return True
            finally:
                conn.close()
        except sqlite3.Error:
            return False
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


def _acquire(lock: WriterLock) -> None:
    """``lock.acquire()``; while the holder is not named, tried again for up to a second: a holder
    writes its pid just after it takes the lock and empties the file just before it lets go, and one
    met in between (another thread of this process, as often as not) would be taken for a stranger."""
    deadline = time.monotonic() + 1.0
    while True:
        try:
            lock.acquire()
            return
        except AlreadyRunning as exc:
            if exc.pid is not None or time.monotonic() >= deadline:
                raise
            time.sleep(0.005)


def upgrade_for_reader(path: Path, version: int) -> Path | None:
    """Upgrade the catalogue at ``path`` (schema ``version``) to the latest schema, under the writer
    lock, with the very steps a writer takes on open (opening.py); returns the backup made (None when
    another process upgraded it meanwhile). Raises CatalogError, one line naming the file and what to
    do, when it cannot be upgraded here; CatalogDamaged for a damaged file."""
    why = _not_writable(path)
    if why is not None:
        raise _cannot(path, version, f"{why}; open it once with autotagger tag or watch where it can be written")
    lock = WriterLock(path)
    try:
        _acquire(lock)
    except AlreadyRunning as exc:
        if exc.pid == os.getpid() and _upgraded_by_us(path):
            return None
        who = f"process {exc.pid}" if exc.pid else "another process"
        raise _cannot(
            path, version, f"{who} is writing to it (an older autotagger?); stop it, then run this again"
        ) from None
    except CatalogError as exc:  # the lock file cannot be made
        raise _cannot(path, version, str(exc)) from None
    try:
        conn = sqlite3.connect(path, isolation_level=None, timeout=UPGRADE_BUSY_MS / 1000)
        try:
            if configure(conn, UPGRADE_BUSY_MS, path) >= LATEST:  # a writer did it while we were getting the lock
                return None
            return open_writer(conn, path)  # what a writer does on open, the same code
        except WalRefused:
            raise _cannot(path, version, "it cannot be switched to WAL mode") from None
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        damaged = damage_error(path, exc)
        if damaged is not None:
            raise damaged from None
        text = " ".join(str(exc).split())
        name = getattr(exc, "sqlite_errorname", "")
        if name.startswith("SQLITE_READONLY") or "readonly database" in text:
            text = "it is read-only; check the permissions of the file and its folder"
        raise _cannot(path, version, text) from None
    finally:
        lock.release()
