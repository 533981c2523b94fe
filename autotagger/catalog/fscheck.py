"""Refuse catalogues on network filesystems: SQLite's WAL needs shared memory on one machine."""

from __future__ import annotations

import os
from pathlib import Path

NETWORK_FS_TYPES = frozenset(
    {
        "nfs", "nfs4", "cifs", "smb", "smb2", "smb3", "smbfs", "sshfs", "fuse.sshfs", "afs",
        "ncpfs", "9p", "ceph", "glusterfs", "fuse.glusterfs", "lustre", "davfs", "fuse.davfs2",
        "fuse.rclone", "fuse.s3fs", "gpfs", "beegfs", "fuse.gcsfuse", "coda",
    }
)


def _unescape(field: str) -> str:
    # /proc/mounts escapes space, tab, newline and backslash as octal
    return (
        field.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\")
    )


def filesystem_type(path: Path | str, mounts_text: str | None = None) -> str | None:
    """The type of the filesystem holding ``path`` (or its nearest existing parent), from /proc/mounts."""
    if mounts_text is None:
        try:
            mounts_text = Path("/proc/mounts").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None
    if not mounts_text:
        return None
    target = os.path.realpath(path)  # symlinks resolved; the path itself need not exist yet
    best, best_len = None, -1
    for line in mounts_text.splitlines():
        parts = line.split()
        if len(parts) < 3:
            continue
        mnt, fstype = _unescape(parts[1]), parts[2]
        prefix = mnt.rstrip("/") + "/"
        if (target == mnt or target.startswith(prefix) or mnt == "/") and len(mnt) > best_len:
            best, best_len = fstype, len(mnt)
    return best


def is_network_fs(fstype: str | None) -> bool:
    if not fstype:
        return False
    t = fstype.lower()
    return t in NETWORK_FS_TYPES or t.startswith(("nfs", "smb", "cifs")) or "sshfs" in t


def network_filesystem(path: Path | str, mounts_text: str | None = None) -> str | None:
    """The network filesystem type ``path`` lives on, or None when it is local (or unknown)."""
    fstype = filesystem_type(path, mounts_text)
    return fstype if is_network_fs(fstype) else None
