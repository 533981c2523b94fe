"""Catalogue records as engine results (to give a result to a file without running the model)."""

from __future__ import annotations

from typing import Any

from autotagger.types import Tag, TagResult
from autotagger.watch.reconcile import MTIME_TOLERANCE, TAGGED
from autotagger.watch.settle import FileStat


def result_from_record(rec: Any, path: str) -> TagResult:
    """A tagged catalogue record as a TagResult (the model's tags only), to give a capture sibling."""
    tags = tuple(Tag(t.path, t.confidence, t.question_id) for t in rec.tags if t.source == "model")
    return TagResult(
        path=path, caption=rec.caption, answers=tuple(rec.answers), tags=tags, model_id=rec.model_id
    )


def up_to_date(rec: Any, st: FileStat) -> bool:
    """The catalogue has a result for exactly this version of the file (size and mtime)."""
    return (
        rec is not None
        and rec.status == TAGGED
        and rec.size == st.size
        and rec.mtime is not None
        and abs(rec.mtime - st.mtime) < MTIME_TOLERANCE
    )
