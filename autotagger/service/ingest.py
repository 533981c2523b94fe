"""From "this path settled" (an event) or "this is what is on disk" (a reconcile scan) to catalogue
changes: queue new and changed files, let tags follow moved files without the model, forget deleted
ones, and ignore files whose stat matches what the catalogue recorded (our own writes included)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autotagger.service.events import Event, FileMoved, FileRestored, Notice
from autotagger.service.results import result_from_record
from autotagger.watch.hashing import BLIND_SUFFIXES, LEGACY, SUCCESSORS, content_hash, legacy_hash
from autotagger.watch.reconcile import TAGGED, KnownFile, plan_reconcile, same_stat, under
from autotagger.watch.scan import scan
from autotagger.watch.settle import FileStat


@dataclass
class ReconcileSummary:
    queued: int = 0
    moved: int = 0
    restored: int = 0  # forgotten photos back (tombstones): their records came back, no model run
    deleted: int = 0
    touched: int = 0
    errors: list[str] = field(default_factory=list)
    missing_roots: list[str] = field(default_factory=list)
    folders: int = 0  # folders on disk under the roots


#: A folder emptied longer ago than this (seconds) did not just lose its last photo to a person.
RECENTLY_EMPTIED = 300.0


def looks_unmounted(path: str, now: float | None = None) -> bool:
    """True when the nearest folder of ``path`` that is still there has nothing at all in it and has not
    changed lately. A polling watcher reports every photo of a network share or disk that went away
    while its mount point stayed as deleted; a person deleting the last photos of a folder changes the
    folder (its mtime is now), a disk going away does not change the empty mount point under it."""
    folder = os.path.dirname(path) or os.curdir
    while not os.path.isdir(folder):
        parent = os.path.dirname(folder)
        if parent == folder:
            return False
        folder = parent
    try:
        with os.scandir(folder) as entries:
            if next(entries, None) is not None:
                return False
        changed = os.stat(folder).st_mtime
    except OSError:
        return True  # cannot tell: keep the record, the next scan decides
    return (time.time() if now is None else now) - changed > RECENTLY_EMPTIED


def _legacy_of(path: str, h: str) -> str | None:
    """The whole-file digest of ``path`` where ``h`` is of a newer scheme (see hashing.legacy_hash);
    None where they are the same scheme or the file cannot be read now."""
    if not h.startswith(SUCCESSORS):  # a JPEG's or PNG's digest never had another scheme
        return None
    try:
        return legacy_hash(path)
    except OSError:
        return None


def _digests(path: str, h: str) -> Iterator[str]:
    """``h``, then (read only when asked) the digest an older catalogue may hold for the file."""
    yield h
    legacy = _legacy_of(path, h)
    if legacy:
        yield legacy


def same_content(stored: str | None, h: str, path: str) -> bool:
    """Whether a record's ``stored`` digest describes ``path``, whose digest is ``h`` now: equal, or
    taken by the whole-file scheme of catalogues made before ``h``'s scheme and equal to that."""
    if stored == h:
        return True
    return stored is not None and stored.startswith(LEGACY) and stored == _legacy_of(path, h)


def known_of(rec: Any) -> KnownFile:
    return KnownFile(rec.path, rec.size or 0, rec.mtime or 0.0, rec.content_hash, rec.status)


