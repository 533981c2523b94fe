"""JPEG: APP1 Exif, APP1 XMP and APP13 Photoshop/IPTC segments; the scan data is copied as is.

Extended XMP (the part of a packet over 64 KB, in APP1 segments of its own) is read but never
rewritten: its GUID is the MD5 of its bytes, which the main packet names and which stays true.
"""

from __future__ import annotations

import struct

from autotagger.metadata import iptc as iptcmod
from autotagger.metadata.model import UnsafeToEmbed
from autotagger.metadata.parts import Parts, exif_fields, exif_update, validate_exif

EXIF_ID = b"Exif\x00\x00"
XMP_ID = b"http://ns.adobe.com/xap/1.0/\x00"
PS_ID = b"Photoshop 3.0\x00"
EXT_XMP_ID = b"http://ns.adobe.com/xmp/extension/\x00"
MAX_PAYLOAD = 65533
APP0, APP1, APP13, SOS = 0xE0, 0xE1, 0xED, 0xDA


def _segments(data: bytes) -> tuple[list[tuple[int, bytes]], bytes]:
    """([(marker, payload)], rest from the SOS marker on)."""
    if data[:2] != b"\xff\xd8":
        raise UnsafeToEmbed("not a JPEG file")
    pos = 2
    segs: list[tuple[int, bytes]] = []
    while True:
        if pos + 4 > len(data) or data[pos] != 0xFF:
            raise UnsafeToEmbed("corrupt JPEG: bad segment structure before the image data")
        while data[pos + 1] == 0xFF and pos + 2 < len(data):  # fill bytes
            pos += 1
        marker = data[pos + 1]
        if marker in (SOS, 0xD9):
            return segs, data[pos:]
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            segs.append((marker, b""))
            pos += 2
            continue
        size = struct.unpack(">H", data[pos + 2 : pos + 4])[0]
        if size < 2 or pos + 2 + size > len(data):
            raise UnsafeToEmbed("corrupt JPEG: segment length past the end of the file")
        segs.append((marker, data[pos + 4 : pos + 2 + size]))
        pos += 2 + size


def _find(segs: list[tuple[int, bytes]], marker: int, prefix: bytes) -> list[int]:
    return [i for i, (m, p) in enumerate(segs) if m == marker and p.startswith(prefix)]


def _extended_xmp(segs: list[tuple[int, bytes]], main: bytes | None) -> bytes | None:
    """The extended XMP the main packet names (xmpNote:HasExtendedXMP), put together from its
    chunks (GUID, full length, offset, data); None where there is none or it is incomplete, as
    readers then ignore it too."""
    if not main:
        return None
    chunks: dict[bytes, list[tuple[int, int, bytes]]] = {}
    for marker, payload in segs:
        body = payload[len(EXT_XMP_ID) :]
        if marker == APP1 and payload.startswith(EXT_XMP_ID) and len(body) >= 40:
            total, offset = struct.unpack(">II", body[32:40])
            chunks.setdefault(body[:32], []).append((total, offset, body[40:]))
    for guid, pieces in chunks.items():
        if guid not in main:
            continue
        total = pieces[0][0]
        buf, have = bytearray(total), 0
        for size, offset, piece in pieces:
            if size != total or offset + len(piece) > total:
                return None
            buf[offset : offset + len(piece)] = piece
            have += len(piece)
        return bytes(buf) if have == total else None
    return None


def read(data: bytes) -> Parts:
    segs, _ = _segments(data)
    exif_i, xmp_i, ps_i = _find(segs, APP1, EXIF_ID), _find(segs, APP1, XMP_ID), _find(segs, APP13, PS_ID)
    exif = segs[exif_i[0]][1][len(EXIF_ID) :] if exif_i else None
    validate_exif(exif)
    desc, xp = exif_fields(exif)
    iim = None
    if ps_i:
        irb = b"".join(segs[i][1][len(PS_ID) :] for i in ps_i)
        iim = iptcmod.irb_get_iptc(iptcmod.parse_irb(irb))
    xmp = segs[xmp_i[0]][1][len(XMP_ID) :] if xmp_i else None
    return Parts(xmp, iim, desc, xp, supports_iptc=True, supports_exif=True, extended_xmp=_extended_xmp(segs, xmp))


def write(data: bytes, parts: Parts) -> bytes:
    segs, rest = _segments(data)
    exif_i, xmp_i, ps_i = _find(segs, APP1, EXIF_ID), _find(segs, APP1, XMP_ID), _find(segs, APP13, PS_ID)
    new: list[tuple[int, bytes] | None] = list(segs)

    old_exif = segs[exif_i[0]][1][len(EXIF_ID) :] if exif_i else None
    exif = exif_update(old_exif, parts.description, parts.xpkeywords)
    exif_seg = None if exif is None else (APP1, EXIF_ID + exif)
    xmp_seg = None if parts.xmp is None else (APP1, XMP_ID + parts.xmp)
    ps_seg = None
    if ps_i or parts.iptc is not None:
        irb = b"".join(segs[i][1][len(PS_ID) :] for i in ps_i)
        resources = iptcmod.irb_set_iptc(iptcmod.parse_irb(irb), parts.iptc)
        ps_seg = (APP13, PS_ID + iptcmod.build_irb(resources)) if resources else None

    for seg in (exif_seg, xmp_seg, ps_seg):
        if seg is not None and len(seg[1]) > MAX_PAYLOAD:
            raise UnsafeToEmbed("metadata too large for a JPEG segment")

    # Replace the first occurrence in place (the one read() reads), insert what is new. Photoshop
    # APP13 segments are pieces of one IRB, read joined: the rebuilt IRB replaces all of them. A later
    # Exif or standard XMP APP1 (extended XMP has its own ID and is never touched) is a separate
    # block we did not write and did not read, so it is copied as it is: dropping it loses someone's
    # data. Which XMP packet readers show is already ambiguous in such a file (exiv2 reads only the
    # first; exiftool reads all, later values winning unless -a), so we cannot merge them all into
    # one; we update the first, as we read it, and leave the others untouched.
    insert_at = 0
    while insert_at < len(segs) and segs[insert_at][0] in (APP0, APP1):
        insert_at += 1
    tail_inserts: list[tuple[int, bytes]] = []
    for idx, seg, pieces in ((exif_i, exif_seg, False), (xmp_i, xmp_seg, False), (ps_i, ps_seg, True)):
        if idx:
            new[idx[0]] = seg
            for j in idx[1:] if pieces else ():
                new[j] = None
        elif seg is not None:
            tail_inserts.append(seg)
    out_segs: list[tuple[int, bytes]] = []
    for i, seg in enumerate(new):
        if i == insert_at:
            out_segs.extend(tail_inserts)
        if seg is not None:
            out_segs.append(seg)
    if insert_at >= len(new):
        out_segs.extend(tail_inserts)

    out = bytearray(b"\xff\xd8")
    for marker, payload in out_segs:
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            out += bytes((0xFF, marker))
        else:
            out += bytes((0xFF, marker)) + struct.pack(">H", len(payload) + 2) + payload
    out += rest
    return bytes(out)
