"""A person's values are never overwritten or removed; re-runs replace only ours."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from autotagger.metadata import read_metadata, undo_metadata, write_metadata
from autotagger.types import Tag
from tests.metadata.conftest import CAPTION, RECORD, exiftool_json, exiftool_set, make_image, needs_exiftool

pytestmark = needs_exiftool


def test_person_caption_stays_and_ours_goes_to_our_namespace(tmp_path: Path) -> None:
    path = make_image(tmp_path, "jpeg")
    exiftool_set(path, "-XMP-dc:Description=Mein Bild", "-IPTC:Caption-Abstract=Mein Bild",
                 "-IFD0:ImageDescription=Mein Bild", "-IPTC:Keywords=outdoors")
    write_metadata(path, RECORD)
    meta = exiftool_json(path)
    assert meta["XMP-dc:Description"] == "Mein Bild"
    assert meta["IPTC:Caption-Abstract"] == "Mein Bild"
    assert meta["IFD0:ImageDescription"] == "Mein Bild"
    assert meta["XMP-autotagger:Caption"] == CAPTION
    undo_metadata(path)
    meta = exiftool_json(path)
    assert meta["XMP-dc:Description"] == "Mein Bild"
    assert meta["IPTC:Keywords"] == "outdoors"  # it was the person's before we came
    assert meta["XMP-dc:Subject"] in ("my own keyword", ["my own keyword"])


def test_rerun_replaces_our_tags_and_keeps_the_persons(tmp_path: Path) -> None:
    path = make_image(tmp_path, "jpeg")
    write_metadata(path, RECORD)
    exiftool_set(path, "-XMP-dc:Subject+=added later by hand")
    second = replace(RECORD, caption="a new caption", tags=(Tag("setting|indoors", 0.8),))
    write_metadata(path, second)
    meta = exiftool_json(path)
    assert meta["XMP-dc:Subject"] == ["my own keyword", "added later by hand", "indoors"]
    assert meta["XMP-lr:HierarchicalSubject"] == ["people|Anna", "setting|indoors"]
    assert meta["IPTC:Keywords"] == "indoors"
    assert meta["XMP-dc:Description"] == "a new caption"
    assert meta["IFD0:XPKeywords"] == "indoors"


def test_person_edits_removed_and_person_tags(tmp_path: Path) -> None:
    path = make_image(tmp_path, "tiff")
    rec = replace(RECORD, caption="Anna am See", caption_source="person",
                  person_tags=("places|Lake Constance",), removed_tags=("weather|schön",))
    write_metadata(path, rec)
    back = read_metadata(path)
    assert back.caption == "Anna am See"
    assert "schön" not in back.subjects and "weather|schön" not in back.hierarchical
    assert "Lake Constance" in back.subjects and "places|Lake Constance" in back.hierarchical
    undo_metadata(path)
    back = read_metadata(path)
    assert back.caption == "Anna am See"  # the person's caption and keywords are theirs
    assert "Lake Constance" in back.subjects and "outdoors" not in back.subjects
    assert back.provenance is None


def test_person_caption_edit_in_another_tool_is_not_undone(tmp_path: Path) -> None:
    path = make_image(tmp_path, "png")
    write_metadata(path, RECORD)
    exiftool_set(path, "-XMP-dc:Description=fixed by hand")
    undo_metadata(path)
    assert exiftool_json(path)["XMP-dc:Description"] == "fixed by hand"
