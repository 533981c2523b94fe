"""The building blocks: XMP parsing, IPTC envelope, TIFF IFD0 rewrite, HEIC refusal."""

from __future__ import annotations

import hashlib
import struct
from pathlib import Path

import pytest

from autotagger.metadata import UnsafeToEmbed, write_metadata
from autotagger.metadata import iptc as iptcmod
from autotagger.metadata.merge import DC_SUBJECT
from autotagger.metadata.parts import exif_fields, exif_update
from autotagger.metadata.xmp import XmpDoc
from tests.metadata.conftest import RECORD, make_image, temp_leftovers


def test_xmp_parses_bare_rdf_with_nul_padding_and_attributes() -> None:
    packet = (b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
              b'<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/" '
              b'xmlns:mine="http://example.com/mine/" mine:Flag="yes">'
              b"<dc:subject><rdf:Bag><rdf:li>a &amp; b</rdf:li></rdf:Bag></dc:subject>"
              b"</rdf:Description></rdf:RDF>\x00\x00\x00")
    doc = XmpDoc.parse(packet)
    assert doc.get_list(DC_SUBJECT) == ["a & b"]
    again = XmpDoc.parse(doc.serialize(padding=500))
    assert again.get_list(DC_SUBJECT) == ["a & b"]
    assert again.get_text("{http://example.com/mine/}Flag") == "yes"
    assert b'xmlns:mine="http://example.com/mine/"' in doc.serialize()


def test_xmp_garbage_is_refused() -> None:
    with pytest.raises(UnsafeToEmbed):
        XmpDoc.parse(b"<x:xmpmeta xmlns:x='adobe:ns:meta/'><unclosed>")


def test_iptc_latin1_becomes_utf8_and_digest_follows() -> None:
    raw = b"\x1c\x02\x19\x00\x04caf\xe9"  # Keywords "café" in Latin-1, no charset marker
    iim = iptcmod.Iim.parse(raw)
    assert iim.get_texts(iptcmod.KEYWORDS) == ["café"]
    data = iim.serialize()
    assert data.startswith(b"\x1c\x01\x5a\x00\x03\x1b%G")
    res = [iptcmod.Resource(b"8BIM", 0x0404, b"\x00\x00", raw),
           iptcmod.Resource(b"8BIM", 0x0425, b"\x00\x00", hashlib.md5(raw).digest())]
    out = iptcmod.parse_irb(iptcmod.build_irb(iptcmod.irb_set_iptc(res, data)))
    assert out[0].data == data and out[1].data == hashlib.md5(data).digest()


def test_big_endian_exif_rewrite_is_stable_and_keeps_other_tags() -> None:
    ifd0 = struct.pack(">H", 1) + struct.pack(">HHI4s", 0x010F, 2, 4, b"Cam\x00") + b"\x00" * 4
    blob = b"MM\x00*" + struct.pack(">I", 8) + ifd0
    one = exif_update(blob, "Beschreibung ä", "a;b")
    assert one is not None and exif_fields(one) == ("Beschreibung ä", "a;b")
    two = exif_update(one, "kürzer", "c")
    assert two is not None and exif_fields(two) == ("kürzer", "c")
    assert len(two) < len(one)  # our previous IFD0 at the end was replaced, not left behind
    back = exif_update(two, None, None)
    assert back is not None and exif_fields(back) == (None, None) and b"Cam\x00" in back


def test_heic_with_damaged_meta_gets_sidecar(tmp_path: Path) -> None:
    path = make_image(tmp_path, "heic", foreign_xmp=False)
    data = bytearray(path.read_bytes())
    meta_at = data.index(b"meta") - 4
    data[meta_at : meta_at + 4] = struct.pack(">I", 10_000_000)  # meta box claims to run past the end
    path.write_bytes(bytes(data))
    outcome = write_metadata(path, RECORD)
    assert path.read_bytes() == bytes(data)
    assert outcome.sidecar and "HEIF" in outcome.warnings[0]
    assert temp_leftovers(tmp_path) == []
