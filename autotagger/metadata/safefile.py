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
    uid: int = -1  # the owner the new file must keep (-1: none, e.g. Windows reports 0 but has no chown)
    gid: int = -1

    @classmethod
    def take(cls, path: Path) -> Snapshot:
        try:
            st = os.stat(path)
        except FileNotFoundError:
            return cls(False)
        return cls(True, st.st_size, st.st_mtime_ns, stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid)


def read_with_snapshot(path: Path) -> tuple[bytes, Snapshot]:
    """The file's bytes and a snapshot taken before and confirmed after the read."""
    before = Snapshot.take(path)
    data = path.read_bytes()
    after = Snapshot.take(path)
    if before != after or after.size != len(data):
        raise FileChangedError(f"{path}: file is being changed by another program; try again later")
    return data, after


def real_path(path: Path) -> Path:
    """The file ``path`` finally names, symlinks followed.

    Every replace and removal acts there: ``os.replace`` onto a symlink (an album folder of links into
    the library) would put a regular copy in the link's place, leave the real photo untagged and the
    photo twice on disk. The link itself stays a link.
    """
    return Path(os.path.realpath(path))


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
    A symlink is written through (see ``real_path``); the new file keeps the old one's owner, group,
    mode and extended attributes, so a replace looks like an edit in place.
    """
    path = real_path(path)
    remove_stale_temps(path)
    tmp = temp_path_for(path)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
        try:
            view = memoryview(data)
            while view:
                n = os.write(fd, view)
                view = view[n:]
            if snapshot.exists:
                _copy_xattrs(path, tmp)  # while the file is still ours and writable
            os.chmod(tmp, snapshot.mode if snapshot.exists else 0o644)
            if snapshot.exists:
                _copy_owner(tmp, snapshot)  # last: once given away, it may no longer be ours to change
            os.fsync(fd)  # after the copies: the fsync makes them durable with the data
        finally:
            os.close(fd)
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


def _copy_xattrs(src: Path, dst: Path) -> None:
    """Give ``dst`` the extended attributes of ``src``: file managers keep a person's own tags there
    (user.xdg.tags in Dolphin and GNOME), and a new inode would start without them.

    One that cannot be set (security.* without the privilege, a filesystem without xattrs) is skipped:
    the write must not fail over it. Python offers xattrs on Linux only; elsewhere nothing is copied.
    """
    if not hasattr(os, "listxattr"):
        return
    try:
        names = os.listxattr(src)
    except OSError:
        return
    for name in names:
        with contextlib.suppress(OSError):
            os.setxattr(dst, name, os.getxattr(src, name))


def _copy_owner(tmp: Path, snapshot: Snapshot) -> None:
    """Give the temp file the original's owner and group.

    Made by root (a Docker or NAS service), a photographer's photo would otherwise become root's and
    their own tools could no longer write it. Without the right to give it away (not root), keep at
    least the group where we are a member, else the file is ours as any editor would leave it.
    """
    if not hasattr(os, "chown") or snapshot.uid < 0:
        return
    st = os.stat(tmp)
    if (st.st_uid, st.st_gid) == (snapshot.uid, snapshot.gid):
        return
    try:
        os.chown(tmp, snapshot.uid, snapshot.gid)
    except PermissionError:
        with contextlib.suppress(PermissionError):
            os.chown(tmp, -1, snapshot.gid)


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
    """Remove the file ``path`` names; through a symlink the real file goes and the link stays,
    as for a replace (a later write through the link makes the file again)."""
    path = real_path(path)
    if Snapshot.take(path) != snapshot:
        raise FileChangedError(f"{path}: file changed; left alone, try again later")
    os.unlink(path)
    fsync_dir(path.parent)
