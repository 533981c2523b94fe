"""Copies: a file with the same pixels as one already tagged gets that result without the model.

Two places know such a result: the catalogue (any photo tagged before, found by its metadata-blind
content hash) and, for the few seconds before a batch is recorded, this process's memory of what its
model just gave (a card imported into two folders at once: the copy is one batch behind).
"""

from __future__ import annotations

import collections
import dataclasses
import threading
from typing import Any

from autotagger.service.items import WorkItem
from autotagger.service.results import result_from_record
from autotagger.types import TagResult
from autotagger.watch.reconcile import TAGGED

#: How many of this process's own model results are kept in memory by content hash (~1 KB each).
KEEP_FRESH = 4096


class Twins:
    """Finds a known result for a work item's pixels; thread-safe (the loader and the model thread ask)."""

    def __init__(self, keep: int = KEEP_FRESH) -> None:
        self._keep = keep
        self._fresh: collections.OrderedDict[str, TagResult] = collections.OrderedDict()
        self._lock = threading.Lock()

    def remember(self, done: list[tuple[str, TagResult]]) -> None:
        """What the model gave, by content hash (the newest ``keep`` are kept)."""
        with self._lock:
            for content, result in done:
                if content and result.ok:
                    self._fresh[content] = result
                    self._fresh.move_to_end(content)
            while len(self._fresh) > self._keep:
                self._fresh.popitem(last=False)

    def fresh(self, content: str) -> TagResult | None:
        with self._lock:
            return self._fresh.get(content)

    def find(self, cat: Any, it: WorkItem, tagger: Any | None) -> TagResult | None:
        """The result a copy of ``it`` already has: this process's model's (any time), else a tagged
        catalogue twin's that came from the model and question set ``tagger`` has (so identical photos
        get identical tags). A person's caption is theirs, not the model's: such a twin is not used.
        Without a tagger (not loaded yet) only memory is asked; None: the model must run."""
        fresh = self.fresh(it.content_hash) if it.content_hash else None
        if fresh is not None:
            return dataclasses.replace(fresh, path=it.primary)
        if tagger is None or not it.content_hash:
            return None
        version = getattr(getattr(tagger, "questions", None), "version", None)
        for rec in cat.find_by_hash(it.content_hash):
            if (
                rec.status == TAGGED
                and rec.caption_source != "person"
                and rec.path != it.primary
                and rec.path not in it.members
                and rec.model_id == tagger.model_id
                and (version is None or rec.question_set_version == version)
            ):
                return result_from_record(rec, it.primary)
        return None
