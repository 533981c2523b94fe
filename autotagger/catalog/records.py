"""Immutable values the catalogue hands out (safe to pass between threads)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from autotagger.types import Answer


@dataclass(frozen=True)
class TagRecord:
    path: str
    source: str  # "model" | "person"
    confidence: float | None = None
    question_id: str | None = None


@dataclass(frozen=True)
class ImageRecord:
    id: int
    path: str
    folder: str
    name: str
    size: int | None
    mtime: float | None
    content_hash: str | None
    width: int | None
    height: int | None
    captured_at: str | None
    camera: str | None
    status: str  # "pending" | "tagged" | "failed"
    error: str | None
    caption: str
    caption_source: str  # "model" | "person" | ""
    tags: tuple[TagRecord, ...]  # the effective tags
    answers: tuple[Answer, ...]
    model_id: str
    tagged_at: str | None
    question_set_version: str = ""

    @property
    def tag_paths(self) -> tuple[str, ...]:
        return tuple(t.path for t in self.tags)


class KnownRow(NamedTuple):
    """What a reconcile scan needs of an image (``Catalog.iter_known``): no tags, answers or caption,
    which cost half the idle scan's time when every record came whole (a tuple: cheap by the 100,000)."""

    path: str
    size: int | None
    mtime: float | None
    content_hash: str | None
    status: str  # "pending" | "tagged" | "failed"


@dataclass(frozen=True)
class SearchHit:
    id: int
    path: str
    caption: str
    tags: tuple[str, ...]
    captured_at: str | None
    camera: str | None
    rank: float


@dataclass(frozen=True)
class FolderRecord:
    path: str
    recursive: bool
    added_at: str


@dataclass(frozen=True)
class Job:
    id: int
    path: str
    reason: str
    attempts: int
    status: str  # "pending" | "claimed" | "done" | "failed"
    error: str | None


@dataclass(frozen=True)
class FileInfo:
    """What is known about an image file besides the tagger's result (all optional)."""

    size: int | None = None
    mtime: float | None = None
    content_hash: str | None = None
    width: int | None = None
    height: int | None = None
    captured_at: str | None = None
    camera: str | None = None


@dataclass(frozen=True)
class CatalogStatus:
    path: str
    schema_version: int
    images: int
    tagged: int
    pending: int
    failed: int
    folders: tuple[str, ...]
    last_errors: tuple[tuple[str, str], ...]  # (path, error), newest first
    model_ids: tuple[str, ...]  # newest first
    jobs_pending: int
    jobs_claimed: int
    jobs_failed: int
    jobs_waiting: int = 0  # of the pending: failed once, waiting to be tried again
    next_retry: float | None = None  # when the first of those is due (Unix time)
