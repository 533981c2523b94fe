"""The watched folders of a running service: which they are (those given, or the remembered list, read
again while running), how each is watched (with or without its sub-folders), and what follows when the
list changes: the watcher is told, the photos queued under a folder no longer watched are dropped (a
person who removed the folder does not want them tagged), and each change is said in one line."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from autotagger.service.events import Event, Notice
from autotagger.watch.reconcile import under

#: The reasons the watcher queues a photo with (service/ingest.py, service/recorder.py): only those
#: jobs go when their folder is no longer watched. A photo a person asked for (the window's "Tag
#: folder" or "Tag again", "Retry failed") is still tagged. (`autotagger tag` queues nothing.)
WATCHER_REASONS = frozenset({"new", "changed", "scan", "resume"})


def remembered_folders(catalog_path: Path | str, extra: Sequence[str]) -> list[str]:
    """The one watched list of a service that follows the catalogue: its folders, then ``extra`` (see
    config.union_folders). A catalogue not made yet has none. Raises CatalogError (one line).

    Never a writer here: a writer would migrate an older catalogue without the writer lock, under an
    older autotagger still running."""
    from autotagger.catalog import Catalog, CatalogError
    from autotagger.config import union_folders

    remembered: list[str] = []
    if os.path.exists(catalog_path):
        try:  # an older catalogue is upgraded by the reader itself, under the writer lock (catalog/upgrade.py)
            cat = Catalog(catalog_path, readonly=True)
        except CatalogError:
            if os.path.getsize(catalog_path) == 0:  # an empty file: the service makes the catalogue in it
                return union_folders([], extra)
            raise  # damaged, newer, or held by an older autotagger that must stop first: said in one line
        try:
            remembered = [f.path for f in cat.list_folders()]
        finally:
            cat.close()
    return union_folders(remembered, extra)


def _photos(n: int) -> str:
    return f"{n} queued photo{'' if n == 1 else 's'}"


class WatchedFolders:
    """The folders one service watches now. Used from the watch thread (and from ``Service.run``
    before that thread starts); front ends read ``paths`` through the service's snapshot."""

    def __init__(
        self,
        given: Sequence[str] | None,
        *,
        recursive: bool = True,
        follow: bool = False,
        extra: Sequence[str] = (),
    ) -> None:
        self.given = None if given is None else list(given)
        self.recursive = recursive  # False: no folder's sub-folders (a remembered one can say so itself)
        self.follows_catalog = given is None or follow
        self.extra = tuple(extra)
        self.paths: list[str] = []
        self.flat: set[str] = set()  # of ``paths``, those watched without their sub-folders
        self._unsaid: tuple[list[str], list[str]] = ([], [])  # (added, removed) a failed ``follow`` left

    def wanted(self, cat: Any) -> list[tuple[str, bool]]:
        """(folder, with its sub-folders) for each folder to watch now."""
        if not self.follows_catalog:
            assert self.given is not None
            return [(os.path.abspath(f), self.recursive) for f in dict.fromkeys(self.given)]
        from autotagger.config import union_folders

        remembered = cat.list_folders()
        deep = {os.path.abspath(f.path): f.recursive for f in remembered}
        paths = union_folders([f.path for f in remembered], self.extra)
        return [(p, self.recursive and deep.get(p, True)) for p in paths]

    def replace(self, wanted: list[tuple[str, bool]], watcher: Any = None) -> tuple[list[str], list[str]]:
        """Watch ``wanted`` from now on: (folders newly watched, folders no longer watched); a folder
        whose sub-folders are now watched, or no longer, counts as both."""
        flat = {p for p, deep in wanted if not deep}
        paths = [p for p, _ in wanted]
        changed = [p for p in paths if p in self.paths and (p in flat) != (p in self.flat)]
        added = [p for p in paths if p not in self.paths] + changed
        removed = [p for p in self.paths if p not in paths] + changed
        self.paths, self.flat = paths, flat
        if watcher is not None:
            for p in removed:
                watcher.remove(p)
            for p in added:
                watcher.add(p, recursive=p not in flat)
        return added, removed

    def follow(self, cat: Any, watcher: Any, emit: Callable[[Event], None]) -> bool:
        """Pick up folders added to or removed from the remembered list, and drop what was queued
        under those no longer watched. True when some were added (to be scanned). When the drop fails
        (the catalogue busy too long) the change is said, dropped and scanned at the next call."""
        added, removed = self.replace(self.wanted(cat), watcher)
        self._unsaid = (self._unsaid[0] + added, self._unsaid[1] + removed)
        dropped = self.drop_unwatched(cat, self._unsaid[1])
        (added, removed), self._unsaid = self._unsaid, ([], [])
        added = [p for p in dict.fromkeys(added) if p in self.paths]  # not one added, then removed again
        removed = list(dict.fromkeys(removed))
        for p in removed:
            if p not in added:
                n = dropped.get(p, 0)
                emit(Notice("info", f"{p}: no longer watched" + (f", {_photos(n)} dropped" if n else "")))
        for p in added:
            said = f"{p}: watching"
            if p in self.flat:
                said += " (without its sub-folders)"
                n = dropped.get(p, 0)
                said += f", {_photos(n)} in its sub-folders dropped" if n else ""
            emit(Notice("info", said))
        return bool(added)

    def watches(self, path: str) -> bool:
        """Whether a photo at ``path`` is under a watched folder (deep, or right in a flat one)."""
        if os.path.dirname(path) in self.flat:
            return True
        return any(under(path, r) for r in self.paths if r not in self.flat)

    def drop_unwatched(self, cat: Any, folders: Sequence[str]) -> dict[str, int]:
        """Forget the pending jobs the watcher queued under ``folders`` that no folder watches now
        (a deep parent that is still watched keeps them); claimed ones, in the worker's hands, finish.
        Returns how many went, by folder."""
        if not folders:
            return {}
        drop: dict[str, list[int]] = {}
        for job in cat.list_jobs("pending", limit=-1):  # -1: no limit (SQLite)
            if job.reason not in WATCHER_REASONS or self.watches(job.path):
                continue
            for folder in folders:
                if under(job.path, folder):
                    drop.setdefault(folder, []).append(job.id)
                    break
        return {folder: cat.drop_pending_jobs(ids) for folder, ids in drop.items()}

    def deep_scan_of(self, folder: str) -> bool | None:
        """How a folder that appeared (or moved) under the watched ones is walked: True with its
        sub-folders, False without, None not at all (a sub-folder of a folder watched flat)."""
        if any(folder == r or under(folder, r) for r in self.paths if r not in self.flat):
            return True
        return False if folder in self.flat else None

    def returned(self, watcher: Any) -> list[str]:
        """The watched folders that were gone (an unmounted disk) and are back, watched again now."""
        return [
            folder for folder in self.paths
            if folder not in watcher.watched() and os.path.isdir(folder)
            and watcher.add(folder, recursive=folder not in self.flat)
        ]
