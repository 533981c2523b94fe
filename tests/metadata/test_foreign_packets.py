"""XMP that other tools wrote in forms of their own: UTF-16 sidecars, JPEG extended XMP."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from autotagger.metadata import MetadataRecord, read_metadata, undo_metadata, write_metadata
from autotagger.types import Tag
from tests.metadata.conftest import EXIFTOOL, exiftool_json, exiftool_set, make_image, needs_exiftool

RECORD = MetadataRecord(caption="a dog on a beach", caption_source="model", tags=(Tag("animal|dog", 0.9),),
                        model_id="m", question_set_version="v1", date="2026-01-02T03:04:05+00:00")
BODY = """<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:xmp="http://ns.adobe.com/xap/1.0/"
 xmp:Rating="3"><dc:subject><rdf:Bag><rdf:li>Zoë</rdf:li></rdf:Bag></dc:subject></rdf:Description>
</rdf:RDF></x:xmpmeta>"""
PACKET = f'<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n{BODY}\n<?xpacket end="w"?>'


def _list(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


@pytest.mark.parametrize(
    "data",
    [
        PACKET.encode("utf-16"),  # with a BOM, little-endian here
        PACKET.encode("utf-16-be"),  # the packet's own BOM (begin="\ufeff") says big-endian
        ('<?xml version="1.0" encoding="UTF-16"?>\n' + BODY).encode("utf-16"),
        b"\xef\xbb\xbf" + BODY.encode("utf-8"),
        PACKET.encode("utf-32"),
    ],
    ids=["utf16-bom", "utf16be-packet", "utf16-xml-decl", "utf8-bom", "utf32-bom"],
)
def test_sidecar_in_another_unicode_encoding_is_merged(tmp_path: Path, data: bytes) -> None:
    """The XMP spec lets a packet be UTF-16 or UTF-32 (exiftool reads them): such a sidecar was
    refused as unreadable, and the RAW file got no tags at all."""
    raw = tmp_path / "IMG_1.CR2"
    raw.write_bytes(b"raw data")
    sidecar = tmp_path / "IMG_1.CR2.xmp"
    sidecar.write_bytes(data)

    outcome = write_metadata(raw, RECORD)

    assert outcome.sidecar == str(sidecar) and outcome.warnings == ()
    back = read_metadata(raw)
    assert back.subjects == ("Zoë", "dog") and back.caption == "a dog on a beach"
    if EXIFTOOL is not None:
        meta = exiftool_json(sidecar)
        assert meta["XMP-xmp:Rating"] == 3 and _list(meta["XMP-dc:Subject"]) == ["Zoë", "dog"]
    undo_metadata(raw)
    back = read_metadata(raw)
    assert back.subjects == ("Zoë",) and back.provenance is None and back.caption == ""


def _extended(path: Path, *assignments: str) -> None:
    """Give ``path`` XMP so large that exiftool moves its biggest properties to extended XMP."""
    args = path.parent / "args.txt"
    args.write_text("\n".join(assignments) + "\n", encoding="utf-8")
    assert EXIFTOOL is not None
    subprocess.run([EXIFTOOL, "-q", "-m", "-overwrite_original", "-charset", "UTF8", "-@", str(args), str(path)],
                   check=True, capture_output=True)
    assert exiftool_json(path).get("XMP-xmpNote:HasExtendedXMP")


@needs_exiftool
def test_jpeg_whose_keywords_are_in_extended_xmp_gets_a_sidecar(tmp_path: Path) -> None:
    """A long keyword list (Lightroom, exiftool) goes to extended XMP. We do not rewrite that part:
    our keywords in the main packet would be a second dc:subject beside the person's hundreds,
    hidden by it or hiding it depending on the reader. The file is left as it was; the sidecar
    takes ours."""
    path = make_image(tmp_path, "jpeg", foreign_xmp=False)
    theirs = [f"keyword number {i:04d} typed by a person with patience" for i in range(1500)]
    _extended(path, *(f"-XMP-dc:Subject+={k}" for k in theirs))
    before = path.read_bytes()

    outcome = write_metadata(path, RECORD)

    assert path.read_bytes() == before
    assert not outcome.embedded and outcome.sidecar is not None
    assert len(outcome.warnings) == 1 and "extended XMP" in outcome.warnings[0]
    with pytest.raises(Exception, match="extended XMP"):
        write_metadata(path, RECORD, mode="embed")
    assert path.read_bytes() == before


@needs_exiftool
def test_keywords_and_caption_in_extended_xmp_are_read_back(tmp_path: Path) -> None:
    """read_metadata read the main packet only: a file whose keywords exiftool (or Lightroom) had
    moved to extended XMP showed none, though our writer sees them there and every reader merges
    the two parts. Ours, refused there, are in the sidecar and read back beside them."""
    path = make_image(tmp_path, "jpeg", foreign_xmp=False)
    theirs = [f"keyword number {i:04d} typed by a person with patience" for i in range(1500)]
    caption = "a long caption " * 5000
    _extended(path, *(f"-XMP-dc:Subject+={k}" for k in theirs), f"-XMP-dc:Description={caption}",
              "-XMP-lr:HierarchicalSubject=people|Zoë")

    back = read_metadata(path)
    assert back.subjects == tuple(theirs) and back.caption == caption
    assert back.hierarchical == ("people|Zoë",) and back.warnings == ()

    assert write_metadata(path, RECORD).sidecar is not None
    back = read_metadata(path)
    assert back.subjects == (*theirs, "dog") and back.hierarchical == ("people|Zoë", "animal|dog")
    assert back.caption == caption and back.provenance is not None


@needs_exiftool
def test_jpeg_with_other_properties_in_extended_xmp_is_embedded_and_keeps_them(tmp_path: Path) -> None:
    """Extended XMP holding none of our fields (Lightroom's big crs settings, say) stays exactly as
    it was, and its GUID in the main packet still names it."""
    path = make_image(tmp_path, "jpeg", foreign_xmp=False)
    instructions = "keep this " * 8000
    _extended(path, "-XMP-dc:Subject=Zoë", f"-XMP-photoshop:Instructions={instructions}")
    guid = exiftool_json(path)["XMP-xmpNote:HasExtendedXMP"]

    outcome = write_metadata(path, RECORD)

    assert outcome.embedded and outcome.warnings == ()
    meta = exiftool_json(path)
    assert meta["XMP-xmpNote:HasExtendedXMP"] == guid
    assert meta["XMP-photoshop:Instructions"] == instructions
    assert _list(meta["XMP-dc:Subject"]) == ["Zoë", "dog"]
    undo_metadata(path)
    meta = exiftool_json(path)
    assert meta["XMP-photoshop:Instructions"] == instructions
    assert _list(meta["XMP-dc:Subject"]) == ["Zoë"] and "XMP-lr:HierarchicalSubject" not in meta


@needs_exiftool
def test_jpeg_extended_xmp_survives_a_person_adding_a_keyword_in_exiftool(tmp_path: Path) -> None:
    """After our write, exiftool still reassembles the file's extended XMP (the GUID matches)."""
    path = make_image(tmp_path, "jpeg", foreign_xmp=False)
    _extended(path, "-XMP-photoshop:Instructions=" + "x" * 70000)
    write_metadata(path, RECORD)
    exiftool_set(path, "-XMP-dc:Subject+=added later")
    meta = exiftool_json(path)
    assert _list(meta["XMP-dc:Subject"]) == ["dog", "added later"]
    assert meta["XMP-photoshop:Instructions"] == "x" * 70000
