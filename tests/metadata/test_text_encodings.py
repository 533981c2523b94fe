"""A person's text in other encodings (IPTC ISO-8859-1, EXIF Latin-1) and in IPTC only survives us.

exiftool is the judge: it reads IPTC without a UTF-8 marker, and EXIF with ``-charset exif=Latin``,
as Latin-1, and with ``-use MWG`` shows what Lightroom-like readers show.
"""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path
from typing import Any

import pytest

from autotagger.metadata import iptc as iptcmod
from autotagger.metadata import jpeg, read_metadata, undo_metadata, write_metadata
from tests.metadata.conftest import (
    CAPTION,
    EXIFTOOL,
    RECORD,
    exiftool_json,
    exiftool_set,
    needs_exiftool,
    picture,
)

pytestmark = needs_exiftool
LATIN1_DESCRIPTION = "Café à Zürich"


def _dataset(rec: int, ds: int, value: bytes) -> bytes:
    return bytes((0x1C, rec, ds)) + struct.pack(">H", len(value)) + value


def _jpeg_with_iim(path: Path, iim: bytes) -> Path:
    """A JPEG whose only metadata is a Photoshop APP13 segment holding ``iim``."""
    picture().save(path, quality=90)
    irb = b"8BIM\x04\x04\x00\x00" + struct.pack(">I", len(iim)) + iim + (b"\x00" if len(iim) & 1 else b"")
    payload = b"Photoshop 3.0\x00" + irb
    data = path.read_bytes()
    path.write_bytes(data[:2] + b"\xff\xed" + struct.pack(">H", len(payload) + 2) + payload + data[2:])
    return path


def _app13(path: Path) -> bytes:
    """The whole APP13 (Photoshop/IPTC) segment of a JPEG, marker and length included."""
    data, pos = path.read_bytes(), 2
    while data[pos + 1] != 0xDA:
        size = struct.unpack(">H", data[pos + 2 : pos + 4])[0]
        if data[pos + 1] == 0xED:
            return data[pos : pos + 2 + size]
        pos += 2 + size
    raise AssertionError("no APP13 segment")


def _mwg(path: Path) -> dict[str, Any]:
    meta = exiftool_json(path, "-use", "MWG", "-MWG:Keywords", "-MWG:Description")
    return {k: v for k, v in meta.items() if k.startswith("MWG:")}


def _exif_description_bytes(path: Path) -> bytes:
    assert EXIFTOOL is not None
    return subprocess.run([EXIFTOOL, "-b", "-IFD0:ImageDescription", str(path)],
                          capture_output=True, check=True).stdout


def test_iptc_declared_iso8859_1_is_transcoded_not_relabelled(tmp_path: Path) -> None:
    iim = (_dataset(1, 90, b"\x1b.A") + _dataset(2, 0, b"\x00\x04") + _dataset(2, 25, "Café".encode("latin-1"))
           + _dataset(2, 25, "Zürich".encode("latin-1")) + _dataset(2, 120, "Père Noël".encode("latin-1")))
    path = _jpeg_with_iim(tmp_path / "dam.jpg", iim)
    before = exiftool_json(path)
    assert before["IPTC:Keywords"] == ["Café", "Zürich"] and before["IPTC:Caption-Abstract"] == "Père Noël"

    assert write_metadata(path, RECORD).embedded
    meta = exiftool_json(path)
    assert meta["IPTC:CodedCharacterSet"] == "UTF8"
    assert meta["IPTC:Keywords"] == ["Café", "Zürich", "outdoors", "schön", "東京"]
    assert meta["IPTC:Caption-Abstract"] == "Père Noël"

    undo_metadata(path)
    meta = exiftool_json(path)
    assert meta["IPTC:Keywords"] == ["Café", "Zürich"] and meta["IPTC:Caption-Abstract"] == "Père Noël"


def test_iptc_in_a_charset_we_do_not_know_is_left_byte_identical(tmp_path: Path) -> None:
    cyrillic = "Москва".encode("iso8859-5")
    iim = _dataset(1, 90, b"\x1b-L") + _dataset(2, 0, b"\x00\x04") + _dataset(2, 25, cyrillic)
    path = _jpeg_with_iim(tmp_path / "ru.jpg", iim)
    app13 = _app13(path)

    assert write_metadata(path, RECORD).embedded
    assert _app13(path) == app13
    assert jpeg.read(path.read_bytes()).iptc == iim
    meta = exiftool_json(path)  # XMP and EXIF are still written
    assert meta["XMP-dc:Subject"] == ["outdoors", "schön", "東京"]
    assert meta["IFD0:XPKeywords"] == "outdoors;schön;東京"

    assert undo_metadata(path).embedded
    assert _app13(path) == app13


