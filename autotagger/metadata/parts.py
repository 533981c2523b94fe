"""The metadata parts of one file that we edit, independent of the container format."""

from __future__ import annotations

from dataclasses import dataclass

from autotagger.metadata import tiffifd
from autotagger.metadata.tiffifd import TAG_DESCRIPTION, TAG_XPKEYWORDS, Tiff


@dataclass
class Parts:
    xmp: bytes | None = None  # the XMP packet
    iptc: bytes | None = None  # the IPTC-IIM stream
    description: str | None = None  # EXIF ImageDescription
    xpkeywords: str | None = None  # EXIF XPKeywords ("a;b")
    supports_iptc: bool = False
    supports_exif: bool = False
    extended_xmp: bytes | None = None  # JPEG extended XMP, reassembled (read only: never rewritten)


def exif_fields(blob: bytes | None) -> tuple[str | None, str | None]:
    """(ImageDescription, XPKeywords) of a validated EXIF/TIFF blob."""
    if not blob:
        return None, None
    entries = Tiff(blob).ifd0_entries()
    desc = entries.get(TAG_DESCRIPTION)
    xp = entries.get(TAG_XPKEYWORDS)
    return (
        tiffifd.decode_ascii(desc.data) if desc and desc.data is not None else None,
        tiffifd.decode_xp(xp.data) if xp and xp.data is not None else None,
    )


def xmp_exif_parts(xmp: bytes | None, exif: bytes | None) -> Parts:
    """The parts of a container that holds XMP and a raw EXIF blob but no IPTC (PNG, WebP). Some
    writers put the JPEG-style "Exif\\0\\0" header in front of the TIFF structure: it is skipped."""
    if exif is not None and exif.startswith(b"Exif\x00\x00"):
        exif = exif[6:]
    validate_exif(exif)
    desc, xp = exif_fields(exif)
    return Parts(xmp, None, desc, xp, supports_iptc=False, supports_exif=True)


def validate_exif(blob: bytes | None) -> None:
    if blob:
        Tiff(blob).validate()


def exif_update(blob: bytes | None, description: str | None, xpkeywords: str | None) -> bytes | None:
    """The blob with new ImageDescription/XPKeywords (None = remove); None when nothing is left.
    Only a field whose text changes is rewritten: the other keeps its exact bytes (a Latin-1
    ImageDescription, say, that a decode and re-encode as UTF-8 would change)."""
    old_desc, old_xp = exif_fields(blob)
    changes: dict[int, tuple[int, bytes] | None] = {}
    if description != old_desc:
        changes[TAG_DESCRIPTION] = None if description is None else (tiffifd.ASCII, tiffifd.ascii_value(description))
    if xpkeywords != old_xp:
        changes[TAG_XPKEYWORDS] = None if xpkeywords is None else (tiffifd.BYTE, tiffifd.xp_value(xpkeywords))
    if not changes:
        return blob
    tiff = Tiff(blob or tiffifd.minimal_tiff(little_endian=True))
    new = tiffifd.Tiff(tiff.rewrite_ifd0(changes))
    entries, nxt = new.read_ifd(new.ifd0)
    if not entries and not nxt:
        return None
    return new.blob
