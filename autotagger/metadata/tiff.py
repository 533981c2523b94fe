"""TIFF files: XMP (700), IPTC (33723), ImageDescription and XPKeywords live in IFD0.

IFD0 is rewritten at the end of the file (see tiffifd); strips, tiles and other IFDs stay put.
"""

from __future__ import annotations

from autotagger.metadata import iptc as iptcmod
from autotagger.metadata import tiffifd
from autotagger.metadata.parts import Parts
from autotagger.metadata.tiffifd import TAG_DESCRIPTION, TAG_IPTC, TAG_XMP, TAG_XPKEYWORDS, Tiff


def read(data: bytes) -> Parts:
    tiff = Tiff(data)
    tiff.validate()
    entries = tiff.ifd0_entries()

    def raw(tag: int) -> bytes | None:
        ent = entries.get(tag)
        return ent.data if ent is not None else None

    desc, xp, iptc = raw(TAG_DESCRIPTION), raw(TAG_XPKEYWORDS), raw(TAG_IPTC)
    return Parts(
        xmp=raw(TAG_XMP),
        iptc=None if iptc is None else iptcmod.without_padding(iptc),
        description=None if desc is None else tiffifd.decode_ascii(desc),
        xpkeywords=None if xp is None else tiffifd.decode_xp(xp),
        supports_iptc=True,
        supports_exif=True,
    )


def write(data: bytes, parts: Parts, *, replace_ours: bool = True) -> bytes:
    """``data`` with ``parts`` in IFD0 (``replace_ours``: see tiffifd.Tiff.rewrite_ifd0)."""
    old = read(data)
    changes: dict[int, tuple[int, bytes] | None] = {}
    if parts.xmp != old.xmp:
        changes[TAG_XMP] = None if parts.xmp is None else (tiffifd.BYTE, parts.xmp)
    if parts.iptc != old.iptc:
        # as LONGs, like Photoshop and exiftool: UNDEFINED makes exiftool -validate warn
        changes[TAG_IPTC] = None if parts.iptc is None else (tiffifd.LONG, iptcmod.padded(parts.iptc))
    if parts.description != old.description:
        d = parts.description
        changes[TAG_DESCRIPTION] = None if d is None else (tiffifd.ASCII, tiffifd.ascii_value(d))
    if parts.xpkeywords != old.xpkeywords:
        x = parts.xpkeywords
        changes[TAG_XPKEYWORDS] = None if x is None else (tiffifd.BYTE, tiffifd.xp_value(x))
    if not changes:
        return data
    return Tiff(data).rewrite_ifd0(changes, replace_ours=replace_ours)
