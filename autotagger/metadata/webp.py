"""WebP: XMP and EXIF chunks of an extended (VP8X) file; simple files become VP8X, bitstream untouched.

A file that needs no VP8X any more (one VP8/VP8L chunk, no metadata, ICC, alpha chunk or animation)
is written in the simple form again, so that undo gives back the simple file we were given.
Bytes after the RIFF payload (data some tools append) are kept as they are.
"""

from __future__ import annotations

import struct

from autotagger.metadata.model import UnsafeToEmbed
from autotagger.metadata.parts import Parts, exif_update, xmp_exif_parts

FLAG_ICC, FLAG_ALPHA, FLAG_EXIF, FLAG_XMP, FLAG_ANIM = 0x20, 0x10, 0x08, 0x04, 0x02


def _chunks(data: bytes) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """([(type, body)] of the RIFF payload, the bytes after it)."""
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise UnsafeToEmbed("not a WebP file")
    riff_size = struct.unpack("<I", data[4:8])[0]
    end = min(len(data), 8 + riff_size)
    if 8 + riff_size > len(data):
        raise UnsafeToEmbed("corrupt WebP: RIFF size past the end of the file")
    pos, out = 12, []
    while pos + 8 <= end:
        ctype, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        if pos + 8 + size > end:
            raise UnsafeToEmbed(f"corrupt WebP: {ctype!r} chunk past the end")
        out.append((ctype, data[pos + 8 : pos + 8 + size]))
        pos += 8 + size + (size & 1)
    if not out:
        raise UnsafeToEmbed("corrupt WebP: no chunks")
    return out, data[end:]


def _canvas(chunks: list[tuple[bytes, bytes]]) -> tuple[int, int, bool]:
    """(width, height, has_alpha) of a simple VP8/VP8L file."""
    ctype, body = chunks[0]
    if ctype == b"VP8 " and len(body) >= 10 and body[3:6] == b"\x9d\x01\x2a":
        w, h = struct.unpack("<HH", body[6:10])
        return w & 0x3FFF, h & 0x3FFF, False
    if ctype == b"VP8L" and len(body) >= 5 and body[0] == 0x2F:
        bits = int.from_bytes(body[1:5], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1, bool((bits >> 28) & 1)
    raise UnsafeToEmbed("corrupt or unknown WebP bitstream header")


def _simple(chunks: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """The chunks without VP8X when it says nothing the bitstream does not say itself."""
    if len(chunks) != 2 or chunks[1][0] not in (b"VP8 ", b"VP8L"):
        return chunks
    header = chunks[0][1]
    try:
        w, h, alpha = _canvas(chunks[1:])
    except UnsafeToEmbed:  # a bitstream header we do not know: VP8X stays
        return chunks
    flags = FLAG_ALPHA if alpha else 0
    if header == bytes((flags, 0, 0, 0)) + (w - 1).to_bytes(3, "little") + (h - 1).to_bytes(3, "little"):
        return chunks[1:]
    return chunks


def read(data: bytes) -> Parts:
    chunks, _tail = _chunks(data)
    xmp = next((b for t, b in chunks if t == b"XMP "), None)
    return xmp_exif_parts(xmp, next((b for t, b in chunks if t == b"EXIF"), None))


def write(data: bytes, parts: Parts) -> bytes:
    chunks, tail = _chunks(data)
    if chunks[0][0] != b"VP8X":
        w, h, alpha = _canvas(chunks)
        vp8x = struct.pack("<I", FLAG_ALPHA if alpha else 0)[:4] + (w - 1).to_bytes(3, "little")
        chunks.insert(0, (b"VP8X", vp8x + (h - 1).to_bytes(3, "little")))
    old_exif = next((b for t, b in chunks if t == b"EXIF"), None)
    prefix = b""
    if old_exif is not None and old_exif.startswith(b"Exif\x00\x00"):
        prefix, old_exif = old_exif[:6], old_exif[6:]
    exif = exif_update(old_exif, parts.description, parts.xpkeywords)
    body = [(t, b) for t, b in chunks if t not in (b"EXIF", b"XMP ")]
    if exif is not None:
        body.append((b"EXIF", prefix + exif))
    if parts.xmp is not None:
        body.append((b"XMP ", parts.xmp))
    header = bytearray(body[0][1])
    if len(header) < 10:
        raise UnsafeToEmbed("corrupt WebP: short VP8X chunk")
    flags = header[0] & ~(FLAG_EXIF | FLAG_XMP)
    flags |= (FLAG_EXIF if exif is not None else 0) | (FLAG_XMP if parts.xmp is not None else 0)
    header[0] = flags
    body[0] = (b"VP8X", bytes(header))
    out = bytearray()
    for ctype, content in _simple(body):
        out += ctype + struct.pack("<I", len(content)) + content + (b"\x00" if len(content) & 1 else b"")
    return b"RIFF" + struct.pack("<I", len(out) + 4) + b"WEBP" + bytes(out) + tail
