"""Reconcile planning: compare what is on disk with what the catalogue knows and say what to do so the
catalogue ends up equal to the disk. Pure: the caller supplies both listings and a hash function, and
applies the plan (see autotagger.service.ingest)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from autotagger.watch.settle import FileStat

MTIME_TOLERANCE = 1e-3  # seconds; catalogues may store mtime as a float
TAGGED = "tagged"  # the catalogue's status for an image with a model result
_EMPTIED_HINT = " (if they were deleted, remove the empty folder)"  # how a person ends the warning


@dataclass(frozen=True)
class KnownFile:
    """What the catalogue remembers about a path."""

    path: str
    size: int
    mtime: float
    content_hash: str | None
    status: str  # "tagged", "failed", "pending"


@dataclass(frozen=True)
class Move:
    old: str
    new: str
    content_hash: str


@dataclass
class ReconcilePlan:
    new: list[str] = field(default_factory=list)  # not known: queue (unless a move)
    changed: list[str] = field(default_factory=list)  # content changed: queue again
    touched: list[tuple[str, str]] = field(default_factory=list)  # (path, hash): stat changed, content not
    deleted: list[str] = field(default_factory=list)  # known, gone from disk: remove from the catalogue
    moves: list[Move] = field(default_factory=list)  # tags follow the file, no model run
    errors: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.new or self.changed or self.touched or self.deleted or self.moves)


def same_stat(known: KnownFile, st: FileStat) -> bool:
    return known.size == st.size and abs(known.mtime - st.mtime) < MTIME_TOLERANCE


def under(path: str, folder: str) -> bool:
    folder = folder.rstrip(os.sep) + os.sep
    return path.startswith(folder)


def plan_reconcile(
    disk: Mapping[str, FileStat],
    known: Mapping[str, KnownFile],
    roots: Iterable[str],
    missing_roots: Iterable[str] = (),
    hash_fn: Callable[[str], str] | None = None,
    empty_folders: Iterable[str] = (),
    legacy_fn: Callable[[str], str] | None = None,
) -> ReconcilePlan:
    """``known`` should hold the catalogue's files under ``roots``; files under a missing root (an
    unplugged card, or a folder that could not be read) are never treated as deleted, nor are those
    under a root with no photo in it or under one of ``empty_folders`` (see ``_keep_hollow``).
    ``hash_fn`` raises OSError for unreadable files. A gone record that holds the digest of an older
    scheme (hashing.LEGACY) is found by ``legacy_fn`` (hashing.legacy_hash unless ``hash_fn`` is given)."""
    from autotagger.watch.hashing import LEGACY, SUCCESSORS, content_hash, legacy_hash

    hasher = hash_fn or content_hash
    legacy = legacy_fn or (legacy_hash if hash_fn is None else None)
    plan = ReconcilePlan()
    root_list = [os.path.abspath(r) for r in roots]
    missing = [os.path.abspath(r) for r in missing_roots]
    gone = [
        k
        for path, k in known.items()
        if path not in disk
        and any(under(path, r) for r in root_list)
        and not any(under(path, m) for m in missing)
    ]
    gone_by_hash: dict[str, KnownFile] = {}
    for g in gone:
        if g.content_hash and g.status == TAGGED:
            gone_by_hash.setdefault(g.content_hash, g)

    def digest(path: str) -> str | None:
        try:
            return hasher(path)
        except OSError as exc:
            plan.errors.append(str(exc).splitlines()[0] if str(exc) else f"{path}: cannot read")
            return None

    # gone records still on the older scheme: counted once, not looked for again for every new file
    legacy_gone = sum(1 for g in gone_by_hash if g.startswith(LEGACY))

    def older(path: str, h: str) -> str:
        """``h``, or the file's digest of the older scheme where only that can find a gone record."""
        if h in gone_by_hash or legacy is None or not h.startswith(SUCCESSORS) or not legacy_gone:
            return h
        try:
            return legacy(path)
        except OSError:
            return h

    for path in sorted(disk):
        st = disk[path]
        k = known.get(path)
        if k is None:
            h = digest(path) if gone_by_hash else None
            key = None if h is None else older(path, h)
            if h is not None and key in gone_by_hash:
                old = gone_by_hash.pop(key)
                legacy_gone -= key.startswith(LEGACY)
                plan.moves.append(Move(old.path, path, h))
            else:
                plan.new.append(path)
            continue
        if same_stat(k, st):
            continue
        h = digest(path)
        if h is None:
            continue
        if k.content_hash is not None and h == k.content_hash and k.status == TAGGED:
            plan.touched.append((path, h))
        else:
            plan.changed.append(path)
    moved_away = {m.old for m in plan.moves}
    left = [g.path for g in gone if g.path not in moved_away]
    kept = _keep_hollow(left, disk, root_list, empty_folders, plan.errors)
    plan.deleted = sorted(p for p in left if p not in kept)
    return plan


def _keep_hollow(
    left: list[str], disk: Mapping[str, FileStat], roots: list[str], empty: Iterable[str], errors: list[str]
) -> set[str]:
    """The photos of ``left`` (known, not on disk, not moved) that must not be forgotten, each folder said
    once in ``errors``: those under a watched folder with no photo left in it at all, and those under a
    sub-folder with nothing at all in it. That is what a disk that is not mounted (or a card pulled while
    its mount point stayed) looks like, and forgetting would lose every caption and a person's edits,
    the photos being tagged again from scratch when the disk is back. A person who deletes photos rarely
    deletes every one of a watched folder; a sub-folder they emptied is forgotten once they remove it.
    Moves out of such a folder were already found: they are not in ``left``."""
    if not left:
        return set()
    hollow_roots = [r for r in roots if not any(under(p, r) for p in disk)]
    empty_subs = {os.path.abspath(e) for e in empty} - set(roots)
    by_folder: dict[str, list[str]] = {}
    for path in left:
        folder = next((r for r in hollow_roots if under(path, r)), None) or _empty_above(path, empty_subs)
        if folder is not None:
            by_folder.setdefault(folder, []).append(path)
    for folder, paths in sorted(by_folder.items()):
        n = len(paths)
        what, tail = ("watched folder", "") if folder in roots else ("folder", _EMPTIED_HINT)
        errors.append(
            f"{folder}: {what} is empty but the catalogue knows {n} photo{'s' if n != 1 else ''} there "
            f"(unmounted?); nothing forgotten{tail}"
        )
    return {p for paths in by_folder.values() for p in paths}


def _empty_above(path: str, empty: set[str]) -> str | None:
    """The folder of ``empty`` that holds ``path`` (at any depth), if any."""
    if not empty:
        return None
    folder = os.path.dirname(path)
    while True:
        if folder in empty:
            return folder
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent
