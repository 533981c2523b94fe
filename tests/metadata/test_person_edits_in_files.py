"""A person's edits in the GUI reach every field of the file: a tag they remove leaves every keyword
field (theirs as well as ours), a caption they clear leaves every caption field; a model's empty caption
never clears one. Judged by exiftool."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from autotagger.catalog import Catalog
from autotagger.config import Settings
from autotagger.gui import ops
from autotagger.metadata import MetadataRecord, read_metadata, undo_metadata, write_metadata
from autotagger.types import Tag
from tests.catalog.helpers import result
from tests.metadata.conftest import RECORD, exiftool_json, exiftool_set, make_image, needs_exiftool

pytestmark = needs_exiftool

EMBED = Settings(write="embed")
KEYWORD_TAGS = ("-XMP-dc:Subject", "-XMP-lr:HierarchicalSubject", "-IPTC:Keywords", "-XPKeywords")
CAPTION_TAGS = ("-XMP-dc:Description", "-IPTC:Caption-Abstract", "-EXIF:ImageDescription")
FORMATS = ("jpeg", "tiff", "png")


def _list(meta: dict[str, Any], key: str) -> list[str]:
    value = meta.get(key)
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    if key.endswith("XPKeywords"):
        return [v.strip() for v in str(value).split(";") if v.strip()]
    return [str(value)]


def keywords(path: Path) -> dict[str, list[str]]:
    meta = exiftool_json(path, *KEYWORD_TAGS)
    return {
        "subject": _list(meta, "XMP-dc:Subject"),
        "hier": _list(meta, "XMP-lr:HierarchicalSubject"),
        "iptc": _list(meta, "IPTC:Keywords"),
        "xp": _list(meta, "IFD0:XPKeywords"),
    }


def captions(path: Path) -> dict[str, Any]:
    meta = exiftool_json(path, *CAPTION_TAGS)
    return {k: meta.get(k) for k in ("XMP-dc:Description", "IPTC:Caption-Abstract", "IFD0:ImageDescription")}


def _catalogued(tmp_path: Path, fmt: str) -> tuple[Path, Path]:
    """A photo of ``fmt`` (with another tool's keyword "my own keyword" and "people|Anna") that the
    model tagged, written into the file and recorded in a catalogue."""
    photo = make_image(tmp_path, fmt)
    cat_path = tmp_path / "catalog.sqlite3"
    with Catalog(cat_path) as cat:
        cat.record_result(result(str(photo)), size=1, mtime=1.0, content_hash="h")
        rec = cat.get_image(str(photo))
        write_metadata(photo, ops.metadata_record(rec), mode="embed")
    return photo, cat_path


def _has_iptc(fmt: str) -> bool:
    return fmt in ("jpeg", "tiff")


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_persons_tag_removed_in_the_gui_leaves_every_keyword_field(tmp_path: Path, fmt: str) -> None:
    photo, cat_path = _catalogued(tmp_path, fmt)
    with Catalog(cat_path) as cat:
        image_id = cat.get_image(str(photo)).id
        ops.add_tags(cat, image_id, ["people|family"], EMBED)
        kw = keywords(photo)
        assert "people|family" in kw["hier"] and "family" in kw["subject"] and "family" in kw["xp"]
        assert ("family" in kw["iptc"]) == _has_iptc(fmt)
        out = ops.remove_tags(cat, image_id, ["people|family"], EMBED)
        assert out.warning == "" and out.written
    kw = keywords(photo)
    assert "people|family" not in kw["hier"]
    for name in ("subject", "iptc", "xp"):
        assert "family" not in kw[name], (name, kw)
    # everything else stays: the model's tags, and the keywords another tool wrote
    assert {"people|Anna", "setting|outdoors", "animal|dog"} <= set(kw["hier"])
    assert {"my own keyword", "outdoors", "dog"} <= set(kw["subject"])
    assert {"outdoors", "dog"} <= set(kw["xp"])


@pytest.mark.parametrize("fmt", ("jpeg", "tiff"))
def test_removing_a_model_tag_still_leaves_the_file(tmp_path: Path, fmt: str) -> None:
    photo, cat_path = _catalogued(tmp_path, fmt)
    with Catalog(cat_path) as cat:
        ops.remove_tags(cat, cat.get_image(str(photo)).id, ["animal|dog"], EMBED)
    kw = keywords(photo)
    assert "animal|dog" not in kw["hier"] and "setting|outdoors" in kw["hier"]
    for name in ("subject", "iptc", "xp"):
        assert "dog" not in kw[name] and "outdoors" in kw[name], (name, kw)


@pytest.mark.parametrize("fmt", ("jpeg", "tiff"))
def test_a_plain_keyword_with_the_same_leaf_that_was_there_before_stays(tmp_path: Path, fmt: str) -> None:
    """"family" typed in another tool (dc:subject and IPTC only, no hierarchy) is not the leaf of
    "people|family": removing that path keeps it."""
    photo, cat_path = _catalogued(tmp_path, fmt)
    exiftool_set(photo, "-XMP-dc:Subject+=family", "-IPTC:Keywords+=family", "-XPKeywords=outdoors;dog;family")
    with Catalog(cat_path) as cat:
        image_id = cat.get_image(str(photo)).id
        ops.add_tags(cat, image_id, ["people|family"], EMBED)
        assert "people|family" in keywords(photo)["hier"]
        ops.remove_tags(cat, image_id, ["people|family"], EMBED)
    kw = keywords(photo)
    assert "people|family" not in kw["hier"]
    for name in ("subject", "iptc", "xp"):
        assert kw[name].count("family") == 1, (name, kw)


@pytest.mark.parametrize("fmt", ("jpeg", "png"))
def test_a_leaf_another_remaining_tag_uses_stays(tmp_path: Path, fmt: str) -> None:
    """Two paths with one leaf (the person's "people|family", a Lightroom "groups|family" typed
    after it, and the model's "relation|family"): removing one keeps the leaf."""
    photo, cat_path = _catalogued(tmp_path, fmt)
    with Catalog(cat_path) as cat:
        image_id = cat.get_image(str(photo)).id
        ops.add_tags(cat, image_id, ["people|family", "events|family"], EMBED)
        ops.remove_tags(cat, image_id, ["people|family"], EMBED)
        kw = keywords(photo)
        assert "people|family" not in kw["hier"] and "events|family" in kw["hier"]
        assert "family" in kw["subject"] and "family" in kw["xp"]
        exiftool_set(photo, "-XMP-lr:HierarchicalSubject+=groups|family")  # Lightroom, by hand
        ops.remove_tags(cat, image_id, ["events|family"], EMBED)
        kw = keywords(photo)
        assert "events|family" not in kw["hier"] and "groups|family" in kw["hier"]
        assert "family" in kw["subject"] and "family" in kw["xp"]
    rec = replace(RECORD, tags=(Tag("relation|family", 0.7), Tag("setting|outdoors", 0.9)),
                  removed_tags=("groups|family",))
    write_metadata(photo, rec, mode="embed")
    kw = keywords(photo)
    assert "groups|family" not in kw["hier"] and "relation|family" in kw["hier"]
    assert "family" in kw["subject"] and "family" in kw["xp"]  # the model's remaining tag uses it


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_caption_cleared_by_the_person_leaves_every_caption_field(tmp_path: Path, fmt: str) -> None:
    photo, cat_path = _catalogued(tmp_path, fmt)
    with Catalog(cat_path) as cat:
        image_id = cat.get_image(str(photo)).id
        ops.set_caption(cat, image_id, "my own caption", EMBED)
        cap = captions(photo)
        assert cap["XMP-dc:Description"] == "my own caption"
        assert cap["IFD0:ImageDescription"] == "my own caption"
        assert cap["IPTC:Caption-Abstract"] == ("my own caption" if _has_iptc(fmt) else None)
        out = ops.set_caption(cat, image_id, "", EMBED)
        assert out.warning == "" and out.written
        assert cat.get_image(image_id).caption == ""
    assert captions(photo) == {"XMP-dc:Description": None, "IPTC:Caption-Abstract": None,
                               "IFD0:ImageDescription": None}
    assert read_metadata(photo).caption == ""


@pytest.mark.parametrize("fmt", ("jpeg", "tiff"))
def test_a_persons_empty_caption_clears_a_caption_another_tool_wrote(tmp_path: Path, fmt: str) -> None:
    photo = make_image(tmp_path, fmt)
    exiftool_set(photo, "-XMP-dc:Description=old text", "-IPTC:Caption-Abstract=old text",
                 "-IFD0:ImageDescription=old text")
    out = write_metadata(photo, replace(RECORD, caption="", caption_source="person"), mode="embed")
    assert captions(photo) == {"XMP-dc:Description": None, "IPTC:Caption-Abstract": None,
                               "IFD0:ImageDescription": None}
    assert out.caption == ""


@pytest.mark.parametrize("source", ("model", ""))
@pytest.mark.parametrize("fmt", ("jpeg", "tiff"))
def test_an_empty_caption_from_the_model_never_clears_one(tmp_path: Path, fmt: str, source: str) -> None:
    photo = make_image(tmp_path, fmt)
    write_metadata(photo, RECORD, mode="embed")  # our caption in all three fields
    exiftool_set(photo, "-XMP-dc:Description=Mein Bild")  # a person's, in one of them
    empty = MetadataRecord(caption="", caption_source=source, tags=RECORD.tags)
    out = write_metadata(photo, empty, mode="embed")
    assert captions(photo)["XMP-dc:Description"] == "Mein Bild"
    assert out.caption == "Mein Bild"
    other = make_image(tmp_path, fmt, name="other")
    exiftool_set(other, "-XMP-dc:Description=Mein Bild", "-IPTC:Caption-Abstract=Mein Bild",
                 "-IFD0:ImageDescription=Mein Bild")
    write_metadata(other, empty, mode="embed")
    assert captions(other) == dict.fromkeys(("XMP-dc:Description", "IPTC:Caption-Abstract",
                                             "IFD0:ImageDescription"), "Mein Bild")


@pytest.mark.parametrize("fmt", ("jpeg", "tiff"))
def test_undo_after_a_persons_edits_leaves_a_sane_file(tmp_path: Path, fmt: str) -> None:
    photo, cat_path = _catalogued(tmp_path, fmt)
    with Catalog(cat_path) as cat:
        image_id = cat.get_image(str(photo)).id
        ops.add_tags(cat, image_id, ["people|family", "people|me"], EMBED)
        ops.remove_tags(cat, image_id, ["people|family"], EMBED)
        ops.set_caption(cat, image_id, "my own caption", EMBED)
        ops.set_caption(cat, image_id, "", EMBED)
        assert ops.undo(cat, [str(photo)]) == []
        kw = keywords(photo)
        assert captions(photo) == {"XMP-dc:Description": None, "IPTC:Caption-Abstract": None,
                                   "IFD0:ImageDescription": None}
        # the person's remaining tag and the other tool's keywords stay; the model's and the removed go
        assert sorted(kw["hier"]) == ["people|Anna", "people|me"]
        assert sorted(kw["subject"]) == ["me", "my own keyword"]
        assert kw["iptc"] == ["me"] and kw["xp"] == ["me"]
        meta = exiftool_json(photo)
        assert not [k for k in meta if k.startswith("XMP-autotagger:")]
        assert "Warning" not in meta and "Error" not in meta
        assert read_metadata(photo).provenance is None
        # the person's tag added before the undo can still be removed from the file
        ops.remove_tags(cat, image_id, ["people|me"], EMBED)
    kw = keywords(photo)
    assert "people|me" not in kw["hier"]
    assert undo_metadata(photo).warnings == ()


def test_outcome_says_which_caption_the_file_holds(tmp_path: Path) -> None:
    photo = make_image(tmp_path, "jpeg")
    assert write_metadata(photo, RECORD, mode="none").caption is None
    assert write_metadata(photo, RECORD, mode="embed").caption == RECORD.caption
    exiftool_set(photo, "-XMP-dc:Description=kept by hand")
    assert write_metadata(photo, RECORD, mode="embed").caption == "kept by hand"  # not ours
    person = replace(RECORD, caption="the person's", caption_source="person")
    assert write_metadata(photo, person, mode="embed").caption == "the person's"
    side = make_image(tmp_path, "jpeg", name="side")
    out = write_metadata(side, RECORD, mode="sidecar")
    assert out.sidecar is not None and out.caption == RECORD.caption
    exiftool_set(Path(out.sidecar), "-XMP-dc:Description=in the sidecar")  # a person's, by hand
    assert write_metadata(side, replace(RECORD, caption="new"), mode="sidecar").caption == "in the sidecar"