@pytest.mark.parametrize(("keyword", "marker_after_undo"), [("Mine", False), ("Café", True)])
def test_undo_takes_away_a_charset_marker_that_ascii_does_not_need(
        tmp_path: Path, keyword: str, marker_after_undo: bool) -> None:
    path = _jpeg_with_iim(tmp_path / "old.jpg", _dataset(2, 0, b"\x00\x04")
                          + _dataset(2, 25, keyword.encode("latin-1")))  # no charset marker
    original = jpeg.read(path.read_bytes()).iptc
    assert "IPTC:CodedCharacterSet" not in exiftool_json(path)

    write_metadata(path, RECORD)
    assert exiftool_json(path)["IPTC:CodedCharacterSet"] == "UTF8"  # our keywords are not ASCII

    undo_metadata(path)
    meta = exiftool_json(path)
    assert meta["IPTC:Keywords"] == keyword
    if marker_after_undo:  # the Latin-1 text is UTF-8 now: the marker must stay true
        assert meta["IPTC:CodedCharacterSet"] == "UTF8"
    else:
        assert "IPTC:CodedCharacterSet" not in meta
        assert jpeg.read(path.read_bytes()).iptc == original


def test_iim_unit_charsets() -> None:
    latin = iptcmod.Iim.parse(_dataset(1, 90, b"\x1b.A") + _dataset(2, 25, b"caf\xe9"))
    assert latin.charset_known and latin.get_texts(iptcmod.KEYWORDS) == ["café"]
    assert latin.serialize().startswith(_dataset(1, 90, iptcmod.UTF8_MARKER))
    utf8 = iptcmod.Iim.parse(_dataset(1, 90, b"\x1b%G") + _dataset(2, 25, "café".encode()))
    assert utf8.charset_known and utf8.get_texts(iptcmod.KEYWORDS) == ["café"]
    assert not iptcmod.Iim.parse(_dataset(1, 90, b"\x1b$B") + _dataset(2, 25, b"\xb0\xa1")).charset_known
    ascii_only = iptcmod.Iim.parse(_dataset(2, 25, b"plain"))
    # the record version goes first in record 2, as IIM, Photoshop and exiftool have it
    assert ascii_only.serialize() == _dataset(2, 0, b"\x00\x04") + _dataset(2, 25, b"plain")


def _latin1_exif(path: Path) -> None:
    assert EXIFTOOL is not None
    subprocess.run([EXIFTOOL, "-q", "-overwrite_original", "-charset", "exif=Latin",
                    f"-EXIF:ImageDescription={LATIN1_DESCRIPTION}", "-EXIF:Make=OLYMPUS", str(path)],
                   check=True, capture_output=True)


@pytest.mark.parametrize("ext", ["jpg", "png", "webp"])
def test_latin1_exif_description_keeps_its_bytes(tmp_path: Path, ext: str) -> None:
    path = tmp_path / f"cam.{ext}"
    picture().save(path, **({"lossless": True} if ext == "webp" else {}))
    _latin1_exif(path)
    raw = LATIN1_DESCRIPTION.encode("latin-1")
    assert _exif_description_bytes(path) == raw

    assert write_metadata(path, RECORD).embedded
    assert _exif_description_bytes(path) == raw  # already had a caption: not ours to rewrite
    meta = exiftool_json(path)
    assert meta["IFD0:XPKeywords"] == "outdoors;schön;東京" and meta["IFD0:Make"] == "OLYMPUS"
    assert read_metadata(path).exif_description == LATIN1_DESCRIPTION

    undo_metadata(path)
    assert _exif_description_bytes(path) == raw
    assert "IFD0:XPKeywords" not in exiftool_json(path)


@pytest.mark.parametrize("ext", ["jpg", "tif"])
def test_iptc_only_keywords_and_caption_stay_visible_to_mwg_readers(tmp_path: Path, ext: str) -> None:
    path = tmp_path / f"old.{ext}"
    picture().save(path)
    exiftool_set(path, "-IPTC:CodedCharacterSet=UTF8", "-IPTC:Keywords=Grandma", "-IPTC:Keywords=Birthday",
                 "-IPTC:Caption-Abstract=Grandma's 90th birthday")
    before = _mwg(path)
    assert before == {"MWG:Keywords": ["Grandma", "Birthday"], "MWG:Description": "Grandma's 90th birthday"}

    assert write_metadata(path, RECORD).embedded
    assert _mwg(path) == {"MWG:Keywords": ["Grandma", "Birthday", "outdoors", "schön", "東京"],
                          "MWG:Description": "Grandma's 90th birthday"}
    meta = exiftool_json(path)
    assert meta["XMP-dc:Description"] == meta["IPTC:Caption-Abstract"] == "Grandma's 90th birthday"
    assert "IFD0:ImageDescription" not in meta  # MWG readers take EXIF first: ours stays out of it
    assert meta["XMP-autotagger:Caption"] == CAPTION

    assert undo_metadata(path).embedded
    assert _mwg(path) == before
    meta = exiftool_json(path)
    assert meta["IPTC:Keywords"] == meta["XMP-dc:Subject"] == ["Grandma", "Birthday"]
    assert meta["XMP-dc:Description"] == "Grandma's 90th birthday"


def test_person_xmp_caption_is_not_hidden_by_ours_in_exif(tmp_path: Path) -> None:
    path = tmp_path / "dt.png"
    picture().save(path)
    exiftool_set(path, "-XMP-dc:Description=Mein Bild")
    write_metadata(path, RECORD)
    assert _mwg(path)["MWG:Description"] == "Mein Bild"
    assert "IFD0:ImageDescription" not in exiftool_json(path)
