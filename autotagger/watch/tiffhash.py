"""Where the pixels of a TIFF-based file are (TIFF, DNG, and camera RAW with a classic TIFF header such
as NEF, CR2, ARW or PEF), for the metadata-blind content hash (see hashing), read with a few small reads.

Walks IFD0's chain and every SubIFD (tag 330; a DNG keeps its raw image there, a NEF too), never the
EXIF, GPS or interoperability IFDs, and returns each full-resolution image: the values of the tags that
define its pixels and where its strips or tiles are. Everything a person or a tool edits (XMP, IPTC,
EXIF, ImageDescription, maker notes, orientation, develop settings) is left out, and so is where things
lie in the file: tools that add metadata rewrite or move IFD0 (we append a new one, exiftool rewrites
the whole file), and an image's strips are read in their own order wherever they are.

Reduced-resolution images (NewSubFileType bit 0, or the old SubfileType 2) are left out. The DNG
specification requires the flag on every preview and thumbnail and 0 on the raw image, and Lightroom
regenerates the IFD0 thumbnail and the preview SubIFD (and may add fast-load data, also flagged) when it
updates a DNG's metadata: their bytes change while the photo does not. Choosing "the largest image"
instead would pick a preview as large as the raw in some files, and drop the second page of a
multi-page TIFF (each page is content; an unflagged IFD counts, as in a plain TIFF). BigTIFF, ORF/RW2
(non-standard magic) and anything that does not parse give None: the caller hashes the whole file.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import BinaryIO

TAG_NEW_SUBFILE_TYPE = 254
TAG_SUBFILE_TYPE = 255
TAG_SUB_IFDS = 330
_DATA_TAGS = ((273, 279), (324, 325))  # (offsets, byte counts): strips, tiles
#: The tags that say how the bytes of the strips or tiles become pixels: size, bits, compression,
#: photometric, samples, rows per strip, planar, predictor, colour map, tile size, extra samples,
#: sample format, JPEG tables, and the DNG CFA layout (repeat, pattern, plane colours, layout).
PIXEL_TAGS = (256, 257, 258, 259, 262, 277, 278, 284, 317, 320, 322, 323, 338, 339, 347,
              33421, 33422, 50710, 50711)
_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4}
_INTS = {1: "B", 3: "H", 4: "I", 6: "b", 8: "h", 9: "i", 13: "I"}  # 13: IFD (an offset)
MAX_IFDS = 256
MAX_ENTRIES = 4096  # a real IFD has tens; more is garbage, not a TIFF we know
MAX_VALUE = 1 << 20  # bytes of one tag's value we read (strip offsets of a 1-row-per-strip image fit)


@dataclass(frozen=True)
class TiffImage:
    """One full-resolution image: its pixel-defining tags (canonical bytes, independent of byte order
    and of where the values lie) and its strips or tiles as (offset, length), in their order."""

    tags: bytes
    spans: tuple[tuple[int, int], ...]


class _Unparsable(Exception):
    pass


Entry = tuple[int, int, bytes]  # (type, count, the 4-byte value or offset field)


class _Reader:
    def __init__(self, f: BinaryIO, size: int, order: str) -> None:
        self.f, self.size, self.order = f, size, order

    def read(self, offset: int, n: int) -> bytes:
        if offset < 0 or n < 0 or offset + n > self.size:
            raise _Unparsable
        self.f.seek(offset)
        data = self.f.read(n)
        if len(data) != n:
            raise _Unparsable
        return data

    def ifd(self, offset: int) -> tuple[dict[int, Entry], int]:
        """(tag -> entry, the next IFD's offset); the first of a repeated tag wins."""
        (n,) = struct.unpack(self.order + "H", self.read(offset, 2))
        if n == 0 or n > MAX_ENTRIES:
            raise _Unparsable
        raw = self.read(offset + 2, 12 * n + 4)
        entries: dict[int, Entry] = {}
        for i in range(n):
            tag, typ, count = struct.unpack_from(self.order + "HHI", raw, 12 * i)
            entries.setdefault(tag, (typ, count, raw[12 * i + 8 : 12 * i + 12]))
        (nxt,) = struct.unpack_from(self.order + "I", raw, 12 * n)
        return entries, nxt

    def value(self, entry: Entry) -> bytes:
        typ, count, field = entry
        if typ not in _SIZES:
            raise _Unparsable
        n = _SIZES[typ] * count
        if n > MAX_VALUE:
            raise _Unparsable
        if n <= 4:
            return field[:n]
        (offset,) = struct.unpack(self.order + "I", field)
        return self.read(offset, n)

    def ints(self, entry: Entry) -> list[int]:
        typ, count, _ = entry
        if typ not in _INTS:
            raise _Unparsable
        return list(struct.unpack(f"{self.order}{count}{_INTS[typ]}", self.value(entry)))


def tiff_images(f: BinaryIO, size: int) -> list[TiffImage] | None:
    """The full-resolution images of a classic TIFF open as ``f`` (``size`` bytes), in the order of
    the file's directory tree; None when it is not one, has none, or anything is out of place."""
    f.seek(0)
    head = f.read(8)
    order = {b"II*\0": "<", b"MM\0*": ">"}.get(head[:4])
    if order is None or len(head) < 8:
        return None
    r = _Reader(f, size, order)
    try:
        images = _walk(r, struct.unpack(order + "I", head[4:8])[0])
    except (_Unparsable, struct.error):
        return None
    return images or None


def _walk(r: _Reader, ifd0: int) -> list[TiffImage]:
    images: list[TiffImage] = []
    seen: set[int] = set()
    todo = [ifd0]  # a stack: an IFD's SubIFDs come before the next IFD of its chain
    while todo:
        offset = todo.pop()
        if offset == 0 or offset in seen:
            continue
        if len(seen) >= MAX_IFDS:
            raise _Unparsable
        seen.add(offset)
        entries, nxt = r.ifd(offset)
        subs = r.ints(entries[TAG_SUB_IFDS]) if TAG_SUB_IFDS in entries else []
        todo += [nxt, *reversed(subs)]
        image = _image(r, entries)
        if image is not None:
            images.append(image)
    return images


def _image(r: _Reader, entries: dict[int, Entry]) -> TiffImage | None:
    """The IFD's image, or None when it has no strips or tiles or is a reduced-resolution one."""
    found = next(((o, c) for o, c in _DATA_TAGS if o in entries and c in entries), None)
    if found is None:
        return None
    kind = r.ints(entries[TAG_NEW_SUBFILE_TYPE])[:1] if TAG_NEW_SUBFILE_TYPE in entries else [0]
    old_kind = r.ints(entries[TAG_SUBFILE_TYPE])[:1] if TAG_SUBFILE_TYPE in entries else [1]
    if (kind and kind[0] & 1) or old_kind == [2]:
        return None
    offsets, counts = r.ints(entries[found[0]]), r.ints(entries[found[1]])
    if len(offsets) != len(counts) or not offsets:
        raise _Unparsable
    if any(o + c > r.size for o, c in zip(offsets, counts, strict=True)):
        raise _Unparsable  # cut off: the caller's whole-file hash still tells versions apart
    parts = [f"{found[0]}:{counts}".encode()]
    for tag in PIXEL_TAGS:
        if tag in entries:
            entry = entries[tag]
            value: object = r.ints(entry) if entry[0] in _INTS else r.value(entry)
            parts.append(f"{tag}/{entry[0] if entry[0] not in _INTS else 'i'}:{value!r}".encode())
    return TiffImage(b"\n".join(parts), tuple(zip(offsets, counts, strict=True)))
