"""A fast content hash that ignores metadata, so a file keeps its identity after we (or anyone) embed
XMP/IPTC/EXIF into it, and a moved or renamed file is recognised without running the model.

Each scheme has its own first letter, so a digest says how it was taken. JPEG ("j"): the non-metadata
segments (quantisation and Huffman tables, frame header, scan headers) plus the length and the first
and last 64 KiB of the entropy-coded image data. APPn and COM segments, where EXIF, XMP, IPTC, ICC and
maker notes live, are skipped. PNG ("p"): IHDR/PLTE plus the IDAT stream the same way; text, time and
EXIF chunks skipped. TIFF-based files ("t": TIFF, DNG, NEF, CR2, ARW...): each full-resolution image's
pixel-defining tags plus its strips or tiles taken the same way, wherever they lie (see tiffhash); we
write into TIFF and DNG, and so do Lightroom and exiftool. WebP ("w"): the image chunks (VP8, VP8L,
ALPH, ANIM, ANMF) the same way; VP8X (its flags say which metadata there is), EXIF, XMP and ICCP skipped.

Anything else, and any file whose structure is not what we expect ("f"): size + first and last 64 KiB
of the whole file. HEIC stays there: its pixels are items that the 'iloc' box places, a parser we do
not need for the hash, as the service records the hash taken after its own write (a foreign edit of a
HEIC file queues it again). Catalogues made before the "t" and "w" schemes hold "f" digests for TIFF,
DNG and WebP files: ``legacy_hash`` gives that digest, for the service to recognise such a file.
"""

from __future__ import annotations

import hashlib
import os
import struct
from collections.abc import Sequence
from typing import BinaryIO

from autotagger.watch.tiffhash import tiff_images

EDGE = 64 * 1024
LEGACY = "f"  # the whole-file scheme's prefix
#: The prefixes of the schemes that took over from it (TIFF-based, WebP): only a file hashed so can hold
#: the whole-file digest in a catalogue made before them (JPEG and PNG were always hashed as now).
SUCCESSORS = ("t", "w")
_PNG_SIG = b"\x89PNG\r\n\x1a\n"
_PNG_SKIP = {b"tEXt", b"iTXt", b"zTXt", b"eXIf", b"tIME", b"iCCP"}
_WEBP_IMAGE = {b"VP8 ", b"VP8L", b"ALPH", b"ANIM", b"ANMF"}
_WEBP_FRAMES = {b"VP8 ", b"VP8L", b"ANMF"}
#: Names of the files whose digest may be of the "t" or "w" scheme (a classic TIFF header, or WebP),
#: which catalogues made before those schemes hold as "f" (see ``legacy_hash``).
BLIND_SUFFIXES = (".tif", ".tiff", ".dng", ".webp", ".nef", ".nrw", ".cr2", ".arw", ".srf", ".sr2", ".pef")


class HashError(OSError):
    """The file could not be read to hash it (one-line message)."""


def content_hash(path: str | os.PathLike[str]) -> str:
    """Hex digest identifying the image data of ``path``; unchanged by metadata edits (JPEG, PNG, TIFF,
    DNG, WebP)."""
    try:
        with open(path, "rb") as f:
            head = f.read(12)
            f.seek(0)
            h = hashlib.blake2b(digest_size=16)
            if head[:2] == b"\xff\xd8":
                if _hash_jpeg(f, h):
                    return "j" + h.hexdigest()
            elif head[:8] == _PNG_SIG:
                if _hash_png(f, h):
                    return "p" + h.hexdigest()
            elif head[:4] in (b"II*\0", b"MM\0*"):
                if _hash_tiff(f, h):
                    return "t" + h.hexdigest()
            elif head[:4] == b"RIFF" and head[8:12] == b"WEBP" and _hash_webp(f, h):
                return "w" + h.hexdigest()
            h = hashlib.blake2b(digest_size=16)
            _hash_whole(f, h)
            return LEGACY + h.hexdigest()
    except OSError as exc:
        raise HashError(f"{os.fspath(path)}: cannot read for hashing: {exc.strerror or exc}") from None


def legacy_hash(path: str | os.PathLike[str]) -> str:
    """The whole-file digest (scheme "f"), which catalogues made before the TIFF and WebP schemes hold
    for those files: a record with one still describes the same unchanged file."""
    try:
        with open(path, "rb") as f:
            h = hashlib.blake2b(digest_size=16)
            _hash_whole(f, h)
            return LEGACY + h.hexdigest()
    except OSError as exc:
        raise HashError(f"{os.fspath(path)}: cannot read for hashing: {exc.strerror or exc}") from None


def _spans(f: BinaryIO, spans: Sequence[tuple[int, int]], h: hashlib.blake2b) -> None:
    """The length of the data in ``spans`` ((offset, length), in order, as if they were one run) and
    its first and last EDGE bytes (all of it when that is less): a few reads, whatever its size."""
    total = sum(n for _, n in spans)
    h.update(struct.pack(">Q", total))
    if total <= 2 * EDGE:
        _span_bytes(f, spans, 0, total, h)
    else:
        _span_bytes(f, spans, 0, EDGE, h)
        _span_bytes(f, spans, total - EDGE, total, h)


def _span_bytes(f: BinaryIO, spans: Sequence[tuple[int, int]], lo: int, hi: int, h: hashlib.blake2b) -> None:
    """Bytes ``lo`` to ``hi`` of the run that ``spans`` make."""
    at = 0
    for offset, n in spans:
        a, b = max(lo, at), min(hi, at + n)
        if a < b:
            f.seek(offset + a - at)
            h.update(f.read(b - a))
        at += n
        if at >= hi:
            return


def _edges(f: BinaryIO, start: int, end: int, h: hashlib.blake2b) -> None:
    _spans(f, [(start, max(0, end - start))], h)


def _hash_whole(f: BinaryIO, h: hashlib.blake2b) -> None:
    end = f.seek(0, os.SEEK_END)
    _edges(f, 0, end, h)


def _hash_tiff(f: BinaryIO, h: hashlib.blake2b) -> bool:
    images = tiff_images(f, f.seek(0, os.SEEK_END))
    if images is None:
        return False
    for image in images:
        h.update(struct.pack(">Q", len(image.tags)) + image.tags)
        _spans(f, image.spans, h)
    return True


def _hash_webp(f: BinaryIO, h: hashlib.blake2b) -> bool:
    """The image chunks' types and lengths, then their data as one run. Chunks past the RIFF size
    (bytes some tools append) are not the image."""
    size = f.seek(0, os.SEEK_END)
    f.seek(4)
    end = min(size, 8 + struct.unpack("<I", f.read(4))[0])
    pos, frames = 12, 0
    spans: list[tuple[int, int]] = []
    while pos + 8 <= end:
        f.seek(pos)
        ctype, length = struct.unpack("<4sI", f.read(8))
        if pos + 8 + length > end:
            return False
        if ctype in _WEBP_IMAGE:
            h.update(ctype + struct.pack(">Q", length))
            spans.append((pos + 8, length))
            frames += ctype in _WEBP_FRAMES
        pos += 8 + length + (length & 1)
    if not frames:
        return False
    _spans(f, spans, h)
    return True


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
