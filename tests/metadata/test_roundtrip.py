"""Every field reads back through exiftool; pixels and foreign metadata survive; undo restores."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from autotagger.metadata import read_metadata, undo_metadata, write_metadata
from tests.metadata.conftest import (
    CAPTION,
    RECORD,
    exiftool_json,
    foreign_state,
    make_image,
    needs_exiftool,
    pixels,
    temp_leftovers,
)

pytestmark = needs_exiftool
EMBED_FORMATS = ["jpeg", "tiff", "png", "webp", "heic"]
HAS_EXIF = {"jpeg", "tiff", "png", "webp"}  # HEIC: XMP only
HAS_IPTC = {"jpeg", "tiff"}


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _fields(meta: dict[str, Any]) -> dict[str, Any]:
    """The values a user sees, without file-system and structural bookkeeping."""
    skip = ("System:", "File:", "ExifTool:", "Composite:", "SourceFile", "RIFF:", "PNG:", "QuickTime:MediaData")
    return {k: v for k, v in meta.items() if not k.startswith(skip)}


@pytest.mark.parametrize("fmt", EMBED_FORMATS)
def test_write_reads_back_in_exiftool_and_undo_restores(tmp_path: Path, fmt: str) -> None:
    path = make_image(tmp_path, fmt)
    before_meta = exiftool_json(path)
    before_pixels, before_foreign = pixels(path), foreign_state(path)

    outcome = write_metadata(path, RECORD)
    assert outcome.embedded and outcome.sidecar is None and outcome.warnings == ()

    meta = exiftool_json(path)
    assert "ExifTool:Error" not in meta
    assert meta.get("ExifTool:Warning") == before_meta.get("ExifTool:Warning")  # no new complaint
    assert meta["XMP-dc:Description"] == CAPTION
    assert _as_list(meta["XMP-dc:Subject"]) == ["my own keyword", "outdoors", "schön", "東京"]
    assert _as_list(meta["XMP-lr:HierarchicalSubject"]) == [
        "people|Anna", "setting|outdoors", "weather|schön", "東京"]
    if fmt in HAS_EXIF:
        assert meta["IFD0:ImageDescription"] == CAPTION
        assert meta["IFD0:XPKeywords"] == "outdoors;schön;東京"
    else:  # libheif, an independent reader, finds the XMP item too
        from PIL import Image

        with Image.open(path) as im:
            assert CAPTION.encode() in (im.info.get("xmp") or b"").replace(b"&lt;", b"<").replace(
                b"&gt;", b">").replace(b"&amp;", b"&")
    if fmt in HAS_IPTC:
        assert meta["IPTC:Caption-Abstract"] == CAPTION
        assert _as_list(meta["IPTC:Keywords"]) == ["outdoors", "schön", "東京"]
        assert meta["IPTC:CodedCharacterSet"] == "UTF8"
    assert meta["XMP-autotagger:ModelId"] == "Salesforce/blip2-opt-2.7b"
    assert str(meta["XMP-autotagger:QuestionSetVersion"]) == "v7"
    assert str(meta["XMP-autotagger:Date"]).startswith("2026:01:02 03:04:05")
    assert meta["XMP-autotagger:Caption"] == CAPTION
    tags = {t["Path"]: t.get("Confidence") for t in meta["XMP-autotagger:Tags"]}
    assert tags == {"setting|outdoors": 0.93, "weather|schön": 0.61, "東京": None}
    # the other tool's XMP and all foreign metadata survive; pixels are identical
    assert meta["XMP-xmpRights:UsageTerms"] == "all rights reserved"
    assert _as_list(meta["XMP-dc:Creator"]) == ["Ånna Fotografin"]
    assert meta["GPS:GPSLatitude"] == before_meta["GPS:GPSLatitude"]
    assert meta.get("IFD0:Make") == before_meta.get("IFD0:Make") == "TestCam"
    assert pixels(path) == before_pixels
    assert foreign_state(path) == before_foreign
    assert foreign_state(path)["makernote"] and foreign_state(path)["icc"]

    back = read_metadata(path)
    assert back.caption == CAPTION and back.provenance is not None
    assert back.provenance.confidences["weather|schön"] == pytest.approx(0.61)

    # a re-run is stable: same values, no growth
    size = path.stat().st_size
    write_metadata(path, RECORD)
    assert path.stat().st_size == size
    assert _fields(exiftool_json(path)) == _fields(meta)

    undone = undo_metadata(path)
    assert undone.embedded
    after = exiftool_json(path)
    assert _fields(after) == _fields(before_meta)
    assert pixels(path) == before_pixels and foreign_state(path) == before_foreign
    assert temp_leftovers(tmp_path) == []


@pytest.mark.parametrize("fmt", ["jpeg", "png"])
def test_file_without_any_metadata_gets_it_and_undo_removes_it(tmp_path: Path, fmt: str) -> None:
    from tests.metadata.conftest import picture

    path = tmp_path / ("plain.jpg" if fmt == "jpeg" else "plain.png")
    picture().save(path)
    original = path.read_bytes()
    write_metadata(path, RECORD)
    meta = exiftool_json(path)
    assert meta["XMP-dc:Description"] == CAPTION and meta["IFD0:XPKeywords"] == "outdoors;schön;東京"
    undo_metadata(path)
    assert path.read_bytes() == original


@pytest.mark.parametrize("fmt", ["jpeg", "tiff"])
def test_a_rerun_of_the_same_record_leaves_the_file_as_it_is(tmp_path: Path, fmt: str) -> None:
    """The IPTC record version went after the keywords on the first write, and before them once a
    re-run had taken ours out and put them back: the same record rewrote the file (a new mtime, a
    DNG's IFD0 appended again). It goes first in record 2, where the re-run leaves it."""
    path = make_image(tmp_path, fmt, foreign_xmp=False)
    write_metadata(path, RECORD)
    once = path.read_bytes()
    write_metadata(path, RECORD)
    assert path.read_bytes() == once
