"""DNG: a TIFF whose IFD0 has DNGVersion. Lightroom Classic (and Bridge/ACR, Capture One, Photo
Mechanic) read a DNG's metadata only from the file itself, the XMP in IFD0 (tag 700), never from a
sidecar; Lightroom writes its keywords there too. So DNG is embedded as TIFF is (see tiff), with more
care, as it is a photographer's original RAW:

* Only a file whose IFD0 has DNGVersion, with no tag twice in IFD0 (one would be lost). BigTIFF is
  refused (tiffifd).
* Every directory (IFD0's chain, SubIFDs, where Adobe's converter keeps the raw image, the EXIF, GPS
  and interoperability IFDs) and every strip, tile and JPEG thumbnail must lie inside the file: a
  damaged or cut-off file is refused, never patched (our IFD0 at its end would hide the damage).
* No byte of the file as it was before our first write is ever overwritten. The new IFD0 is appended
  (after a pad byte where the length is odd) and the header's IFD0 pointer (bytes 4 to 8) is the
  only original byte that changes; a later write or undo replaces only an IFD0 we appended: one laid
  out as we lay it out, at the very end, and holding our XMP namespace. (An original IFD0 can be
  last and laid out exactly as ours, as in small converters' files, and must then be kept.) After
  an undo our appended IFD0 no longer says so, and the next write appends another one.

SubIFDs, the EXIF IFD, DNGPrivateData (the maker notes) and every other IFD0 entry keep their values
and their offsets, so the raw image and everything that points into it stays valid.
"""

from __future__ import annotations

import struct

from autotagger.metadata import tiff
from autotagger.metadata.model import NS_AUTOTAGGER, UnsafeToEmbed
from autotagger.metadata.parts import Parts
from autotagger.metadata.tiffifd import TAG_XMP, Entry, Tiff

TAG_SUB_IFDS = 330
TAG_DNG_VERSION = 50706
_DIRECTORIES = {TAG_SUB_IFDS: "SubIFD", 0x8769: "EXIF IFD", 0x8825: "GPS IFD", 0xA005: "interoperability IFD"}
_DATA = ((273, 279, "strip"), (324, 325, "tile"), (513, 514, "JPEG thumbnail"))  # (offsets, byte counts)
_MAX_IFDS = 256
_OUR_NAMESPACE = NS_AUTOTAGGER.encode()


def is_dng(data: bytes) -> bool:
    """Whether ``data`` is a TIFF whose IFD0 has DNGVersion (a DNG by content, whatever its name)."""
    try:
        return TAG_DNG_VERSION in Tiff(data).ifd0_entries()
    except (UnsafeToEmbed, struct.error):
        return False


def read(data: bytes) -> Parts:
    check(data)
    return tiff.read(data)


def write(data: bytes, parts: Parts) -> bytes:
    t = check(data)
    xmp = t.ifd0_entries().get(TAG_XMP)
    ours = xmp is not None and xmp.data is not None and _OUR_NAMESPACE in xmp.data
    return tiff.write(data, parts, replace_ours=ours)


def check(data: bytes) -> Tiff:
    """The file as a Tiff, or UnsafeToEmbed saying why it is not a DNG we may write."""
    t = Tiff(data)
    t.validate()
    entries, _ = t.read_ifd(t.ifd0)
    tags = [ent.tag for ent in entries]
    if TAG_DNG_VERSION not in tags:
        raise UnsafeToEmbed("not a DNG file (no DNGVersion in IFD0)")
    if len(set(tags)) != len(tags):
        raise UnsafeToEmbed("unusual DNG: a tag appears twice in IFD0")
    _walk(t)
    return t


def _walk(t: Tiff) -> None:
    """Read every directory the file has and check that the image data each one names is inside it."""
    seen: set[int] = set()
    todo = [(t.ifd0, "IFD0", True)]
    while todo:
        off, what, chained = todo.pop()
        if off == 0 or off in seen:
            continue
        if len(seen) >= _MAX_IFDS:
            raise UnsafeToEmbed("corrupt DNG: too many IFDs")
        seen.add(off)
        entries, nxt = t.read_ifd(off, what)
        by_tag = {ent.tag: ent for ent in entries}
        for ent in entries:
            if ent.tag in _DIRECTORIES:
                todo += [(sub, _DIRECTORIES[ent.tag], ent.tag == TAG_SUB_IFDS) for sub in _ints(t, ent, what)]
        for offsets_tag, counts_tag, label in _DATA:
            if offsets_tag in by_tag or counts_tag in by_tag:
                _check_data(t, by_tag, offsets_tag, counts_tag, f"{label} in {what}")
        if nxt and chained:
            todo.append((nxt, f"{what} chain", True))


def _check_data(t: Tiff, by_tag: dict[int, Entry], offsets_tag: int, counts_tag: int, what: str) -> None:
    offsets_ent, counts_ent = by_tag.get(offsets_tag), by_tag.get(counts_tag)
    if offsets_ent is None or counts_ent is None:
        raise UnsafeToEmbed(f"corrupt DNG: {what} without its offsets or byte counts")
    offsets, counts = _ints(t, offsets_ent, what), _ints(t, counts_ent, what)
    if len(offsets) != len(counts):
        raise UnsafeToEmbed(f"corrupt DNG: {what} offsets and byte counts do not match")
    if any(o + n > len(t.blob) for o, n in zip(offsets, counts, strict=True)):
        raise UnsafeToEmbed(f"corrupt or truncated DNG: {what} runs past the end of the file")


def _ints(t: Tiff, ent: Entry, what: str) -> list[int]:
    """An entry's SHORT, LONG or IFD values."""
    code = {3: "H", 4: "I", 13: "I"}.get(ent.type)
    if code is None or ent.data is None:
        raise UnsafeToEmbed(f"unusual DNG: tag {ent.tag} in {what} has type {ent.type}")
    return list(struct.unpack(f"{t.e}{ent.count}{code}", ent.data))
