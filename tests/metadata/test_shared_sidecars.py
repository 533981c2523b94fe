"""Base-named sidecars two photos map to (IMG_1.CR2 + IMG_1.JPG -> IMG_1.xmp; photo.jpg + photo.png):
the RAW's record wins, look-alikes never overwrite each other, undo leaves another photo's tags."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image

from autotagger.metadata import MetadataError, read_metadata, undo_metadata, write_metadata
from autotagger.metadata.xmp import XmpDoc
from autotagger.types import Tag
from tests.metadata.conftest import RECORD

OTHER = replace(RECORD, caption="a red bus", tags=(Tag("vehicle|bus", 0.8, "vehicle"),))
EDITED = replace(RECORD, caption="Grandma's garden", caption_source="person", person_tags=("people|grandma",))


def _jpeg(path: Path) -> Path:
    Image.new("RGB", (32, 24), (200, 40, 40)).save(path, "JPEG")
    return path


def _file(path: Path) -> Path:
    """Bytes that are never read: a RAW (or, in sidecar mode, any photo) only gets a sidecar."""
    path.write_bytes(b"raw bytes, never read")
    return path


def _sidecar(folder: Path, stem: str = "IMG_1") -> XmpDoc:
    return XmpDoc.parse((folder / f"{stem}.xmp").read_bytes())


@pytest.mark.parametrize("names", [("photo.jpg", "photo.png"), ("IMG_1.dng", "IMG_1.tif"), ("IMG_1.CR2", "IMG_1.NEF")])
def test_a_look_alike_never_overwrites_the_first_photos_tags(tmp_path: Path, names: tuple[str, str]) -> None:
    first, second = (_file(tmp_path / n) for n in names)
    write_metadata(first, RECORD, mode="sidecar", sidecar_name="base")
    with pytest.raises(MetadataError) as err:
        write_metadata(second, OTHER, mode="sidecar", sidecar_name="base")
    message = str(err.value)
    assert message.startswith(f"{second}: ") and first.name in message and "--sidecar-name ext" in message
    assert "\n" not in message
    back = read_metadata(first, sidecar_name="base")
    assert back.caption == RECORD.caption and "vehicle|bus" not in back.hierarchical
    assert _sidecar(tmp_path, first.stem).get_text("{http://ns.autotagger.app/1.0/}File") == first.name


def test_a_look_alike_with_the_same_record_is_served_by_the_sidecar(tmp_path: Path) -> None:
    """A capture's two renderings get one result (tag, watch): the second finds it there, no error."""
    jpg, png = _file(tmp_path / "photo.jpg"), _file(tmp_path / "photo.png")
    write_metadata(jpg, RECORD, mode="sidecar", sidecar_name="base")
    before = (tmp_path / "photo.xmp").read_bytes()
    out = write_metadata(png, replace(RECORD, date="2030-01-01T00:00:00+00:00"), mode="sidecar", sidecar_name="base")
    assert out.warnings == () and out.sidecar is None and not out.embedded
    assert (tmp_path / "photo.xmp").read_bytes() == before


def test_the_sidecar_of_a_photo_gone_goes_to_the_one_left(tmp_path: Path) -> None:
    jpg, png = _file(tmp_path / "photo.jpg"), _file(tmp_path / "photo.png")
    write_metadata(jpg, RECORD, mode="sidecar", sidecar_name="base")
    jpg.unlink()
    out = write_metadata(png, OTHER, mode="sidecar", sidecar_name="base")
    assert out.sidecar == str(tmp_path / "photo.xmp") and read_metadata(png, sidecar_name="base").caption == "a red bus"


@pytest.mark.parametrize("jpeg_first", [False, True])
def test_the_raws_record_wins_over_an_edit_of_its_jpeg_only(tmp_path: Path, jpeg_first: bool) -> None:
    """Lightroom reads IMG_1.xmp for the RAW only: a person's edit of the JPEG alone does not go there,
    whichever member is written first, and a warning says where it stays."""
    raw, jpg = _file(tmp_path / "IMG_1.CR2"), _jpeg(tmp_path / "IMG_1.JPG")
    if jpeg_first:
        out = write_metadata(jpg, EDITED, mode="sidecar", sidecar_name="base")
    write_metadata(raw, RECORD, mode="sidecar", sidecar_name="base")
    if not jpeg_first:
        out = write_metadata(jpg, EDITED, mode="sidecar", sidecar_name="base")
    assert out.sidecar is None and len(out.warnings) == 1
    assert "IMG_1.CR2's sidecar" in out.warnings[0] and "--sidecar-name ext" in out.warnings[0]
    back = read_metadata(raw, sidecar_name="base")
    assert back.caption == RECORD.caption and "people|grandma" not in back.hierarchical
    assert _sidecar(tmp_path).get_text("{http://ns.autotagger.app/1.0/}File") == "IMG_1.CR2"


