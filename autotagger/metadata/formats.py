"""Which container writer handles a file: one module per format with ``read`` and ``write``."""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

from autotagger.metadata.model import RAW_EXTENSIONS, UnsafeToEmbed

EMBED_EXTENSIONS = frozenset(
    {".jpg", ".jpeg", ".jpe", ".tif", ".tiff", ".png", ".webp", ".heic", ".heif", ".hif"}
)


def is_raw(path: Path) -> bool:
    return path.suffix.lower() in RAW_EXTENSIONS


def sniff(head: bytes) -> str | None:
    if head[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    if head[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"heim", b"heis", b"mif1", b"msf1", b"heif"):
        return "heic"
    return None


def handler_for(path: Path, data: bytes) -> ModuleType:
    """The writer module for this file, or UnsafeToEmbed with the reason."""
    if is_raw(path):
        raise UnsafeToEmbed("RAW files get a sidecar, never an embedded write")
    kind = sniff(data[:16])
    if kind is None:
        raise UnsafeToEmbed("unsupported file format for embedding")
    return importlib.import_module(f"autotagger.metadata.{kind}")
