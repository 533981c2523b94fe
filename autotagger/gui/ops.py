"""What the GUI buttons do, as plain functions ``op(catalog, ...)`` run on a catalogue thread.

No Qt here: the same calls serve the window, the tray and tests. Each returns a plain value.
A person's edit is saved to the catalogue and written back to the file (or sidecar) marked as a
person's, so that the model never overwrites it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autotagger.config import Settings


@dataclass(frozen=True)
class EditResult:
    record: Any  # the ImageRecord after the edit
    written: str = ""  # where the metadata went ("" = catalogue only)
    warning: str = ""  # one line when the file could not be written (the catalogue edit stands)


def get_image(catalog: Any, key: int | str) -> Any:
    return catalog.get_image(key)


def tag_counts(catalog: Any) -> list[tuple[str, int]]:
    return [(str(p), int(n)) for p, n in catalog.tag_counts()]


def list_folders(catalog: Any) -> list[str]:
    return [str(getattr(f, "path", f)) for f in catalog.list_folders()]


def add_folder(catalog: Any, folder: str) -> list[str]:
    catalog.add_folder(folder)
    return list_folders(catalog)


def remove_folder(catalog: Any, folder: str) -> list[str]:
    catalog.remove_folder(folder)
    return list_folders(catalog)


def catalog_status(catalog: Any) -> Any:
    return catalog.status()


def failed_files(catalog: Any, limit: int = 1000) -> list[tuple[str, str]]:
    """(path, error) of the files whose last attempt failed: failed jobs, then failed images."""
    seen: dict[str, str] = {}
    for job in catalog.list_jobs("failed", limit=limit):
        seen.setdefault(job.path, job.error or "")
    for path, error in catalog.status().last_errors:
        seen.setdefault(path, error)
    return sorted(seen.items())


def retry_failed(catalog: Any, paths: Sequence[str] | None) -> int:
    return int(catalog.retry_failed(list(paths) if paths else None) or 0)


def retag(catalog: Any, paths: Iterable[str]) -> int:
    n = 0
    for path in paths:
        catalog.enqueue(path, reason="retag")  # see service.planning.RETAG
        n += 1
    return n


def tag_folder(catalog: Any, folder: str, recursive: bool = True) -> int:
    """Queue every photo under ``folder`` now (the worker skips nothing already queued twice)."""
    from autotagger.watch.files import is_candidate

    n = 0
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")] if recursive else []
        for name in sorted(files):
            path = os.path.join(root, name)
            if is_candidate(path):
                catalog.enqueue(path, reason="gui")
                n += 1
    return n


def metadata_record(record: Any, removed: Sequence[str] = ()) -> Any:
    """The MetadataRecord for a catalogue ImageRecord: the model's tags as ours, a person's as
    theirs, the caption with its source (a person's edit is marked as such)."""
    from autotagger.metadata.model import MetadataRecord
    from autotagger.types import Tag

    ours = tuple(Tag(t.path, t.confidence, t.question_id) for t in record.tags if t.source != "person")
    theirs = tuple(t.path for t in record.tags if t.source == "person")
    return MetadataRecord(
        caption=record.caption or "",
        caption_source=record.caption_source or "model",
        tags=ours,
        person_tags=theirs,
        removed_tags=tuple(removed),
        model_id=record.model_id or "",
    )


def _write_back(record: Any, settings: Settings, removed: Sequence[str] = ()) -> tuple[str, str]:
    """Write the record's caption and tags to the file (or sidecar). Returns (where, warning)."""
    if settings.write == "none":
        return "", ""
    try:
        from autotagger.metadata import write_metadata
    except ImportError:
        return "", "metadata writer not available: the edit is in the catalogue only"
    try:
        out = write_metadata(
            Path(record.path),
            metadata_record(record, removed),
            mode=settings.write,
            sidecar_name=settings.sidecar_name,
            keep_backup=settings.keep_backup,
        )
    except Exception as exc:  # the catalogue edit stands; say why the file did not follow
        return "", f"{record.path}: could not write metadata: {' '.join(str(exc).split())}"
    where = getattr(out, "sidecar", None) or getattr(out, "path", "") or record.path
    return str(where), "; ".join(getattr(out, "warnings", ()) or ())


def set_caption(catalog: Any, image_id: int, text: str, settings: Settings) -> EditResult:
    catalog.set_caption(image_id, text)
    rec = catalog.get_image(image_id)
    written, warning = _write_back(rec, settings)
    return EditResult(rec, written, warning)


def add_tags(catalog: Any, image_id: int, tags: Sequence[str], settings: Settings) -> EditResult:
    clean = [t.strip().strip("|") for t in tags if t.strip().strip("|")]
    catalog.add_tags(image_id, clean)
    rec = catalog.get_image(image_id)
    written, warning = _write_back(rec, settings)
    return EditResult(rec, written, warning)


def remove_tags(catalog: Any, image_id: int, tags: Sequence[str], settings: Settings) -> EditResult:
    catalog.remove_tags(image_id, list(tags))
    rec = catalog.get_image(image_id)
    written, warning = _write_back(rec, settings, removed=tags)
    return EditResult(rec, written, warning)


def undo(catalog: Any, paths: Sequence[str], sidecar_name: str = "ext") -> list[tuple[str, str]]:
    """Remove our tags from the files (a person's stay). Returns (path, error) of failures."""
    from autotagger.metadata import undo_metadata

    failures = []
    for path in paths:
        try:
            undo_metadata(Path(path), sidecar_name=sidecar_name)
            catalog.forget_model_results(path)  # search, the tag tree and later edits forget them too
        except Exception as exc:  # one bad file: report, go on
            failures.append((path, " ".join(str(exc).split())))
    return failures
