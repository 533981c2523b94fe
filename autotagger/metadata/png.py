"""PNG: XMP in an iTXt chunk "XML:com.adobe.xmp", EXIF in eXIf; image chunks copied byte for byte."""

from __future__ import annotations

import struct
import zlib

from autotagger.metadata.model import UnsafeToEmbed
from autotagger.metadata.parts import Parts, exif_update, xmp_exif_parts

SIGNATURE = b"\x89PNG\r\n\x1a\n"
XMP_KEY = b"XML:com.adobe.xmp"


def _chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    if not data.startswith(SIGNATURE):
        raise UnsafeToEmbed("not a PNG file")
    pos, out = len(SIGNATURE), []
    while pos < len(data):
        if pos + 12 > len(data):
            raise UnsafeToEmbed("corrupt PNG: truncated chunk")
        size, ctype = struct.unpack(">I4s", data[pos : pos + 8])
        end = pos + 8 + size
        if end + 4 > len(data):
            raise UnsafeToEmbed("corrupt PNG: chunk past the end of the file")
        body = data[pos + 8 : end]
        if struct.unpack(">I", data[end : end + 4])[0] != zlib.crc32(ctype + body):
            raise UnsafeToEmbed(f"corrupt PNG: bad CRC in {ctype.decode('latin-1')} chunk")
        out.append((ctype, body))
        pos = end + 4
        if ctype == b"IEND":
            break
    if not out or out[0][0] != b"IHDR" or out[-1][0] != b"IEND":
        raise UnsafeToEmbed("corrupt PNG: missing IHDR or IEND")
    return out


def _xmp_of(body: bytes) -> bytes | None:
    """The XMP text of an iTXt chunk, or None when it is another iTXt."""
    if not body.startswith(XMP_KEY + b"\x00"):
        return None
    rest = body[len(XMP_KEY) + 1 :]
    compressed = rest[0]
    rest = rest[2:]
    _lang, rest = rest.split(b"\x00", 1)
    _translated, text = rest.split(b"\x00", 1)
    if compressed:
        try:
            return zlib.decompress(text)
        except zlib.error:
            raise UnsafeToEmbed("corrupt PNG: XMP chunk does not decompress") from None
    return text


def _xmp_chunk(xmp: bytes) -> tuple[bytes, bytes]:
    return b"iTXt", XMP_KEY + b"\x00\x00\x00\x00\x00" + xmp


def read(data: bytes) -> Parts:
    chunks = _chunks(data)
    xmp = next((x for t, b in chunks if t == b"iTXt" and (x := _xmp_of(b)) is not None), None)
    return xmp_exif_parts(xmp, next((b for t, b in chunks if t == b"eXIf"), None))


def write(data: bytes, parts: Parts) -> bytes:
    chunks = _chunks(data)
    old_exif = next((b for t, b in chunks if t == b"eXIf"), None)
    prefix = b""
    if old_exif is not None and old_exif.startswith(b"Exif\x00\x00"):
        prefix, old_exif = old_exif[:6], old_exif[6:]
    exif = exif_update(old_exif, parts.description, parts.xpkeywords)
    new: list[tuple[bytes, bytes]] = []
    pending = [c for c in ((b"eXIf", None if exif is None else prefix + exif),) if c[1] is not None]
    xmp_pending = parts.xmp is not None
    for ctype, body in chunks:
        if ctype == b"iTXt" and _xmp_of(body) is not None:
            if xmp_pending and parts.xmp is not None:
                new.append(_xmp_chunk(parts.xmp))
                xmp_pending = False
            continue
        if ctype == b"eXIf":
            if pending:
                new.append((b"eXIf", pending.pop()[1] or b""))
            continue
        if ctype in (b"IDAT", b"IEND", b"acTL", b"fcTL"):  # metadata goes before the image data
            for _, exif_body in pending:
                new.append((b"eXIf", exif_body or b""))
            pending = []
            if xmp_pending and parts.xmp is not None:
                new.append(_xmp_chunk(parts.xmp))
                xmp_pending = False
        new.append((ctype, body))
    out = bytearray(SIGNATURE)
    for ctype, body in new:
        out += struct.pack(">I", len(body)) + ctype + body + struct.pack(">I", zlib.crc32(ctype + body))
    return bytes(out)
