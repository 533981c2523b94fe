"""One writer process per catalogue: an ``flock`` on ``<catalog>.lock`` holding the owner's pid."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType

from autotagger.catalog.errors import AlreadyRunning, CatalogError


def lock_path_for(catalog_path: Path | str) -> Path:
    p = Path(catalog_path)
    return p.with_name(p.name + ".lock")


class WriterLock:
    """Advisory, per open file: released by the kernel when the holder exits or is killed."""

    def __init__(self, catalog_path: Path | str) -> None:
        self.path = lock_path_for(catalog_path)
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        if self._fd is not None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise CatalogError(f"cannot open lock file {self.path}: {exc.strerror or exc}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            pid = self.holder_pid()
            who = f"process {pid}" if pid else "another process"
            raise AlreadyRunning(
                f"catalogue {self.path.with_suffix('')} is already being written by {who}", pid
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        os.fsync(fd)
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.ftruncate(fd, 0)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def holder_pid(self) -> int | None:
        """The pid of the process holding the lock, or None if nobody holds it."""
        if self._fd is not None:
            return os.getpid()
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                text = os.read(fd, 64).decode(errors="replace").strip()
                return int(text) if text.isdigit() else None
            fcntl.flock(fd, fcntl.LOCK_UN)
            return None
        finally:
            os.close(fd)

    def __enter__(self) -> WriterLock:
        self.acquire()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()
