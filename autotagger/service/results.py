"""Catalogue records as engine results (to give a result to a file without running the model)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from autotagger.types import Tag, TagResult
from autotagger.watch.reconcile import MTIME_TOLERANCE, TAGGED
from autotagger.watch.settle import FileStat


def result_from_record(rec: Any, path: str) -> TagResult:
    """A tagged catalogue record as a TagResult (the model's tags only), to give a capture sibling."""
    tags = tuple(Tag(t.path, t.confidence, t.question_id) for t in rec.tags if t.source == "model")
    return TagResult(
        path=path, caption=rec.caption, answers=tuple(rec.answers), tags=tags, model_id=rec.model_id,
        question_set_version=rec.question_set_version,
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


@dataclass(frozen=True)
class PersonEdits:
    """What a person changed on an image in the catalogue: these win over the model in the file too."""

    caption: str | None = None  # a person's caption, or None
    tags: tuple[str, ...] = ()  # tags a person added
    removed: tuple[str, ...] = ()  # tags a person removed


def person_edits(catalog: Any, path: str) -> PersonEdits:
    rec = catalog.get_image(path)
    if rec is None:
        return PersonEdits()
    return PersonEdits(
        caption=rec.caption if rec.caption_source == "person" else None,
        tags=tuple(t.path for t in rec.tags if t.source == "person"),
        removed=tuple(catalog.removed_tags(rec.id)),
    )


def metadata_for(result: TagResult, edits: PersonEdits | None = None) -> Any:
    """The MetadataRecord to write for a model result, with a person's edits winning: their caption
    is kept as theirs, the tags they removed are not written back, the tags they added stay theirs."""
    from autotagger.metadata import record_from_result

    record = record_from_result(result)
    if edits is None:
        return record
    blocked = set(edits.removed) | set(edits.tags)
    record = replace(
        record,
        tags=tuple(t for t in record.tags if t.path not in blocked),
        person_tags=edits.tags,
        removed_tags=edits.removed,
    )
    if edits.caption is not None:
        record = replace(record, caption=edits.caption, caption_source="person")
    return record
