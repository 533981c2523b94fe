"""TIFF structures (EXIF blobs and TIFF files): validate every IFD, rewrite IFD0 only.

IFD0 is rewritten by appending a new copy at the end and repointing the header, so that
nothing else in the blob moves: maker notes, strips, tiles and every other offset stay valid.
A copy that we appended before (it is last and laid out exactly as we lay it out) is replaced.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from autotagger.metadata.model import UnsafeToEmbed

TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4}
BYTE, ASCII, LONG, UNDEFINED = 1, 2, 4, 7
TAG_DESCRIPTION = 0x010E
TAG_XMP = 0x02BC
TAG_IPTC = 0x83BB
TAG_XPKEYWORDS = 0x9C9E
TAG_EXIF_IFD = 0x8769
TAG_GPS_IFD = 0x8825
TAG_INTEROP_IFD = 0xA005
TAG_MAKERNOTE = 0x927C
MAX_OFFSET = 0xFFFFFFFF
_SUB_IFDS = {TAG_EXIF_IFD: "EXIF", TAG_GPS_IFD: "GPS", TAG_INTEROP_IFD: "interoperability"}


@dataclass(frozen=True)
class Entry:
    tag: int
    type: int
    count: int
    raw: bytes  # the 4-byte value/offset field as stored
    data: bytes | None  # the value bytes (None for a type we do not know)
    offset: int | None  # where the value lives when not inline


class Tiff:
    def __init__(self, blob: bytes) -> None:
        if len(blob) < 8:
            raise UnsafeToEmbed("corrupt EXIF/TIFF header (too short)")
        order = blob[:2]
        if order == b"II":
            self.e = "<"
        elif order == b"MM":
            self.e = ">"
        else:
            raise UnsafeToEmbed("corrupt EXIF/TIFF header (no byte order)")
        magic = struct.unpack(self.e + "H", blob[2:4])[0]
        if magic == 43:
            raise UnsafeToEmbed("BigTIFF is not supported for embedding")
        if magic != 42:
            raise UnsafeToEmbed("corrupt EXIF/TIFF header (bad magic)")
        self.blob = blob
        self.ifd0 = struct.unpack(self.e + "I", blob[4:8])[0]

    def read_ifd(self, off: int, what: str = "IFD0") -> tuple[list[Entry], int]:
        b, e = self.blob, self.e
        if off < 8 or off + 2 > len(b):
            raise UnsafeToEmbed(f"corrupt EXIF: {what} offset out of range")
        n = struct.unpack(e + "H", b[off : off + 2])[0]
        end = off + 2 + 12 * n
        if end + 4 > len(b):
            raise UnsafeToEmbed(f"corrupt EXIF: {what} runs past the end")
        entries = []
        for i in range(n):
            p = off + 2 + 12 * i
            tag, typ, count = struct.unpack(e + "HHI", b[p : p + 8])
            raw = b[p + 8 : p + 12]
            size = TYPE_SIZES.get(typ)
            if size is None:
                entries.append(Entry(tag, typ, count, raw, None, None))
                continue
            total = size * count
            if total <= 4:
                entries.append(Entry(tag, typ, count, raw, raw[:total], None))
                continue
            voff = struct.unpack(e + "I", raw)[0]
            if voff + total > len(b):
                label = "maker note" if tag == TAG_MAKERNOTE else f"tag 0x{tag:04x} in {what}"
                raise UnsafeToEmbed(f"corrupt {label}: value points past the end of the EXIF data")
            entries.append(Entry(tag, typ, count, raw, b[voff : voff + total], voff))
        nxt = struct.unpack(e + "I", b[end : end + 4])[0]
        return entries, nxt

    def validate(self) -> None:
        """Walk IFD0, its chain and the EXIF/GPS/interop IFDs; raise on anything out of range."""
        seen: set[int] = set()
        todo = [(self.ifd0, "IFD0")]
        while todo:
            off, what = todo.pop()
            if off == 0 or off in seen:
                continue
            if len(seen) > 64:
                raise UnsafeToEmbed("corrupt EXIF: too many IFDs")
            seen.add(off)
            entries, nxt = self.read_ifd(off, what)
            for ent in entries:
                if ent.tag in _SUB_IFDS and ent.data is not None and ent.count == 1 and len(ent.data) == 4:
                    todo.append((struct.unpack(self.e + "I", ent.data)[0], _SUB_IFDS[ent.tag] + " IFD"))
            if nxt and what.startswith("IFD"):
                todo.append((nxt, f"IFD{len(seen)}"))

    def ifd0_entries(self) -> dict[int, Entry]:
        return {ent.tag: ent for ent in self.read_ifd(self.ifd0)[0]}

    def rewrite_ifd0(self, changes: dict[int, tuple[int, bytes] | None], *, replace_ours: bool = True) -> bytes:
        """A new blob where IFD0 has ``changes`` ({tag: (type, value bytes)} or None to delete).

        ``replace_ours=False``: append even where the last IFD0 looks like one we appended, so that
        no byte of the blob is overwritten (a caller that cannot tell ours from the original's)."""
        entries, nxt = self.read_ifd(self.ifd0)
        by_tag = {ent.tag: ent for ent in entries}
        for tag, change in changes.items():
            if change is None:
                by_tag.pop(tag, None)
            else:
                typ, data = change
                by_tag[tag] = Entry(tag, typ, len(data) // TYPE_SIZES[typ], b"", data, None)
        new_entries = [by_tag[t] for t in sorted(by_tag)]
        if replace_ours and self._ifd0_is_ours(entries):
            base = self.blob[: self.ifd0]
        else:
            base = self.blob + (b"\x00" if len(self.blob) & 1 else b"")
        size = 6 + 12 * len(new_entries) + sum(len(e.data) + 1 for e in new_entries if e.data and len(e.data) > 4)
        if len(base) + size > MAX_OFFSET:  # its offsets would not fit the 32-bit fields
            raise UnsafeToEmbed("file too large for a classic TIFF (over 4 GiB)")
        ifd = self._layout(new_entries, nxt, len(base))
        return base[:4] + struct.pack(self.e + "I", len(base)) + base[8:] + ifd

    def _layout(self, entries: list[Entry], nxt: int, start: int) -> bytes:
        e = self.e
        head = bytearray(struct.pack(e + "H", len(entries)))
        values = bytearray()
        vstart = start + 2 + 12 * len(entries) + 4
        for ent in entries:
            head += struct.pack(e + "HHI", ent.tag, ent.type, ent.count)
            if ent.data is None:
                head += ent.raw
            elif len(ent.data) <= 4:
                head += ent.data.ljust(4, b"\x00")
            else:
                head += struct.pack(e + "I", vstart + len(values))
                values += ent.data
                if len(values) & 1:
                    values += b"\x00"
        head += struct.pack(e + "I", nxt)
        return bytes(head + values)

    def _ifd0_is_ours(self, entries: list[Entry]) -> bool:
        if self.ifd0 < 8 or any(ent.data is None for ent in entries):
            return False
        _, nxt = self.read_ifd(self.ifd0)
        again = self._layout(entries, nxt, self.ifd0)
        return self.blob[self.ifd0 :] == again


def ascii_value(text: str) -> bytes:
    return text.encode("utf-8") + b"\x00"


def decode_ascii(data: bytes) -> str:
    """UTF-8 (as MWG asks) where it decodes, else Latin-1 (older cameras and Windows tools)."""
    text = data.split(b"\x00", 1)[0]
    try:
        return text.decode("utf-8")
    except UnicodeDecodeError:
        return text.decode("latin-1")


def xp_value(text: str) -> bytes:
    return text.encode("utf-16-le") + b"\x00\x00"


def decode_xp(data: bytes) -> str:
    text = data.decode("utf-16-le", "replace")
    return text.split("\x00", 1)[0]


def minimal_tiff(little_endian: bool = True) -> bytes:
    """An EXIF blob with an empty IFD0, to be filled by rewrite_ifd0."""
    if little_endian:
        return b"II*\x00" + struct.pack("<I", 8) + b"\x00\x00" + b"\x00\x00\x00\x00"
    return b"MM\x00*" + struct.pack(">I", 8) + b"\x00\x00" + b"\x00\x00\x00\x00"
