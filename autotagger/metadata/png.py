"""PNG: XMP in an iTXt chunk "XML:com.adobe.xmp", EXIF in eXIf; image chunks copied byte for byte.

ImageMagick and GraphicsMagick keep XMP hex-encoded in a text chunk "Raw profile type xmp" instead.
We read it as the file's XMP and write its successor as the one standard packet: two packets would
make readers disagree (exiftool shows the later one, exiv2 the first).
"""

from __future__ import annotations

import struct
import zlib

from autotagger.metadata.merge import DC_DESCRIPTION, DC_SUBJECT, LR_HIERARCHICAL
from autotagger.metadata.model import NS_AUTOTAGGER, UnsafeToEmbed
from autotagger.metadata.parts import Parts, exif_update, xmp_exif_parts
from autotagger.metadata.xmp import NS_RDF, XmpDoc

SIGNATURE = b"\x89PNG\r\n\x1a\n"
XMP_KEY = b"XML:com.adobe.xmp"
RAW_XMP_KEY = b"Raw profile type xmp"
TEXT_CHUNKS = (b"tEXt", b"zTXt", b"iTXt")
# what merging may take out of a packet; everything else in it belongs to someone else
OUR_FIELDS = (DC_DESCRIPTION, DC_SUBJECT, LR_HIERARCHICAL)

Chunk = tuple[bytes, bytes]


def _chunks(data: bytes) -> tuple[list[Chunk], bytes]:
    """([(type, body)] up to IEND, the bytes after IEND, kept as they are)."""
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
    return out, data[pos:]


def _inflate(text: bytes, what: str) -> bytes:
    try:
        return zlib.decompress(text)
    except zlib.error:
        raise UnsafeToEmbed(f"corrupt PNG: {what} chunk does not decompress") from None


def _keyword(ctype: bytes, body: bytes) -> bytes | None:
    return body.split(b"\x00", 1)[0] if ctype in TEXT_CHUNKS else None


def _text(ctype: bytes, body: bytes, what: str) -> bytes:
    """The (decompressed) text of a tEXt, zTXt or iTXt chunk."""
    rest = body.split(b"\x00", 1)[1]
    if ctype == b"tEXt":
        return rest
    if ctype == b"zTXt":
        return _inflate(rest[1:], what)
    compressed, rest = rest[0], rest[2:]
    _lang, rest = rest.split(b"\x00", 1)
    _translated, text = rest.split(b"\x00", 1)
    return _inflate(text, what) if compressed else text


def _xmp_of(body: bytes) -> bytes | None:
    """The XMP text of an iTXt chunk, or None when it is another iTXt."""
    if _keyword(b"iTXt", body) != XMP_KEY:
        return None
    return _text(b"iTXt", body, "XMP")


def _raw_xmp_of(ctype: bytes, body: bytes) -> bytes | None:
    """The XMP of an ImageMagick "Raw profile type xmp" chunk ("\\nxmp\\n  <len>\\n<hex lines>"), or
    None when it is another chunk. A profile we cannot decode exactly is refused: merging into a
    guess could lose the person's values."""
    if _keyword(ctype, body) != RAW_XMP_KEY:
        return None
    lines = _text(ctype, body, "raw XMP profile").lstrip(b"\n").split(b"\n", 2)
    try:
        _name, length, hexed = lines
        xmp = bytes.fromhex(hexed.decode("ascii"))
        if len(xmp) != int(length):
            raise ValueError("length differs")
    except ValueError:
        raise UnsafeToEmbed("PNG raw XMP profile (ImageMagick) cannot be decoded") from None
    return xmp


def _existing_xmp(chunks: list[Chunk]) -> tuple[bytes | None, int | None]:
    """(the file's XMP, index of the raw-profile chunk it came from or None). A raw profile next to
    a standard packet is refused: readers disagree on which one they show, so no merge is right."""
    standard = [x for t, b in chunks if t == b"iTXt" and (x := _xmp_of(b)) is not None]
    raw = [(i, x) for i, (t, b) in enumerate(chunks) if (x := _raw_xmp_of(t, b)) is not None]
    if raw and (standard or len(raw) > 1):
        raise UnsafeToEmbed("PNG holds more than one XMP packet (ImageMagick raw profile and another)")
    if raw:
        return raw[0][1], raw[0][0]
    return (standard[0] if standard else None), None


def _properties(doc: XmpDoc) -> set[str]:
    """The names of the top-level properties of a packet (rdf:about and the like are not)."""
    rdf = f"{{{NS_RDF}}}"
    return {n for d in doc.descriptions() for n in [*(c.tag for c in d), *d.attrib] if not n.startswith(rdf)}


def _check_carried(old: bytes, new: bytes | None) -> None:
    """Before the raw profile is dropped: everything in it but our fields must be in the new packet."""
    theirs = {n for n in _properties(XmpDoc.parse(old)) if n not in OUR_FIELDS and NS_AUTOTAGGER not in n}
    if theirs - (_properties(XmpDoc.parse(new)) if new else set()):
        raise UnsafeToEmbed("internal check failed (the raw XMP profile's values are not all kept)")


def _xmp_chunk(xmp: bytes) -> Chunk:
    return b"iTXt", XMP_KEY + b"\x00\x00\x00\x00\x00" + xmp


def read(data: bytes) -> Parts:
    chunks, _tail = _chunks(data)
    xmp, _raw_at = _existing_xmp(chunks)
    return xmp_exif_parts(xmp, next((b for t, b in chunks if t == b"eXIf"), None))


def write(data: bytes, parts: Parts) -> bytes:
    """The file with ``parts``; the first XMP chunk (standard or raw profile) is replaced in place,
    later standard ones we did not read are kept, and so are all other chunks and the tail."""
    chunks, tail = _chunks(data)
    old_xmp, raw_at = _existing_xmp(chunks)
    if raw_at is not None:
        assert old_xmp is not None
        _check_carried(old_xmp, parts.xmp)
    old_exif = next((b for t, b in chunks if t == b"eXIf"), None)
    prefix = b""
    if old_exif is not None and old_exif.startswith(b"Exif\x00\x00"):
        prefix, old_exif = old_exif[:6], old_exif[6:]
    exif = exif_update(old_exif, parts.description, parts.xpkeywords)
    new: list[Chunk] = []
    pending = [c for c in ((b"eXIf", None if exif is None else prefix + exif),) if c[1] is not None]
    xmp_pending = parts.xmp is not None
    xmp_seen = False
    for i, (ctype, body) in enumerate(chunks):
        if not xmp_seen and (i == raw_at or (raw_at is None and ctype == b"iTXt" and _xmp_of(body) is not None)):
            xmp_seen = True
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
    return bytes(out) + tail
