"""A fast content hash that ignores metadata, so a file keeps its identity after we (or anyone) embed
XMP/IPTC/EXIF into it, and a moved or renamed file is recognised without running the model.

JPEG: the non-metadata segments (quantisation and Huffman tables, frame header, scan headers) plus the
length and the first and last 64 KiB of the entropy-coded image data. APPn and COM segments, where
EXIF, XMP, IPTC, ICC and maker notes live, are skipped. PNG: IHDR/PLTE plus the IDAT stream the same
way; text, time and EXIF chunks skipped. Other formats (RAW, HEIC, TIFF, WebP): we never rewrite RAW
files (they get sidecars), so size + first and last 64 KiB of the whole file is enough; for formats we
do embed into, the service records the hash taken after its own write.
"""

from __future__ import annotations

import hashlib
import os
import struct
from typing import BinaryIO

EDGE = 64 * 1024
_PNG_SIG = b"\x89PNG\r\n\x1a\n"
_PNG_SKIP = {b"tEXt", b"iTXt", b"zTXt", b"eXIf", b"tIME", b"iCCP"}


class HashError(OSError):
    """The file could not be read to hash it (one-line message)."""


def content_hash(path: str | os.PathLike[str]) -> str:
    """Hex digest identifying the image data of ``path``; unchanged by metadata edits (JPEG, PNG)."""
    try:
        with open(path, "rb") as f:
            head = f.read(8)
            f.seek(0)
            h = hashlib.blake2b(digest_size=16)
            if head[:2] == b"\xff\xd8":
                if _hash_jpeg(f, h):
                    return "j" + h.hexdigest()
            elif head == _PNG_SIG and _hash_png(f, h):
                return "p" + h.hexdigest()
            h = hashlib.blake2b(digest_size=16)
            _hash_whole(f, h)
            return "f" + h.hexdigest()
    except OSError as exc:
        raise HashError(f"{os.fspath(path)}: cannot read for hashing: {exc.strerror or exc}") from None


def _edges(f: BinaryIO, start: int, end: int, h: hashlib.blake2b) -> None:
    length = max(0, end - start)
    h.update(struct.pack(">Q", length))
    f.seek(start)
    if length <= 2 * EDGE:
        h.update(f.read(length))
        return
    h.update(f.read(EDGE))
    f.seek(end - EDGE)
    h.update(f.read(EDGE))


def _hash_whole(f: BinaryIO, h: hashlib.blake2b) -> None:
    end = f.seek(0, os.SEEK_END)
    _edges(f, 0, end, h)


def _hash_jpeg(f: BinaryIO, h: hashlib.blake2b) -> bool:
    """False when the structure is not what we expect (the caller falls back to the whole file)."""
    size = f.seek(0, os.SEEK_END)
    pos = 2
    while pos + 4 <= size:
        f.seek(pos)
        marker = f.read(2)
        if len(marker) < 2 or marker[0] != 0xFF:
            return False
        code = marker[1]
        if code == 0xFF:  # fill byte
            pos += 1
            continue
        if code == 0xD9:  # EOI before any scan
            return False
        seglen_raw = f.read(2)
        if len(seglen_raw) < 2:
            return False
        seglen = struct.unpack(">H", seglen_raw)[0]
        if seglen < 2:
            return False
        is_metadata = 0xE0 <= code <= 0xEF or code == 0xFE
        if not is_metadata:
            h.update(marker)
            h.update(f.read(seglen - 2))
        if code == 0xDA:  # start of scan: entropy-coded data runs to the end (trailing data too)
            _edges(f, pos + 2 + seglen, size, h)
            return True
        pos += 2 + seglen
    return False


def _hash_png(f: BinaryIO, h: hashlib.blake2b) -> bool:
    size = f.seek(0, os.SEEK_END)
    pos = 8
    idat_start = idat_end = -1
    while pos + 12 <= size:
        f.seek(pos)
        length, ctype = struct.unpack(">I4s", f.read(8))
        if pos + 12 + length > size:
            return False
        if ctype == b"IDAT":
            if idat_start < 0:
                idat_start = pos
            idat_end = pos + 12 + length
        elif ctype == b"IEND":
            break
        elif ctype not in _PNG_SKIP and not ctype[:1].islower():
            h.update(ctype)
            h.update(f.read(length))
        pos += 12 + length
    if idat_start < 0:
        return False
    _edges(f, idat_start, idat_end, h)
    return True
