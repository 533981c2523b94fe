"""IPTC-IIM datasets and the Photoshop image resource blocks (8BIM) that carry them."""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass

from autotagger.metadata.model import UnsafeToEmbed

UTF8_MARKER = b"\x1b%G"
LATIN1_MARKERS = (b"\x1b.A", b"\x1b-A")  # ISO 8859-1 designated as G2 (seen in DAMs) or as G1
CODED_CHARSET = (1, 90)
RECORD_VERSION = (2, 0)
KEYWORDS = (2, 25)
CAPTION = (2, 120)
# IIM's maximum sizes in bytes: exiftool warns past them, and strict readers cut or refuse the value
KEYWORD_LIMIT = 64
CAPTION_LIMIT = 2000
_BINARY_DATASETS = {(2, 0), (2, 200), (2, 201), (2, 202)}  # record version, object preview
IRB_IPTC = 0x0404
IRB_IPTC_DIGEST = 0x0425
_IRB_SIGNATURES = (b"8BIM", b"PHUT", b"AgHg", b"DCSR", b"MeSa")


class Iim:
    """An ordered list of (record, dataset, value) with text access in UTF-8."""

    def __init__(self, datasets: list[tuple[int, int, bytes]]) -> None:
        self.datasets = datasets
        self.charset_known = True  # False: parsed text in a charset we cannot transcode

    @classmethod
    def parse(cls, data: bytes) -> Iim:
        out: list[tuple[int, int, bytes]] = []
        pos = 0
        while pos < len(data):
            if data[pos] != 0x1C:
                if data[pos:].strip(b"\x00"):
                    raise UnsafeToEmbed("corrupt IPTC data (bad tag marker)")
                break
            if pos + 5 > len(data):
                raise UnsafeToEmbed("corrupt IPTC data (truncated)")
            rec, ds, size = data[pos + 1], data[pos + 2], struct.unpack(">H", data[pos + 3 : pos + 5])[0]
            pos += 5
            if size & 0x8000:
                n = size & 0x7FFF
                if n > 4 or pos + n > len(data):
                    raise UnsafeToEmbed("corrupt IPTC data (bad extended length)")
                size = int.from_bytes(data[pos : pos + n], "big")
                pos += n
            if pos + size > len(data):
                raise UnsafeToEmbed("corrupt IPTC data (value past the end)")
            out.append((rec, ds, data[pos : pos + size]))
            pos += size
        iim = cls(out)
        iim.charset_known = iim._to_utf8()
        return iim

    def _to_utf8(self) -> bool:
        """Transcode the text to UTF-8 from the charset the marker declares, so that the UTF-8
        marker we write is true. Without a marker old text is UTF-8 where it decodes, else Latin-1.
        False (and nothing touched) for a charset we cannot read: that text is not ours to relabel.
        The charset also covers records 3-6, which mix text and binary: non-ASCII there is not read."""
        marker = self.get_raw(*CODED_CHARSET)
        if marker == UTF8_MARKER:
            return True
        if marker and marker not in LATIN1_MARKERS:
            return False
        if any(3 <= r <= 6 and not v.isascii() for r, _, v in self.datasets):
            return False
        self.datasets = [(r, d, _latin1_to_utf8(v, try_utf8=not marker) if _is_text(r, d) else v)
                         for r, d, v in self.datasets]
        return True

    def serialize(self) -> bytes:
        self._ensure_header()
        out = bytearray()
        for rec, ds, value in sorted(self.datasets, key=lambda d: d[0]):  # stable: record order only
            out += bytes((0x1C, rec, ds))
            if len(value) < 0x8000:
                out += struct.pack(">H", len(value))
            else:
                out += struct.pack(">HI", 0x8004, len(value))
            out += value
        return bytes(out)

    def _ensure_header(self) -> None:
        """All text is UTF-8 by now: say so where a marker is or where some text is not ASCII
        (ASCII alone reads the same in every charset and needs none)."""
        marker = self.get_raw(*CODED_CHARSET)
        if (marker or not self.is_ascii()) and marker != UTF8_MARKER:
            self.datasets = [d for d in self.datasets if d[:2] != CODED_CHARSET]
            self.datasets.insert(0, (*CODED_CHARSET, UTF8_MARKER))
        if any(d[0] == 2 for d in self.datasets) and not self.get_raw(*RECORD_VERSION):
            # first in record 2, as IIM and exiftool have it: appended, it ended up before the keywords
            # that a re-run takes out and puts back, and a re-run of the same record changed the file
            first = next(i for i, d in enumerate(self.datasets) if d[0] == 2)
            self.datasets.insert(first, (*RECORD_VERSION, b"\x00\x04"))

    def is_ascii(self) -> bool:
        return all(v.isascii() for r, d, v in self.datasets if _is_text(r, d))

    def drop_marker_if_ascii(self) -> None:
        """Take away a charset marker that only ASCII text is left under (undo of one we added)."""
        if self.is_ascii():
            self.datasets = [d for d in self.datasets if d[:2] != CODED_CHARSET]

    def get_raw(self, rec: int, ds: int) -> bytes:
        return next((v for r, d, v in self.datasets if (r, d) == (rec, ds)), b"")

    def get_texts(self, key: tuple[int, int]) -> list[str]:
        return [v.decode("utf-8", "replace") for r, d, v in self.datasets if (r, d) == key]

    def set_texts(self, key: tuple[int, int], values: list[str]) -> None:
        """Replace all datasets ``key`` with ``values``, where the first of them was."""
        idx = next((i for i, (r, d, _) in enumerate(self.datasets) if (r, d) == key), None)
        rest = [x for x in self.datasets if x[:2] != key]
        new = [(*key, v.encode("utf-8")) for v in values]
        if idx is None:
            rest.extend(new)
        else:
            rest[idx:idx] = new
        self.datasets = rest

    def is_trivial(self) -> bool:
        """Only the envelope we add ourselves (charset, record version) is left."""
        return all(d[:2] in (CODED_CHARSET, RECORD_VERSION) for d in self.datasets)