def test_a_jpeg_with_the_pairs_result_writes_nothing_and_says_nothing(tmp_path: Path) -> None:
    raw, jpg = _file(tmp_path / "IMG_1.CR2"), _jpeg(tmp_path / "IMG_1.JPG")
    write_metadata(raw, RECORD, mode="sidecar", sidecar_name="base")
    before = (tmp_path / "IMG_1.xmp").read_bytes()
    out = write_metadata(jpg, RECORD, mode="sidecar", sidecar_name="base")
    assert out.warnings == () and (tmp_path / "IMG_1.xmp").read_bytes() == before


def test_both_mode_embeds_the_jpegs_edit_and_leaves_the_raws_sidecar(tmp_path: Path) -> None:
    raw, jpg = _file(tmp_path / "IMG_1.CR2"), _jpeg(tmp_path / "IMG_1.JPG")
    write_metadata(raw, RECORD, mode="both", sidecar_name="base")
    before = (tmp_path / "IMG_1.xmp").read_bytes()
    out = write_metadata(jpg, EDITED, mode="both", sidecar_name="base")
    assert out.embedded and out.sidecar is None and out.warnings == ()
    assert (tmp_path / "IMG_1.xmp").read_bytes() == before
    assert read_metadata(jpg).caption == "Grandma's garden"  # the JPEG's own, in the JPEG


def test_undo_of_the_jpeg_leaves_the_raws_tags_in_their_sidecar(tmp_path: Path) -> None:
    raw, jpg = _file(tmp_path / "IMG_1.CR2"), _jpeg(tmp_path / "IMG_1.JPG")
    write_metadata(raw, RECORD, sidecar_name="base")  # auto: the RAW gets IMG_1.xmp
    write_metadata(jpg, RECORD, sidecar_name="base")  # auto: the JPEG gets them embedded
    out = undo_metadata(jpg, sidecar_name="base")
    assert out.embedded and out.sidecar is None
    assert out.warnings == ("IMG_1.xmp left alone: it holds the tags of IMG_1.CR2 (undo that file to remove them)",)
    assert read_metadata(jpg).provenance is None
    assert read_metadata(raw, sidecar_name="base").caption == RECORD.caption
    out = undo_metadata(raw, sidecar_name="base")  # the RAW's own undo does take them out
    assert out.sidecar == str(tmp_path / "IMG_1.xmp") and not (tmp_path / "IMG_1.xmp").exists()


def test_undo_of_a_look_alike_leaves_the_first_photos_sidecar(tmp_path: Path) -> None:
    jpg, png = _file(tmp_path / "photo.jpg"), _file(tmp_path / "photo.png")
    write_metadata(jpg, RECORD, mode="sidecar", sidecar_name="base")
    out = undo_metadata(png, sidecar_name="base")
    assert out.sidecar is None
    assert "photo.xmp left alone: it holds the tags of photo.jpg (undo that file to remove them)" in out.warnings
    assert read_metadata(jpg, sidecar_name="base").caption == RECORD.caption


def test_a_photo_alone_keeps_its_sidecar_as_before(tmp_path: Path) -> None:
    """No other photo of that name: written and undone as always (the record of whose it is goes too)."""
    raw = _file(tmp_path / "IMG_1.CR2")
    (tmp_path / "IMG_1.txt").write_text("notes")  # not a photo
    write_metadata(raw, RECORD, sidecar_name="base")
    write_metadata(raw, OTHER, sidecar_name="base")
    assert read_metadata(raw, sidecar_name="base").caption == "a red bus"
    undo_metadata(raw, sidecar_name="base")
    assert not (tmp_path / "IMG_1.xmp").exists()
