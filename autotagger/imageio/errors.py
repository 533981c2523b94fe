"""The one exception the image loader raises, and how library errors become one-line reasons."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any


class ImageLoadError(Exception):
    """A file that cannot be read as an image. ``str(exc) == f"{path}: {reason}"``, one line.

    ``damaged``: the bytes themselves are wrong (corrupt, truncated, not an image, too many pixels), so
    reading the same bytes again gives the same error; False for what may pass (permission, I/O, memory).
    """

    def __init__(self, path: str | Path, reason: str, *, damaged: bool = False) -> None:
        self.path = str(path)
        self.reason = one_line(reason) or "cannot read image"
        self.damaged = damaged
        super().__init__(f"{self.path}: {self.reason}")

    def __reduce__(self) -> tuple[Any, ...]:
        # picklable for process pools: the default would call __init__ with the message only
        return (_rebuild, (self.path, self.reason, self.damaged))


def _rebuild(path: str, reason: str, damaged: bool) -> ImageLoadError:
    return ImageLoadError(path, reason, damaged=damaged)


def damage(exc: BaseException) -> bool:
    """Whether a decoder's exception says the data is bad (rather than memory, permission or I/O)."""
    if isinstance(exc, MemoryError | PermissionError):
        return False
    return not (isinstance(exc, OSError) and exc.strerror)


def one_line(text: object) -> str:
    return " ".join(str(text).split())


_PIXELS = re.compile(r"\((\d+) pixels\) exceeds limit of (\d+) pixels")


def bomb_reason(width: int, height: int, limit: int) -> str:
    return f"decompression bomb ({width}x{height} = {width * height} pixels, limit {limit})"


def reason_for(exc: BaseException, fmt: str | None) -> str:
    """A short reason for an exception raised while opening or decoding an image of format ``fmt``."""
    from PIL import Image, UnidentifiedImageError

    kind = fmt or "image"
    message = one_line(exc)
    if "decompressed data too large" in message.lower():  # zTXt/iCCP inflating past Pillow's limit
        return f"decompression bomb (oversized compressed metadata in {kind})"
    if isinstance(exc, Image.DecompressionBombError):
        match = _PIXELS.search(message)
        if match:
            return f"decompression bomb ({match.group(1)} pixels, limit {match.group(2)})"
        return f"decompression bomb ({message})"
    if isinstance(exc, UnidentifiedImageError):
        if fmt:  # the magic number says it is one of ours, but no header parses
            return f"corrupt {fmt} (unreadable header)"
        return "not an image (unrecognised or unsupported format)"
    if isinstance(exc, MemoryError):
        return f"out of memory decoding {kind}"
    if isinstance(exc, PermissionError):
        return "permission denied"
    if isinstance(exc, EOFError) or "truncated" in message.lower() or "premature end" in message.lower():
        return f"truncated {kind}"
    if isinstance(exc, OSError) and exc.strerror and not isinstance(exc, UnidentifiedImageError):
        return f"cannot read ({exc.strerror})"
    detail = f": {message}" if message else ""
    return f"corrupt {kind} ({type(exc).__name__}{detail})"


_MAGIC: tuple[tuple[bytes, int, str], ...] = (
    (b"\xff\xd8\xff", 0, "JPEG"),
    (b"\x89PNG\r\n\x1a\n", 0, "PNG"),
    (b"II*\x00", 0, "TIFF"),
    (b"MM\x00*", 0, "TIFF"),
    (b"GIF8", 0, "GIF"),
    (b"BM", 0, "BMP"),
    (b"WEBP", 8, "WEBP"),
    (b"ftypheic", 4, "HEIF"),
    (b"ftypheix", 4, "HEIF"),
    (b"ftypmif1", 4, "HEIF"),
    (b"ftypavif", 4, "AVIF"),
)


def sniff(prefix: bytes) -> str | None:
    """The format a file's first bytes claim (for error messages only; Pillow decides)."""
    for magic, at, name in _MAGIC:
        if prefix[at : at + len(magic)] == magic:
            return name
    return None