def without_padding(data: bytes) -> bytes:
    """The IIM stream without the NULs after its last dataset: TIFF stores it as LONGs, so its
    writers pad it to a multiple of 4 bytes (a value's own trailing NULs are kept)."""
    pos = 0
    while pos + 5 <= len(data) and data[pos] == 0x1C:
        size = struct.unpack(">H", data[pos + 3 : pos + 5])[0]
        pos += 5
        if size & 0x8000:
            n = size & 0x7FFF
            size, pos = int.from_bytes(data[pos : pos + n], "big"), pos + n
        pos += size
    if pos >= len(data) or data[pos:].strip(b"\x00"):
        return data  # no padding, or a damaged stream: Iim.parse says what is wrong
    return data[:pos]


def padded(data: bytes) -> bytes:
    return data + b"\x00" * (-len(data) % 4)


def fit(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` bytes of UTF-8, never inside a character: the whole value
    stays in XMP (which has no limit), IPTC gets what IIM allows."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return data[:limit].decode("utf-8", "ignore")


def _is_text(rec: int, ds: int) -> bool:
    return rec == 2 and (rec, ds) not in _BINARY_DATASETS


def _latin1_to_utf8(value: bytes, try_utf8: bool) -> bytes:
    """``value`` (Latin-1, or with ``try_utf8`` UTF-8 where it decodes as such) in UTF-8."""
    if value.isascii():
        return value
    if try_utf8:
        try:
            value.decode("utf-8")
            return value
        except UnicodeDecodeError:
            pass
    return value.decode("latin-1").encode("utf-8")


@dataclass
class Resource:
    signature: bytes
    rid: int
    name: bytes  # the Pascal string as stored (length byte + text + pad)
    data: bytes


def parse_irb(data: bytes) -> list[Resource]:
    out: list[Resource] = []
    pos = 0
    while pos + 12 <= len(data):
        sig = data[pos : pos + 4]
        if sig not in _IRB_SIGNATURES:
            if data[pos:].strip(b"\x00"):
                raise UnsafeToEmbed("corrupt Photoshop resource block")
            break
        rid = struct.unpack(">H", data[pos + 4 : pos + 6])[0]
        nlen = data[pos + 6]
        nfield = nlen + 1 + ((nlen + 1) & 1)
        name = data[pos + 6 : pos + 6 + nfield]
        p = pos + 6 + nfield
        if p + 4 > len(data):
            raise UnsafeToEmbed("corrupt Photoshop resource block (truncated)")
        size = struct.unpack(">I", data[p : p + 4])[0]
        p += 4
        if p + size > len(data):
            raise UnsafeToEmbed("corrupt Photoshop resource block (value past the end)")
        out.append(Resource(sig, rid, name, data[p : p + size]))
        pos = p + size + (size & 1)
    return out


def build_irb(resources: list[Resource]) -> bytes:
    out = bytearray()
    for r in resources:
        out += r.signature + struct.pack(">H", r.rid) + r.name + struct.pack(">I", len(r.data)) + r.data
        if len(r.data) & 1:
            out += b"\x00"
    return bytes(out)


def irb_get_iptc(resources: list[Resource]) -> bytes | None:
    return next((r.data for r in resources if r.signature == b"8BIM" and r.rid == IRB_IPTC), None)


def irb_set_iptc(resources: list[Resource], iim: bytes | None) -> list[Resource]:
    """Replace (or add, or with None remove) the IPTC resource; keep an existing digest truthful.
    IPTC that does not change keeps every byte, its digest too (we did not touch what it covers)."""
    if iim is not None and irb_get_iptc(resources) == iim:
        return resources
    out: list[Resource] = []
    placed = False
    for r in resources:
        if r.signature == b"8BIM" and r.rid == IRB_IPTC:
            if iim is not None and not placed:
                out.append(Resource(r.signature, r.rid, r.name, iim))
                placed = True
            continue
        if r.signature == b"8BIM" and r.rid == IRB_IPTC_DIGEST:
            if iim is not None:
                out.append(Resource(r.signature, r.rid, r.name, hashlib.md5(iim).digest()))
            continue
        out.append(r)
    if iim is not None and not placed:
        out.append(Resource(b"8BIM", IRB_IPTC, b"\x00\x00", iim))
    return out
