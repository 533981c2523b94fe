"""DNG files get our tags in the file itself (Lightroom reads a DNG's XMP only from there), safely:
the raw image, every other byte and every other tag stay as they were."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rawpy

from autotagger.imageio import load_image
from autotagger.metadata import merge, read_metadata, sidecar_path, undo_metadata, write_metadata
from autotagger.metadata.tiffifd import Tiff
from autotagger.metadata.xmp import XmpDoc
from tests.imageio.tiffmaker import write_dng
from tests.metadata.conftest import EXIFTOOL, RECORD, exiftool_json, needs_exiftool, temp_leftovers
from tests.metadata.dngfiles import MAKERNOTE, adobe_dng, minimal_dng, scene

OUR_IFD0_TAGS = {700, 33723, 270, 0x9C9E}
SUBJECTS = ("outdoors", "schön", "東京")
HIER = ("setting|outdoors", "weather|schön", "東京")


def big_endian(path: Path) -> Path:
    return adobe_dng(path, order=">")


LAYOUTS: dict[str, Callable[[Path], Path]] = {"adobe": adobe_dng, "adobe-mm": big_endian, "minimal": minimal_dng}


@pytest.fixture(params=sorted(LAYOUTS))
def dng(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    made: Path = LAYOUTS[request.param](tmp_path / "IMG_0001.dng")
    return made


def _decoded(path: Path) -> tuple[np.ndarray, np.ndarray]:
    with rawpy.imread(str(path)) as raw:
        return raw.raw_image.copy(), raw.postprocess()


def _other_ifd0_entries(path: Path) -> dict[int, tuple[int, int, bytes | None]]:
    t = Tiff(path.read_bytes())
    return {e.tag: (e.type, e.count, e.data) for e in t.read_ifd(t.ifd0)[0] if e.tag not in OUR_IFD0_TAGS}


def _listing(path: Path) -> dict[str, Any]:
    """exiftool's view of everything but our fields (and the file system's)."""
    meta = exiftool_json(path)
    ours = ("System:", "IPTC:", "XMP-autotagger:", "XMP-dc:Subject", "XMP-dc:Description",
            "XMP-lr:HierarchicalSubject", "IFD0:ImageDescription", "IFD0:XPKeywords", "File:CurrentIPTCDigest")
    return {k: v for k, v in meta.items() if not k.startswith(ours) and k != "SourceFile"}


def _warnings(path: Path) -> set[str]:
    assert EXIFTOOL is not None
    out = subprocess.run([EXIFTOOL, "-validate", "-warning", "-a", "-s3", str(path)], capture_output=True, text=True)
    return set(out.stdout.splitlines()[1:])


def _list(value: Any) -> list[str]:
    return [] if value is None else [str(v) for v in value] if isinstance(value, list) else [str(value)]


def test_dng_gets_our_tags_in_the_file_itself(dng: Path) -> None:
    outcome = write_metadata(dng, RECORD)

    assert outcome.embedded and outcome.sidecar is None and outcome.warnings == ()
    assert not sidecar_path(dng, "ext").exists() and temp_leftovers(dng.parent) == []
    back = read_metadata(dng)
    assert back.caption == RECORD.caption and back.provenance is not None
    assert back.subjects[-3:] == SUBJECTS and back.hierarchical[-3:] == HIER
    assert back.iptc_keywords == SUBJECTS and back.exif_description == RECORD.caption


@needs_exiftool
def test_exiftool_reads_our_caption_and_keywords_in_a_dng(dng: Path) -> None:
    write_metadata(dng, RECORD)
    meta = exiftool_json(dng)
    assert meta["File:FileType"] == "DNG"
    assert meta["XMP-dc:Description"] == RECORD.caption
    assert _list(meta["XMP-dc:Subject"])[-3:] == list(SUBJECTS)
    assert _list(meta["XMP-lr:HierarchicalSubject"])[-3:] == list(HIER)


def test_a_persons_keywords_in_the_dng_are_kept_and_merged(tmp_path: Path) -> None:
    """Lightroom's own keywords and develop settings in the DNG's XMP stay, ours join them; undo
    takes only ours out."""
    path = adobe_dng(tmp_path / "lr.dng")
    write_metadata(path, RECORD)
    back = read_metadata(path)
    assert back.subjects == ("Anna", "holiday", *SUBJECTS)
    assert back.hierarchical == ("people|Anna", *HIER)
    xmp = Tiff(path.read_bytes()).ifd0_entries()[700].data
    assert xmp is not None and b'crs:Exposure2012="+0.50"' in xmp

    undo_metadata(path)
    back = read_metadata(path)
    assert back.subjects == ("Anna", "holiday") and back.hierarchical == ("people|Anna",)
    assert back.provenance is None and back.caption == ""


def test_raw_image_decodes_the_same_after_write_and_undo(dng: Path) -> None:
    raw_before, rgb_before = _decoded(dng)
    preview_before = np.asarray(load_image(dng, min_size=0))

    write_metadata(dng, RECORD)
    raw_after, rgb_after = _decoded(dng)
    assert np.array_equal(raw_after, raw_before) and np.array_equal(rgb_after, rgb_before)
    assert np.array_equal(np.asarray(load_image(dng, min_size=0)), preview_before)

    undo_metadata(dng)
    raw_after, rgb_after = _decoded(dng)
    assert np.array_equal(raw_after, raw_before) and np.array_equal(rgb_after, rgb_before)


def test_every_original_byte_stays_but_the_ifd0_pointer(dng: Path) -> None:
    """What dng/tiffifd guarantee: the file as it was is a prefix of the new one, but for the
    header's IFD0 pointer (bytes 4 to 8); through re-runs and an undo too. (tiffmaker's DNG has its
    IFD0 last, laid out as ours: it must not be taken for one we appended and overwritten.)"""
    old = dng.read_bytes()
    steps: list[Callable[[], object]] = [
        lambda: write_metadata(dng, RECORD),
        lambda: write_metadata(dng, replace(RECORD, caption="a second caption")),
        lambda: undo_metadata(dng),
        lambda: write_metadata(dng, RECORD),
    ]
    for step in steps:
        step()
        new = dng.read_bytes()
        assert new[:4] == old[:4] and new[8 : len(old)] == old[8:]
        assert len(new) <= len(old) + 1 + 3 * 8192  # one IFD0 of ours per undo, not one per write


def test_a_rerun_replaces_our_ifd0_instead_of_adding_another(dng: Path) -> None:
    write_metadata(dng, RECORD)
    once = dng.read_bytes()
    write_metadata(dng, RECORD)
    assert dng.read_bytes() == once  # the same record: nothing to change
    write_metadata(dng, replace(RECORD, caption="x"))
    assert abs(len(dng.read_bytes()) - len(once)) < 200


def test_every_other_ifd0_entry_keeps_its_value(dng: Path) -> None:
    """SubIFDs (330), ExifIFD (34665), DNGPrivateData (50740), the strips, DNGVersion...: same type,
    count and value (their offsets too: nothing they point to moved)."""
    before = _other_ifd0_entries(dng)
    assert {330, 34665, 50740} & set(before) or 273 in before
    write_metadata(dng, RECORD)
    assert _other_ifd0_entries(dng) == before
    undo_metadata(dng)
    assert _other_ifd0_entries(dng) == before


@needs_exiftool
def test_exiftool_sees_the_same_file_but_for_our_fields(dng: Path) -> None:
    before, warnings = _listing(dng), _warnings(dng)

    write_metadata(dng, RECORD)
    assert _listing(dng) == before
    assert _warnings(dng) == warnings

    undo_metadata(dng)
    assert _listing(dng) == before
    assert _warnings(dng) == warnings
    meta = exiftool_json(dng)
    assert not any(k.startswith(("IPTC:", "XMP-autotagger:")) for k in meta)
    assert "IFD0:ImageDescription" not in meta and "IFD0:XPKeywords" not in meta


@needs_exiftool
def test_maker_notes_in_a_dng_survive(tmp_path: Path) -> None:
    path = adobe_dng(tmp_path / "mn.dng")
    original = path.read_bytes()
    write_metadata(path, RECORD)
    meta = exiftool_json(path)
    assert not [k for k in meta if k.endswith(":Warning")]
    assert meta["Nikon:MakerNoteVersion"] == 2.1
    assert path.read_bytes().find(MAKERNOTE) == original.find(MAKERNOTE)  # the EXIF one did not move


@pytest.mark.parametrize("name", ["IMG_2.DNG", "IMG_3.Dng"])
def test_dng_name_in_any_case(tmp_path: Path, name: str) -> None:
    path = minimal_dng(tmp_path / name)
    assert write_metadata(path, RECORD).embedded
    assert read_metadata(path).caption == RECORD.caption


def test_a_dng_by_content_with_a_tiff_name_keeps_its_original_bytes(tmp_path: Path) -> None:
    """A DNG named .tif was embedded as a TIFF, whose IFD0 was overwritten when it looked like ours:
    it is a DNG, written as carefully as one."""
    path = minimal_dng(tmp_path / "converted.tif")
    old = path.read_bytes()
    assert write_metadata(path, RECORD).embedded
    new = path.read_bytes()
    assert new[:4] == old[:4] and new[8 : len(old)] == old[8:]


@pytest.mark.parametrize("name", ["IMG_4.NEF", "IMG_5.cr2", "IMG_6.ARW"])
def test_other_tiff_based_raw_files_still_get_only_a_sidecar(tmp_path: Path, name: str) -> None:
    path = write_dng(tmp_path / name, scene())  # a TIFF with DNGVersion, but not named so
    old = path.read_bytes()
    outcome = write_metadata(path, RECORD)
    assert not outcome.embedded and outcome.sidecar is not None and outcome.warnings == ()
    assert path.read_bytes() == old
    assert undo_metadata(path).sidecar is not None and path.read_bytes() == old


def test_sidecar_mode_leaves_the_dng_alone(dng: Path) -> None:
    old = dng.read_bytes()
    outcome = write_metadata(dng, RECORD, mode="sidecar")
    assert not outcome.embedded and outcome.sidecar == str(sidecar_path(dng, "ext"))
    assert dng.read_bytes() == old


def test_both_mode_writes_both_and_undo_removes_both(dng: Path) -> None:
    outcome = write_metadata(dng, RECORD, mode="both", sidecar_name="base")
    sc = sidecar_path(dng, "base")
    assert outcome.embedded and outcome.sidecar == str(sc) and sc.exists()
    undone = undo_metadata(dng, sidecar_name="base")
    assert undone.embedded and undone.sidecar == str(sc) and not sc.exists()
    back = read_metadata(dng, sidecar_name="base")
    assert back.provenance is None and not set(SUBJECTS) & set(back.subjects)


def test_an_older_sidecar_of_ours_is_updated_too(dng: Path) -> None:
    """Before, every DNG got a sidecar: left as it was, it would hold our old tags beside the file's new ones."""
    old_record = replace(RECORD, caption="an old caption", date="2020-01-01T00:00:00+00:00")
    write_metadata(dng, old_record, mode="sidecar")
    sc = sidecar_path(dng, "ext")

    outcome = write_metadata(dng, RECORD)

    assert outcome.embedded and outcome.sidecar == str(sc) and outcome.warnings == ()
    doc = XmpDoc.parse(sc.read_bytes())
    assert doc.get_alt(merge.DC_DESCRIPTION) == RECORD.caption
    file_prov, sc_prov = read_metadata(dng).provenance, merge.read_provenance(doc)
    assert file_prov is not None and file_prov == sc_prov and file_prov.date == RECORD.date

    undo_metadata(dng)
    assert not sc.exists() and read_metadata(dng).provenance is None


def test_a_persons_own_sidecar_is_not_touched_in_auto_mode(dng: Path) -> None:
    sc = sidecar_path(dng, "ext")
    sc.write_text('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
                  '<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:Rating="5"/>'
                  "</rdf:RDF></x:xmpmeta>", encoding="utf-8")
    before = sc.read_bytes()
    outcome = write_metadata(dng, RECORD)
    assert outcome.embedded and outcome.sidecar is None and sc.read_bytes() == before