class Ingestor:
    """Used from one thread with its own Catalog."""

    def __init__(self, catalog: Any, emit: Callable[[Event], None], sidecar_name: str = "ext") -> None:
        self.cat = catalog
        self.emit = emit
        self.sidecar_name = sidecar_name
        self._said: set[str] = set()  # the last scan's problems: each is said once while it lasts
        self._kept_legacy: set[str] = set()  # files tried in upgrade_hash that keep the old digest

    def consider(self, path: str, st: FileStat, reason: str = "new") -> str:
        """A settled file. Returns what happened: unchanged | touched | moved | restored | queued | error."""
        rec = self.cat.get_image(path)
        if rec is not None and same_stat(known_of(rec), st):
            if rec.status not in (TAGGED, "failed"):
                self.cat.enqueue(path, reason="resume")  # known but untagged: make sure a job exists
            return "unchanged"
        try:
            h = content_hash(path)
        except OSError as exc:
            self.emit(Notice("warning", str(exc)))
            return "error"
        if rec is not None and rec.status == TAGGED and same_content(rec.content_hash, h, path):
            self.restat(rec, path, st, h)  # the new digest too: an older scheme's is replaced
            return "touched"
        if rec is None and self._try_move(path, h, st):
            return "moved"
        if rec is None and self._try_restore(path, h, st):
            return "restored"
        self.cat.upsert_file(path, size=st.size, mtime=st.mtime, content_hash=h)
        self.cat.enqueue(path, reason=reason if rec is None else "changed")
        return "queued"

    def _try_move(self, path: str, h: str, st: FileStat) -> bool:
        for key in _digests(path, h):
            found = self.cat.find_by_hash(key)
            candidates = found if isinstance(found, (list, tuple)) else [found] if found is not None else []
            for old in candidates:
                if old.status == TAGGED and old.path != path and not os.path.exists(old.path):
                    self.move(old.path, path, h, st)
                    return True
        return False

    def _try_restore(self, path: str, h: str, st: FileStat) -> bool:
        """A photo the catalogue forgot (moved out of the watched folders, now back): its record comes
        back from its tombstone, a person's caption, tags and removed tags with it, and the model does
        not run (it would tag from scratch, and write a tag the person removed into the file again).
        A record that was never tagged (only a person's edits) comes back queued."""
        back = self.cat.restore_forgotten(h, path, size=st.size, mtime=st.mtime)
        legacy = _legacy_of(path, h) if back is None else None
        if legacy:  # forgotten before this digest's scheme was (its record keeps the old one for now)
            back = self.cat.restore_forgotten(legacy, path, size=st.size, mtime=st.mtime)
        if back is None:
            return False
        rec, old = back
        if old != path and not os.path.lexists(old):
            self._move_sidecar(old, path)
        self.emit(FileRestored(path, old))
        if rec.status != TAGGED:
            self.cat.enqueue(path, reason="new")
        return True

    def upgrade_hash(self, path: str) -> None:
        """An unchanged tagged file whose record holds the whole-file digest that catalogues made before
        the TIFF/DNG/WebP schemes hold gets its metadata-blind one, so that a later edit of its metadata
        (Lightroom's keywords in a DNG) is not taken for a new photo. Each file is read once per run, and
        only where its name says it may have one (a CR3 or HEIC keeps the whole-file digest)."""
        if not path.lower().endswith(BLIND_SUFFIXES) or path in self._kept_legacy:
            return
        rec = self.cat.get_image(path)
        try:
            h = content_hash(path)
        except OSError:
            return  # the file is still there and the next change will say so: nothing to upgrade now
        known = rec is not None and rec.size is not None and rec.mtime is not None
        if known and not h.startswith(LEGACY) and same_content(rec.content_hash, h, path):
            # the record's own size and mtime: upsert_file changes the digest only
            self.cat.upsert_file(path, size=rec.size, mtime=rec.mtime, content_hash=h)
        else:
            self._kept_legacy.add(path)

    def restat(self, rec: Any, path: str, st: FileStat, h: str) -> None:
        """New stat, same content, still tagged (upsert_file would mark it pending)."""
        self.cat.record_result(result_from_record(rec, path), size=st.size, mtime=st.mtime, content_hash=h)

    def move(self, old: str, new: str, h: str, st: FileStat) -> None:
        self.cat.move_image(old, new)
        rec = self.cat.get_image(new)
        if rec is not None and (not same_stat(known_of(rec), st) or rec.content_hash != h):
            self.restat(rec, new, st, h)
        self._move_sidecar(old, new)
        self.emit(FileMoved(old, new))

    def _move_sidecar(self, old: str, new: str) -> None:
        """A sidecar left behind by a rename follows its image (when nothing is in the way)."""
        from autotagger.metadata import sidecar_path

        src, dst = sidecar_path(Path(old), self.sidecar_name), sidecar_path(Path(new), self.sidecar_name)
        if os.path.exists(src) and not os.path.exists(dst):
            try:
                os.rename(src, dst)
            except OSError as exc:
                self.emit(Notice("warning", f"{src}: cannot move sidecar: {exc.strerror or exc}"))

    def moved(self, old: str, new: str) -> bool:
        """A rename the watcher saw as one: the record (caption, tags, a person's edits) follows the file
        now, before the new name settles, so a file edited right after its rename keeps it (the edit then
        queues it again as changed). False when there is no record to move, or when ``old`` is back on
        disk (that record describes the file there now)."""
        if os.path.lexists(old) or self.cat.get_image(old) is None:
            return False
        self.cat.move_image(old, new)
        self._move_sidecar(old, new)
        self.emit(FileMoved(old, new))
        return True

    def folder_moved(self, old: str, new: str) -> int:
        """A renamed folder: each photo's record under ``old`` follows to the same place under ``new``
        (see ``moved``). Returns how many moved."""
        records = [r.path for r in self.cat.iter_images(folder=old) if under(r.path, old)]
        return sum(self.moved(path, os.path.join(new, os.path.relpath(path, old))) for path in records)

    def gone(self, path: str) -> bool:
        """A file was deleted (and did not turn out to be a move): forget it, unless its folder looks
        like an unmounted disk's (see ``looks_unmounted``): the next scan keeps it, and says so."""
        if os.path.exists(path) or self.cat.get_image(path) is None or looks_unmounted(path):
            return False
        self.cat.remove_image(path)
        return True

    def reconcile(
        self, roots: Iterable[str], recursive: bool = True, flat: Collection[str] = ()
    ) -> ReconcileSummary:
        """Make the catalogue equal what is on disk under ``roots`` (those in ``flat``, and all of them
        without ``recursive``, without their sub-folders)."""
        roots = [os.path.abspath(r) for r in roots]
        flat = {os.path.abspath(f) for f in flat}
        disk = scan(roots, recursive=recursive, flat=flat)
        known: dict[str, KnownFile] = {}
        for root in roots:
            deep = recursive and root not in flat
            for rec in self.cat.iter_known(root):  # path, stat, digest, status: no tags or answers
                if under(rec.path, root) and (deep or os.path.dirname(rec.path) == root):
                    known[rec.path] = known_of(rec)
        plan = plan_reconcile(
            disk.files, known, roots, disk.missing_roots + disk.unreadable, empty_folders=disk.empty_folders
        )
        out = ReconcileSummary(
            errors=disk.errors + plan.errors, missing_roots=disk.missing_roots, folders=disk.folders
        )
        for m in plan.moves:
            self.move(m.old, m.new, m.content_hash, disk.files[m.new])
            out.moved += 1
        for path in plan.deleted:
            self.cat.remove_image(path)
            out.deleted += 1
        for path, h in plan.touched:
            rec = self.cat.get_image(path)
            if rec is not None:
                self.restat(rec, path, disk.files[path], h)
                out.touched += 1
        for path in plan.new + plan.changed:
            done = self.consider(path, disk.files[path], reason="scan")
            if done == "queued":
                out.queued += 1
            elif done == "restored":
                out.restored += 1
        for path, k in known.items():  # known and unchanged: a job if never tagged, else an older digest upgraded
            if path not in disk.files or not same_stat(k, disk.files[path]):
                continue
            if k.status == "pending":
                self.cat.enqueue(path, reason="resume")
            elif k.status == TAGGED and (k.content_hash or "").startswith(LEGACY):
                self.upgrade_hash(path)
        # a file tried once stays skipped while it is there; a path gone (deleted, renamed) is let go
        self._kept_legacy.intersection_update(disk.files)
        for message in out.errors:
            if message not in self._said:
                self.emit(Notice("warning", message))
        self._said = set(out.errors)  # a problem that went away and comes back is said again
        return out
