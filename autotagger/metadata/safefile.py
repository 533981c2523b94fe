"""Crash-safe file replacement: temp file in the same folder, fsync, check, atomic replace, fsync dir."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path

from autotagger.metadata.model import FileChangedError, MetadataError

TEMP_MARK = ".autotagger-tmp"


@dataclass(frozen=True)
class Snapshot:
    """What a file looked like when we read it (None fields: it did not exist)."""

    exists: bool
    size: int = -1
    mtime_ns: int = -1
    mode: int = 0o644

    @classmethod
    def take(cls, path: Path) -> Snapshot:
        try:
            st = os.stat(path)
        except FileNotFoundError:
            return cls(False)
        return cls(True, st.st_size, st.st_mtime_ns, stat.S_IMODE(st.st_mode))


def read_with_snapshot(path: Path) -> tuple[bytes, Snapshot]:
    """The file's bytes and a snapshot taken before and confirmed after the read."""
    before = Snapshot.take(path)
    data = path.read_bytes()
    after = Snapshot.take(path)
    if before != after or after.size != len(data):
        raise FileChangedError(f"{path}: file is being changed by another program; try again later")
    return data, after


def temp_path_for(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}{TEMP_MARK}")


def remove_stale_temps(path: Path) -> None:
    """Remove temp files a killed writer (its pid gone) left for ``path``."""
    prefix = f".{path.name}."
    try:
        names = os.listdir(path.parent)
    except OSError:
        return
    for name in names:
        if not (name.startswith(prefix) and name.endswith(TEMP_MARK)):
            continue
        pid_part = name[len(prefix) : -len(TEMP_MARK)].split("-", 1)[0]
        if not pid_part.isdigit() or int(pid_part) == os.getpid() or _alive(int(pid_part)):
            continue
        with contextlib.suppress(OSError):
            os.unlink(path.parent / name)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # e.g. Windows: directories cannot be opened; the rename is durable enough
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def backup_path(path: Path) -> Path:
    return path.with_name(path.name + "_original")


def replace_file(path: Path, data: bytes, snapshot: Snapshot, *, keep_backup: bool = False) -> None:
    """Atomically make ``path`` hold ``data``, unless it changed since ``snapshot``.

    A crash at any moment leaves the old or the new file; the temp file never survives an error.
    """
    path = Path(path)
    remove_stale_temps(path)
    tmp = temp_path_for(path)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
        try:
            view = memoryview(data)
            while view:
                n = os.write(fd, view)
                view = view[n:]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.chmod(tmp, snapshot.mode if snapshot.exists else 0o644)
        if Snapshot.take(path) != snapshot:
            raise FileChangedError(f"{path}: file changed while we were writing; left alone, try again later")
        if keep_backup and snapshot.exists:
            _make_backup(path)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)


def _make_backup(path: Path) -> None:
    """Keep the first original, like exiftool's NAME_original (never overwritten)."""
    backup = backup_path(path)
    if backup.exists():
        return
    try:
        os.link(path, backup)  # the old inode stays there as the backup after the replace
    except OSError:
        try:
            shutil.copy2(path, backup)
        except OSError as exc:
            raise MetadataError(f"{path}: cannot keep a backup ({exc.strerror})") from None


def remove_file(path: Path, snapshot: Snapshot) -> None:
    if Snapshot.take(path) != snapshot:
        raise FileChangedError(f"{path}: file changed; left alone, try again later")
    os.unlink(path)
    fsync_dir(path.parent)
