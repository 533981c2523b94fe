"""IPTC-IIM datasets and the Photoshop image resource blocks (8BIM) that carry them."""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass

from autotagger.metadata.model import UnsafeToEmbed

UTF8_MARKER = b"\x1b%G"
CODED_CHARSET = (1, 90)
RECORD_VERSION = (2, 0)
KEYWORDS = (2, 25)
CAPTION = (2, 120)
IRB_IPTC = 0x0404
IRB_IPTC_DIGEST = 0x0425
_IRB_SIGNATURES = (b"8BIM", b"PHUT", b"AgHg", b"DCSR", b"MeSa")


class Iim:
    """An ordered list of (record, dataset, value) with text access in UTF-8."""

    def __init__(self, datasets: list[tuple[int, int, bytes]]) -> None:
        self.datasets = datasets

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
        iim._to_utf8()
        return iim

    def _to_utf8(self) -> None:
        """Without the UTF-8 marker old text is Latin-1; transcode it so that the marker is true."""
        if self.get_raw(*CODED_CHARSET) or not self.datasets:
            return
        fixed = []
        for rec, ds, value in self.datasets:
            if rec == 2 and ds != 0 and any(b >= 0x80 for b in value):
                try:
                    value.decode("utf-8")
                except UnicodeDecodeError:
                    value = value.decode("latin-1").encode("utf-8")
            fixed.append((rec, ds, value))
        self.datasets = fixed

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
        if not self.get_raw(*CODED_CHARSET):
            self.datasets.insert(0, (*CODED_CHARSET, UTF8_MARKER))
        elif self.get_raw(*CODED_CHARSET) != UTF8_MARKER:
            self.datasets = [d for d in self.datasets if d[:2] != CODED_CHARSET]
            self.datasets.insert(0, (*CODED_CHARSET, UTF8_MARKER))
        if any(d[0] == 2 for d in self.datasets) and not self.get_raw(*RECORD_VERSION):
            self.datasets.append((*RECORD_VERSION, b"\x00\x04"))

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
    """Replace (or add, or with None remove) the IPTC resource; keep an existing digest truthful."""
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
