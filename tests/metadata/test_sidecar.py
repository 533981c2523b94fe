"""Sidecars: naming both ways, RAW always, merging into darktable's, undo, and the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest

from autotagger.cli import main
from autotagger.metadata import MetadataError, read_metadata, sidecar_path, undo_metadata, write_metadata
from tests.metadata.conftest import CAPTION, RECORD, exiftool_json, make_image, needs_exiftool

DARKTABLE = """<?xml version="1.0" encoding="UTF-8"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="XMP Core 4.4.0-Exiv2">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:darktable="http://darktable.sf.net/"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmp:Rating="3"
    darktable:xmp_version="5"
    darktable:history_end="1">
   <darktable:history>
    <rdf:Seq>
     <rdf:li darktable:operation="exposure" darktable:enabled="1" darktable:params="0000c0bf"/>
    </rdf:Seq>
   </darktable:history>
   <dc:subject>
    <rdf:Bag>
     <rdf:li>darktable|format|cr2</rdf:li>
     <rdf:li>holiday</rdf:li>
    </rdf:Bag>
   </dc:subject>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
"""


def test_sidecar_names() -> None:
    assert sidecar_path(Path("/p/IMG_1.CR2"), "ext") == Path("/p/IMG_1.CR2.xmp")
    assert sidecar_path(Path("/p/IMG_1.CR2"), "base") == Path("/p/IMG_1.xmp")
    with pytest.raises(MetadataError):
        sidecar_path(Path("/p/IMG_1.CR2"), "other")


@pytest.mark.parametrize("style", ["ext", "base"])
def test_raw_gets_sidecar_and_stays_identical(tmp_path: Path, style: str) -> None:
    raw = tmp_path / "IMG_1.CR2"
    raw.write_bytes(b"II*\x00\x10\x00\x00\x00CR\x02\x00" + bytes(range(256)))
    original = raw.read_bytes()
    outcome = write_metadata(raw, RECORD, sidecar_name=style)
    expected = tmp_path / ("IMG_1.CR2.xmp" if style == "ext" else "IMG_1.xmp")
    assert outcome.sidecar == str(expected) and not outcome.embedded and outcome.warnings == ()
    assert raw.read_bytes() == original
    back = read_metadata(raw, sidecar_name=style)
    assert back.caption == CAPTION and back.hierarchical[0] == "setting|outdoors"
    undo_metadata(raw, sidecar_name=style)
    assert not expected.exists()  # it was ours alone


@needs_exiftool
def test_merge_into_darktable_sidecar_and_undo(tmp_path: Path) -> None:
    raw = tmp_path / "IMG_2.CR2"
    raw.write_bytes(b"raw data")
    sc = tmp_path / "IMG_2.CR2.xmp"
    sc.write_text(DARKTABLE, encoding="utf-8")
    before = exiftool_json(sc)
    write_metadata(raw, RECORD)
    meta = exiftool_json(sc)
    assert meta["XMP-dc:Subject"] == ["darktable|format|cr2", "holiday", "outdoors", "schön", "東京"]
    assert meta["XMP-dc:Description"] == CAPTION
    assert meta["XMP-xmp:Rating"] == 3 and meta["XMP-darktable:Xmp_version"] == 5
    assert meta["XMP-darktable:History"] == before["XMP-darktable:History"]
    assert meta["XMP-x:XMPToolkit"] == "XMP Core 4.4.0-Exiv2"
    undo_metadata(raw)
    after = exiftool_json(sc)
    keep = {k: v for k, v in before.items() if k.startswith("XMP")}
    assert {k: v for k, v in after.items() if k.startswith("XMP")} == keep


def test_unreadable_sidecar_is_left_alone(tmp_path: Path) -> None:
    raw = tmp_path / "IMG_3.NEF"
    raw.write_bytes(b"raw")
    sc = tmp_path / "IMG_3.NEF.xmp"
    sc.write_bytes(b"<x:xmpmeta><broken")
    with pytest.raises(MetadataError, match="unreadable"):
        write_metadata(raw, RECORD)
    assert sc.read_bytes() == b"<x:xmpmeta><broken"


@needs_exiftool
def test_both_mode_and_cli_undo(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = make_image(tmp_path, "jpeg")
    out = write_metadata(path, RECORD, mode="both", sidecar_name="base")
    assert out.embedded and out.sidecar == str(tmp_path / "photo.xmp")
    assert exiftool_json(tmp_path / "photo.xmp")["XMP-dc:Description"] == CAPTION
    assert main(["undo", "--sidecar-name", "base", str(path), str(tmp_path / "missing.jpg")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "missing.jpg: no such file" in err
    assert not (tmp_path / "photo.xmp").exists()
    assert "XMP-autotagger:Caption" not in exiftool_json(path)
    assert main(["undo", "--recursive", str(tmp_path)]) == 0


def test_mode_none_and_bad_mode(tmp_path: Path) -> None:
    path = make_image(tmp_path, "png", foreign_xmp=False)
    original = path.read_bytes()
    assert write_metadata(path, RECORD, mode="none").embedded is False
    assert path.read_bytes() == original
    with pytest.raises(MetadataError):
        write_metadata(path, RECORD, mode="bogus")
