"""Which container writer handles a file: one module per format with ``read`` and ``write``.

RAW files get sidecars, except DNG (by name and content), which is written into (see dng)."""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

from autotagger.metadata import dng
from autotagger.metadata.model import RAW_EXTENSIONS, UnsafeToEmbed

EMBED_EXTENSIONS = frozenset(
    {".jpg", ".jpeg", ".jpe", ".tif", ".tiff", ".png", ".webp", ".heic", ".heif", ".hif", ".dng"}
)


def is_raw(path: Path) -> bool:
    return path.suffix.lower() in RAW_EXTENSIONS


def is_dng_name(path: Path) -> bool:
    return path.suffix.lower() == ".dng"


def sidecar_only(path: Path) -> bool:
    """A RAW file we never write into (NEF, CR2, ARW... even where TIFF-based): every RAW but DNG,
    whose metadata Lightroom reads only from the file itself (see dng)."""
    return is_raw(path) and not is_dng_name(path)


def sniff(head: bytes) -> str | None:
    if head[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):  # BigTIFF too: tiffifd says why it is refused
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
    if sidecar_only(path):
        raise UnsafeToEmbed("RAW files get a sidecar, never an embedded write")
    kind = sniff(data[:16])
    if is_dng_name(path):
        if kind != "tiff":
            raise UnsafeToEmbed("not a DNG file (no TIFF header)")
        kind = "dng"  # dng.read refuses one without DNGVersion
    elif kind == "tiff" and dng.is_dng(data):  # a DNG by another name: as careful as with a .dng
        kind = "dng"
    if kind is None:
        raise UnsafeToEmbed("unsupported file format for embedding")
    return importlib.import_module(f"autotagger.metadata.{kind}")
