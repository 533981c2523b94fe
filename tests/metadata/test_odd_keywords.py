"""Keywords and captions that a field cannot hold as given, judged by exiftool: control characters,
stray spaces, a ";" in XPKeywords, IPTC's 64-byte keyword and 2000-byte caption limits."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from autotagger.metadata import MetadataRecord, read_metadata, undo_metadata, write_metadata
from autotagger.types import Tag
from tests.metadata.conftest import EXIFTOOL, exiftool_json, make_image, needs_exiftool

pytestmark = needs_exiftool
OURS = ("XMP-dc:Subject", "XMP-lr:HierarchicalSubject", "IPTC:Keywords", "IFD0:XPKeywords",
        "XMP-dc:Description", "IPTC:Caption-Abstract", "IFD0:ImageDescription")


def _record(tags: list[str], caption: str = "a caption", person_tags: tuple[str, ...] = ()) -> MetadataRecord:
    return MetadataRecord(caption=caption, caption_source="model", tags=tuple(Tag(t, 0.9) for t in tags),
                          person_tags=person_tags, model_id="m", question_set_version="v1",
                          date="2026-01-02T03:04:05+00:00")


def _list(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _validate(path: Path) -> str:
    assert EXIFTOOL is not None
    return subprocess.run([EXIFTOOL, "-validate", "-warning", "-a", str(path)], capture_output=True, text=True).stdout


def _assert_nothing_of_ours_left(path: Path) -> None:
    meta = exiftool_json(path)
    assert not [k for k in meta if k.startswith("XMP-autotagger")], meta
    assert {k: meta[k] for k in OURS if k in meta} == {}


@pytest.mark.parametrize("fmt", ["jpeg", "tiff"])
def test_control_characters_never_make_the_files_xmp_unreadable(tmp_path: Path, fmt: str) -> None:
    """XML 1.0 cannot hold most C0 controls, and a lone CR reads back as LF: written raw, the packet
    was unreadable to us (the file stuck with our tags) or undo missed the value."""
    path = make_image(tmp_path, fmt, foreign_xmp=False)
    rec = _record(["bell\x07here", "tab\there", "cr\rhere"], caption="line one\r\nline two\x0c",
                  person_tags=("nul\x00here",))

    outcome = write_metadata(path, rec)

    assert outcome.embedded and outcome.sidecar is None and outcome.warnings == ()
    back = read_metadata(path)
    assert back.warnings == ()
    assert back.subjects == ("bellhere", "tab here", "cr here", "nulhere")
    assert back.xp_keywords == back.subjects and back.iptc_keywords == back.subjects
    assert back.caption == back.iptc_caption == back.exif_description == "line one\nline two"
    assert "XMP" not in _validate(path)
    assert undo_metadata(path).warnings == ()
    meta = exiftool_json(path)
    assert not [k for k in meta if k.startswith("XMP-autotagger")], meta
    assert {k: meta[k] for k in OURS if k in meta} == {  # the person's keyword stays, as it was written
        "XMP-dc:Subject": ["nulhere"], "XMP-lr:HierarchicalSubject": ["nulhere"], "IPTC:Keywords": "nulhere",
        "IFD0:XPKeywords": "nulhere"}


def test_a_lone_surrogate_in_a_raw_files_tag_gives_a_readable_sidecar(tmp_path: Path) -> None:
    raw = tmp_path / "IMG_1.CR2"
    raw.write_bytes(b"raw data")

    outcome = write_metadata(raw, _record(["half\ud83d", "dog"]))

    assert outcome.sidecar is not None
    assert read_metadata(raw).subjects == ("half", "dog")


@pytest.mark.parametrize("fmt", ["jpeg", "png"])
def test_keyword_with_surrounding_spaces_is_undone_from_every_field(tmp_path: Path, fmt: str) -> None:
    """XPKeywords is read back split and stripped: " dog " written as is could never be undone."""
    path = make_image(tmp_path, fmt, foreign_xmp=False)
    write_metadata(path, _record([" dog ", "cat"]))
    assert _list(exiftool_json(path)["XMP-dc:Subject"]) == ["dog", "cat"]
    undo_metadata(path)
    _assert_nothing_of_ours_left(path)


@pytest.mark.parametrize("fmt", ["jpeg", "tiff", "png"])
def test_keyword_with_a_semicolon_stays_out_of_xpkeywords(tmp_path: Path, fmt: str) -> None:
    """XPKeywords separates keywords with ";": "rock;roll" there is two keywords to Windows and to
    our own reader, and undo left them behind. XMP (which Windows reads too) and IPTC hold it whole."""
    path = make_image(tmp_path, fmt, foreign_xmp=False)
    write_metadata(path, _record(["music|rock;roll", "dog"]))
    meta = exiftool_json(path)
    assert meta["IFD0:XPKeywords"] == "dog"
    assert _list(meta["XMP-dc:Subject"]) == ["rock;roll", "dog"]
    if fmt != "png":
        assert _list(meta["IPTC:Keywords"]) == ["rock;roll", "dog"]
    undo_metadata(path)
    _assert_nothing_of_ours_left(path)


@pytest.mark.parametrize(
    ("keyword", "in_iptc"),
    [("é" * 40, "é" * 32), ("x" + "😀" * 20, "x" + "😀" * 15), ("L" * 80, "L" * 64), ("k" * 64, "k" * 64)],
    ids=["two-byte", "four-byte", "ascii", "exactly-64"],
)
def test_iptc_keyword_is_cut_to_64_bytes_on_a_character_boundary(tmp_path: Path, keyword: str, in_iptc: str) -> None:
    """IIM allows 64 bytes per keyword (exiftool warns, strict readers cut or refuse). XMP keeps the
    whole keyword; a re-run does not add the cut one twice; undo takes it out."""
    path = make_image(tmp_path, "jpeg", foreign_xmp=False)
    for _ in range(2):
        write_metadata(path, _record([keyword, "dog"]))
        meta = exiftool_json(path)
        assert _list(meta["IPTC:Keywords"]) == [in_iptc, "dog"]
        assert _list(meta["XMP-dc:Subject"]) == [keyword, "dog"]
        assert "too long" not in _validate(path)
    undo_metadata(path)
    _assert_nothing_of_ours_left(path)


def test_iptc_caption_is_cut_to_2000_bytes_and_undone(tmp_path: Path) -> None:
    path = make_image(tmp_path, "tiff", foreign_xmp=False)
    caption = "Schöne Aussicht. " * 150  # 2700 bytes in UTF-8
    write_metadata(path, _record(["dog"], caption=caption))
    back = read_metadata(path)
    assert back.caption == caption.strip()
    assert len(back.iptc_caption.encode("utf-8")) <= 2000 and caption.startswith(back.iptc_caption)
    assert len(back.iptc_caption.encode("utf-8")) > 1990
    assert "too long" not in _validate(path)
    undo_metadata(path)
    _assert_nothing_of_ours_left(path)
