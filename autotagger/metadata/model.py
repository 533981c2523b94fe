"""Values of the metadata layer: what to write, what happened, what is there, and its errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from autotagger.types import Tag, TagResult

NS_AUTOTAGGER = "http://ns.autotagger.app/1.0/"
PREFIX_AUTOTAGGER = "autotagger"

RAW_EXTENSIONS = frozenset(
    {
        ".3fr", ".ari", ".arw", ".bay", ".cr2", ".cr3", ".crw", ".dcr", ".dng", ".erf", ".fff",
        ".iiq", ".k25", ".kdc", ".mef", ".mos", ".mrw", ".nef", ".nrw", ".orf", ".pef", ".raf",
        ".raw", ".rw2", ".rwl", ".sr2", ".srf", ".srw", ".x3f",
    }
)  # fmt: skip

CAPTION_SOURCES = ("model", "person")


class MetadataError(Exception):
    """Nothing could be written (or undone) for a file; ``str()`` is one line for the user."""


class FileChangedError(MetadataError):
    """The file changed between our read and our replace; it was left alone, retry later."""


class UnsafeToEmbed(MetadataError):
    """Embedding in this file is not safe (corrupt or unsupported metadata); the file is untouched."""


@dataclass(frozen=True)
class MetadataRecord:
    caption: str  # "" = none
    caption_source: str  # "model" | "person"
    tags: tuple[Tag, ...]
    person_tags: tuple[str, ...] = ()  # a person's own keywords (paths): written, never recorded as ours
    removed_tags: tuple[str, ...] = ()  # tags a person removed: never written, ours removed if present
    model_id: str = ""
    question_set_version: str = ""
    date: str = ""  # ISO-8601; "" = now


@dataclass(frozen=True)
class WriteOutcome:
    path: str
    embedded: bool
    sidecar: str | None
    warnings: tuple[str, ...] = ()
    # the caption the file holds after the write (its XMP dc:description x-default; the sidecar's
    # where the file got nothing or has none): ours, a person's that was kept, or "" for none.
    # None when nothing was written. (undo_metadata leaves it None.)
    caption: str | None = None


@dataclass(frozen=True)
class Provenance:
    model_id: str = ""
    question_set_version: str = ""
    date: str = ""
    caption: str = ""  # the caption we produced (written or not)
    confidences: dict[str, float | None] = field(default_factory=dict)  # tag path -> confidence


@dataclass(frozen=True)
class ReadBack:
    """What is in a file and its sidecar (the file's embedded values first)."""

    caption: str = ""
    subjects: tuple[str, ...] = ()
    hierarchical: tuple[str, ...] = ()
    provenance: Provenance | None = None
    iptc_caption: str = ""
    iptc_keywords: tuple[str, ...] = ()
    exif_description: str = ""
    xp_keywords: tuple[str, ...] = ()
    sidecar: str | None = None
    warnings: tuple[str, ...] = ()


def record_from_result(result: TagResult) -> MetadataRecord:
    return MetadataRecord(
        caption=result.caption,
        caption_source="model",
        tags=tuple(result.tags),
        model_id=result.model_id,
        question_set_version=result.question_set_version,
    )


def sidecar_path(path: Path, sidecar_name: str) -> Path:
    """``ext``: IMG_1.CR2.xmp (darktable, digiKam); ``base``: IMG_1.xmp (Lightroom, Capture One)."""
    path = Path(path)
    if sidecar_name == "ext":
        return path.with_name(path.name + ".xmp")
    if sidecar_name == "base":
        return path.with_suffix(".xmp")
    raise MetadataError(f"unknown sidecar name style {sidecar_name!r} (use ext or base)")
