"""DNG files we must not write into (BigTIFF, damaged, cut off, not a DNG at all) are left exactly as
they were: the sidecar takes our tags in auto mode, with one warning that says why; embed mode fails
with one line naming the file."""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from autotagger.metadata import MetadataError, read_metadata, safefile, sidecar_path, tiffifd, write_metadata
from autotagger.metadata.tiffifd import Tiff
from tests.metadata.conftest import RECORD, picture, temp_leftovers
from tests.metadata.dngfiles import adobe_dng, minimal_dng


def _big_tiff(path: Path) -> None:
    # BigTIFF header (43), the first IFD at 16, with DNGVersion: as a large DNG might be
    ifd = struct.pack("<Q", 1) + struct.pack("<HHQQ", 50706, 1, 4, 0x00000401) + struct.pack("<Q", 0)
    path.write_bytes(b"II+\x00\x08\x00\x00\x00" + struct.pack("<Q", 16) + ifd)


def _cut_off(path: Path) -> None:
    """A download that stopped early: the last strip (the thumbnail after IFD0) is incomplete."""
    adobe_dng(path)
    path.write_bytes(path.read_bytes()[:-100])


def _cut_in_the_raw(path: Path) -> None:
    """Cut in the middle of the raw image: the SubIFD and EXIF IFD after it are gone."""
    adobe_dng(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _plain_tiff(path: Path) -> None:
    picture().save(path, format="TIFF")


def _jpeg(path: Path) -> None:
    picture().save(path, format="JPEG")


def _tag_twice(path: Path) -> None:
    """IFD0 names Make twice (the second in place of Software): one would be lost in a rewrite."""
    minimal_dng(path)
    data = bytearray(path.read_bytes())
    t = Tiff(bytes(data))
    entries, _ = t.read_ifd(t.ifd0)
    i = [e.tag for e in entries].index(272)
    struct.pack_into("<H", data, t.ifd0 + 2 + 12 * i, 271)
    path.write_bytes(bytes(data))


def _sub_ifd_past_the_end(path: Path) -> None:
    adobe_dng(path)
    data = bytearray(path.read_bytes())
    t = Tiff(bytes(data))
    entries, _ = t.read_ifd(t.ifd0)
    i = [e.tag for e in entries].index(330)
    struct.pack_into("<I", data, t.ifd0 + 2 + 12 * i + 8, len(data) + 1000)
    path.write_bytes(bytes(data))


BAD: dict[str, tuple[Callable[[Path], None], str]] = {
    "bigtiff": (_big_tiff, "BigTIFF"),
    "cut-off": (_cut_off, "runs past the end of the file"),
    "cut-in-the-raw": (_cut_in_the_raw, "offset out of range"),
    "sub-ifd-past-the-end": (_sub_ifd_past_the_end, "SubIFD"),
    "plain-tiff": (_plain_tiff, "no DNGVersion"),
    "jpeg": (_jpeg, "no TIFF header"),
    "tag-twice": (_tag_twice, "appears twice"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_dng_we_must_not_write_gets_a_sidecar_and_a_warning(tmp_path: Path, case: str) -> None:
    make, reason = BAD[case]
    path = tmp_path / "IMG_9.dng"
    make(path)
    before = path.read_bytes()

    outcome = write_metadata(path, RECORD)

    assert path.read_bytes() == before and temp_leftovers(tmp_path) == []
    assert not outcome.embedded and outcome.sidecar == str(sidecar_path(path, "ext"))
    assert len(outcome.warnings) == 1 and reason in outcome.warnings[0], outcome.warnings
    assert "wrote sidecar instead" in outcome.warnings[0]
    assert read_metadata(path).caption == RECORD.caption  # from the sidecar

    with pytest.raises(MetadataError, match="cannot embed safely") as info:
        write_metadata(path, RECORD, mode="embed")
    assert str(path) in str(info.value) and "\n" not in str(info.value)
    assert path.read_bytes() == before


def test_a_dng_whose_new_ifd0_would_be_past_4_gib_is_refused(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Classic TIFF offsets are 32 bits: a new IFD0 past 4 GiB cannot be pointed to (the limit
    lowered to this file's size, as no test makes a 4 GiB file)."""
    path = adobe_dng(tmp_path / "huge.dng")
    before = path.read_bytes()
    monkeypatch.setattr(tiffifd, "MAX_OFFSET", len(before) + 100)
    outcome = write_metadata(path, RECORD)
    assert path.read_bytes() == before and not outcome.embedded and outcome.sidecar is not None
    assert "over 4 GiB" in outcome.warnings[0]


class Boom(Exception):
    pass


@pytest.mark.parametrize("step", ["write", "fsync", "replace"])
def test_a_failure_while_replacing_a_dng_leaves_it_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         step: str) -> None:
    path = adobe_dng(tmp_path / "crash.dng")
    before = path.read_bytes()

    def fail(*args: object, **kwargs: object) -> None:
        raise Boom(step)

    monkeypatch.setattr(safefile.os, step, fail)
    with pytest.raises(Boom):
        write_metadata(path, RECORD)
    monkeypatch.undo()
    assert path.read_bytes() == before and temp_leftovers(tmp_path) == []
    assert write_metadata(path, RECORD).embedded


def test_a_read_only_dng_gets_a_sidecar_and_says_so(tmp_path: Path) -> None:
    path = minimal_dng(tmp_path / "ro.dng")
    path.chmod(0o444)
    before = path.read_bytes()
    outcome = write_metadata(path, RECORD)
    assert path.read_bytes() == before and outcome.sidecar is not None
    assert outcome.warnings == ("not embedded (file is read-only); wrote sidecar instead",)


def test_pillow_still_reads_the_thumbnail_ifd0_after_our_write(tmp_path: Path) -> None:
    """A plain TIFF reader (Pillow, file managers' thumbnailers) follows the header to our IFD0."""
    path = adobe_dng(tmp_path / "thumb.dng")
    with Image.open(path) as im:
        before = im.convert("RGB").tobytes()
    write_metadata(path, RECORD)
    with Image.open(path) as im:
        assert im.convert("RGB").tobytes() == before
