"""Walk watched folders safely: symlink loops, unreadable folders and files, and a vanished folder are
survived and reported, never fatal."""

from __future__ import annotations

import os
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

from autotagger.watch.files import (
    BAD_NAME,
    bad_name,
    bad_name_photo,
    is_candidate,
    is_ignored_name,
    printable,
)
from autotagger.watch.settle import FileStat


@dataclass
class ScanResult:
    files: dict[str, FileStat] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)  # one line each
    missing_roots: list[str] = field(default_factory=list)  # watched folders not there (unplugged card)
    # Folders whose photos cannot be known now, so none of them may be taken for deleted: those that could
    # not be read, and those with nothing at all in them (an unmounted disk's mount point looks so).
    unreadable: list[str] = field(default_factory=list)
    empty_folders: list[str] = field(default_factory=list)
    folders: int = 0  # folders walked, the roots included (each takes an inotify watch)


def scan(
    roots: Iterable[str], recursive: bool = True, follow_symlinks: bool = True, flat: Collection[str] = ()
) -> ScanResult:
    """The candidate photos under ``roots`` (with their sub-folders when ``recursive``, except the roots
    named in ``flat``: a folder remembered with `folders add --no-recursive`)."""
    result = ScanResult()
    flat = {os.path.abspath(f) for f in flat}
    # the deep walks first: a flat root inside a deep one is then walked whole, as part of the deep one
    roots = sorted((os.path.abspath(r) for r in roots), key=lambda r: r in flat)
    seen_dirs: set[tuple[int, int]] = set()
    for root in roots:
        root = os.path.abspath(root)
        try:
            st = os.stat(root)
        except OSError:
            result.missing_roots.append(root)
            result.errors.append(f"{root}: watched folder is missing (unplugged or unmounted?)")
            continue
        if not os.path.isdir(root):
            result.errors.append(f"{printable(root)}: not a folder")
            continue
        if bad_name(root):
            result.errors.append(f"{printable(root)}: folder {BAD_NAME}")
            continue
        if (st.st_dev, st.st_ino) in seen_dirs:
            continue
        seen_dirs.add((st.st_dev, st.st_ino))
        _walk(root, recursive and root not in flat, follow_symlinks, seen_dirs, result)
    return result


def _walk(top: str, recursive: bool, follow: bool, seen: set[tuple[int, int]], result: ScanResult) -> None:
    stack = [top]
    while stack:
        folder = stack.pop()
        result.folders += 1
        try:
            entries = list(os.scandir(folder))
        except OSError as exc:
            result.errors.append(f"{folder}: cannot read folder: {exc.strerror or exc}")
            result.unreadable.append(folder)
            continue
        if not entries:
            result.empty_folders.append(folder)
        for entry in entries:
            name = entry.name
            if is_ignored_name(name):
                continue
            if bad_name(name):  # said for a photo or folder we would have looked at
                said = f"{printable(entry.path)}: folder {BAD_NAME}" if entry.is_dir() else bad_name_photo(entry.path)
                if said:
                    result.errors.append(said)
                continue
            try:
                if entry.is_dir(follow_symlinks=follow):
                    if not recursive:
                        continue
                    st = entry.stat(follow_symlinks=follow)
                    key = (st.st_dev, st.st_ino)
                    if key in seen:
                        if entry.is_symlink():
                            result.errors.append(f"{entry.path}: symlink loop or repeat, skipped")
                        continue
                    seen.add(key)
                    stack.append(entry.path)
                elif is_candidate(name):
                    if entry.is_file(follow_symlinks=follow):
                        result.files[entry.path] = FileStat.of(entry.stat(follow_symlinks=follow))
                    elif entry.is_symlink() and not os.path.exists(entry.path):
                        result.errors.append(f"{entry.path}: broken symlink, skipped")
            except OSError as exc:  # dangling symlink, permission, vanished mid-scan
                if entry.is_symlink() and not os.path.exists(entry.path):
                    result.errors.append(f"{entry.path}: broken symlink, skipped")
                else:
                    result.errors.append(f"{entry.path}: cannot stat: {exc.strerror or exc}")
