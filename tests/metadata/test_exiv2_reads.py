"""exiv2 as a second judge: digiKam, darktable, gThumb and Shotwell read metadata through libexiv2,
which is stricter than exiftool about container layout. What we write must read there without a
warning, and what exiv2 writes after us (as digiKam does) must keep our tags readable and theirs kept."""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from autotagger.metadata import MetadataRecord, read_metadata, write_metadata
from autotagger.types import Tag
from tests.metadata import dngfiles
from tests.metadata.conftest import exiftool_set, make_image, needs_exiftool

EXIV2 = shutil.which("exiv2")
needs_exiv2 = pytest.mark.skipif(EXIV2 is None, reason="exiv2 not installed (scripts/system-deps.sh)")
pytestmark = [needs_exiv2, needs_exiftool]

CAPTION = "Café au lait é, 日本の朝 🎉 <&>"
RECORD = MetadataRecord(
    caption=CAPTION,
    caption_source="model",
    tags=(Tag("place|Église", 0.91, "place"), Tag("outdoors", 0.8, None), Tag("日本", None, None)),
    model_id="Salesforce/blip2-opt-2.7b",
    question_set_version="v7",
    date="2026-01-02T03:04:05+00:00",
)
OUR_LEAVES = ["Église", "outdoors", "日本"]
PERSON_SUBJECT = "my own keyword"  # make_image's foreign XMP: dc:subject and lr people|Anna
PERSON_IPTC = "Anna"
EXIF_FORMATS = ("jpeg", "tiff", "png", "webp", "dng")
IPTC_FORMATS = ("jpeg", "tiff", "dng")
# exiv2 (0.27) decodes XPKeywords as UCS-2, not UTF-16: a keyword outside the BMP (an emoji) there
# makes it warn "iconv: Invalid or incomplete multibyte ..." (exiftool 12.57 shows "??" for it too)
ICONV_WARNING = "Warning: iconv: Invalid or incomplete multibyte or wide character"


def exiv2(path: Path, *args: str) -> tuple[int, str, str]:
    assert EXIV2 is not None
    r = subprocess.run([EXIV2, *args, str(path)], capture_output=True)
    return r.returncode, r.stdout.decode("utf-8", "replace"), r.stderr.decode("utf-8", "replace")


def exiv2_values(path: Path, groups: str = "XIE") -> tuple[dict[str, list[str]], list[str]]:
    """{key: [values]} as exiv2 prints them (XMP and IPTC raw, EXIF interpreted, so XPKeywords is
    text), and exiv2's stderr lines; a non-zero exit fails the test."""
    values: dict[str, list[str]] = {}
    errors: list[str] = []
    for group in groups:
        rc, out, err = exiv2(path, f"-P{group}k{'t' if group == 'E' else 'v'}", "print")
        assert rc == 0, (group, err)
        errors += [line for line in err.splitlines() if line.strip()]
        for line in out.splitlines():
            key, _, value = line.partition(" ")
            values.setdefault(key, []).append(value.strip())
    return values, errors


def exiv2_modify(path: Path, *commands: str) -> list[str]:
    """Let exiv2 write to the file as digiKam would; its stderr lines (a failure fails the test)."""
    rc, _, err = exiv2(path, *(arg for c in commands for arg in ("-M", c)))
    assert rc == 0, err
    return [line for line in err.splitlines() if line.strip()]


def camera_file(folder: Path, fmt: str) -> Path:
    """A file as a camera and another tool left it: EXIF with GPS and a maker note, ICC, an XMP packet
    with other namespaces (exiftool), and where the format has IPTC, other datasets and a keyword."""
    if fmt == "dng":
        path = dngfiles.adobe_dng(folder / "photo.dng")  # Lightroom's XMP, maker note, DNGPrivateData
        exiftool_set(path, f"-XMP-dc:Subject+={PERSON_SUBJECT}", "-XMP-xmpRights:UsageTerms=all rights reserved")
    else:
        path = make_image(folder, fmt)
    if fmt in IPTC_FORMATS:
        exiftool_set(path, "-IPTC:City=Berlin", "-IPTC:By-line=Anna F.", f"-IPTC:Keywords={PERSON_IPTC}",
                     "-XMP-photoshop:City=Berlin")
    return path


def _subjects(values: dict[str, list[str]], key: str) -> list[str]:
    return [s for v in values.get(key, []) for s in v.split(", ")]


@pytest.mark.parametrize("fmt", [*EXIF_FORMATS, "heic"])
def test_exiv2_reads_what_we_embed_and_keeps_everything_else(tmp_path: Path, fmt: str) -> None:
    path = camera_file(tmp_path, fmt)
    before, warnings_before = exiv2_values(path)
    assert write_metadata(path, RECORD).embedded

    after, warnings = exiv2_values(path)
    assert warnings == warnings_before  # nothing new to complain about (the fixture's own EXIF aside)
    assert after["Xmp.dc.description"] == [f'lang="x-default" {CAPTION}']
    subjects = _subjects(after, "Xmp.dc.subject")
    assert PERSON_SUBJECT in subjects and all(leaf in subjects for leaf in OUR_LEAVES), subjects
    hierarchical = _subjects(after, "Xmp.lr.hierarchicalSubject")
    assert "people|Anna" in hierarchical and "place|Église" in hierarchical, hierarchical
    assert after["Xmp.autotagger.ModelId"] == [RECORD.model_id]
    if fmt in IPTC_FORMATS:
        assert after["Iptc.Application2.Caption"] == [CAPTION]
        assert after["Iptc.Application2.Keywords"] == [PERSON_IPTC, *OUR_LEAVES]
        assert after["Iptc.Application2.City"] == before["Iptc.Application2.City"] == ["Berlin"]
        assert after["Iptc.Application2.Byline"] == ["Anna F."]
    if fmt in EXIF_FORMATS:
        assert after["Exif.Image.ImageDescription"] == [CAPTION]
        assert after["Exif.Image.XPKeywords"][0].split(";") == OUR_LEAVES
    kept = [k for k in before if not k.startswith(("Xmp.dc.", "Xmp.lr.", "Iptc.Application2.Keywords"))
            and k not in ("Exif.Image.XMLPacket", "Exif.Image.IPTCNAA", "Iptc.Envelope.CharacterSet")]
    for key in kept:  # maker note, GPS, make, other namespaces and datasets: as they were
        assert after.get(key) == before[key], key
    assert "Exif.Photo.MakerNote" in kept and ("Exif.GPSInfo.GPSLatitude" in kept or fmt == "dng")
    assert after["Xmp.xmpRights.UsageTerms"] == ['lang="x-default" all rights reserved']


@pytest.mark.parametrize("name", ["ext", "base"])
def test_exiv2_reads_our_sidecars(tmp_path: Path, name: str) -> None:
    path = make_image(tmp_path, "jpeg", foreign_xmp=False)
    outcome = write_metadata(path, RECORD, mode="sidecar", sidecar_name=name)
    assert outcome.sidecar is not None
    values, warnings = exiv2_values(Path(outcome.sidecar), "X")
    assert warnings == []
    assert values["Xmp.dc.description"] == [f'lang="x-default" {CAPTION}']
    assert _subjects(values, "Xmp.dc.subject") == OUR_LEAVES
    assert _subjects(values, "Xmp.lr.hierarchicalSubject") == ["place|Église", "outdoors", "日本"]


def test_exiv2_reads_an_emoji_keyword_everywhere_but_in_xpkeywords(tmp_path: Path) -> None:
    """The emoji keyword reads in XMP and IPTC; exiv2's only complaint is its UCS-2 XPKeywords decoding."""
    path = camera_file(tmp_path, "jpeg")
    _, warnings_before = exiv2_values(path)
    write_metadata(path, MetadataRecord(CAPTION, "model", (Tag("🎉party", None, None), Tag("日本", None, None))))
    values, warnings = exiv2_values(path)
    assert [w for w in warnings if not w.startswith(ICONV_WARNING)] == warnings_before
    assert _subjects(values, "Xmp.dc.subject") == [PERSON_SUBJECT, "🎉party", "日本"]
    assert values["Iptc.Application2.Keywords"] == [PERSON_IPTC, "🎉party", "日本"]
    assert read_metadata(path).xp_keywords == ("🎉party", "日本")  # the bytes are right (UTF-16)


@pytest.mark.parametrize("target", [*EXIF_FORMATS, "sidecar"])
def test_exiv2_writes_after_us_and_both_keep_the_others_keywords(tmp_path: Path, target: str) -> None:
    """digiKam edits through exiv2 after us: exiv2 must manage the file, we must still read ours and
    theirs, and our next write must keep theirs."""
    fmt = "jpeg" if target == "sidecar" else target
    path = camera_file(tmp_path, fmt)
    outcome = write_metadata(path, RECORD, mode="sidecar" if target == "sidecar" else "auto")
    written = Path(outcome.sidecar) if target == "sidecar" else path
    _, warnings_before = exiv2_values(written)

    complaints = exiv2_modify(written, "add Xmp.dc.subject digikam-tag", "set Iptc.Application2.Keywords digikam-iptc",
                              "add Xmp.photoshop.Headline digiKam was here")
    assert set(complaints) <= set(warnings_before)  # it reads and writes: the fixture's EXIF warnings twice
    read = read_metadata(path)
    assert read.warnings == ()
    assert "digikam-tag" in read.subjects and read.provenance is not None
    assert read.caption == CAPTION and "place|Église" in read.hierarchical
    if fmt in IPTC_FORMATS and target != "sidecar":
        assert "digikam-iptc" in read.iptc_keywords

    again = write_metadata(path, RECORD, mode="sidecar" if target == "sidecar" else "auto")
    assert again.warnings == ()
    read = read_metadata(path)
    assert "digikam-tag" in read.subjects and all(leaf in read.subjects for leaf in OUR_LEAVES), read.subjects
    values, warnings = exiv2_values(written, "XI")
    assert set(warnings) <= set(warnings_before)  # (exiv2 may have rewritten the fixture's odd EXIF)
    assert values["Xmp.photoshop.Headline"] == ["digiKam was here"]
    assert "digikam-tag" in _subjects(values, "Xmp.dc.subject")
    if fmt in IPTC_FORMATS and target != "sidecar":
        assert "digikam-iptc" in values["Iptc.Application2.Keywords"]
        assert all(leaf in values["Iptc.Application2.Keywords"] for leaf in OUR_LEAVES)


# ---- HEIC: exiv2 guesses iloc's layout -------------------------------------------------------
def _box_at(data: bytes, pos: int) -> tuple[bytes, int]:
    size, btype = struct.unpack(">I4s", data[pos : pos + 8])
    return btype, size


def _without_iloc_bases(data: bytes) -> bytes:
    """The HEIF (libheif's: iloc v0, every offset in base_offset) with base_offset_size 0 and the
    offsets in extent_offset instead, as other writers lay iloc out; the item data moves up as much as
    meta shrinks."""
    pos = 0
    while _box_at(data, pos)[0] != b"meta":
        pos += _box_at(data, pos)[1]
    meta_start, meta_end = pos, pos + _box_at(data, pos)[1]
    children, p = [], meta_start + 12
    while p < meta_end:
        btype, size = _box_at(data, p)
        children.append((btype, data[p + 8 : p + size]))
        p += size
    iloc = next(body for t, body in children if t == b"iloc")
    assert iloc[0] == 0 and iloc[4:6] == b"\x44\x40", iloc[:6].hex()
    count = struct.unpack(">H", iloc[6:8])[0]
    delta = -4 * count
    new = bytearray(iloc[:4] + b"\x44\x00" + iloc[6:8])
    q = 8
    for _ in range(count):
        item, dref, base, extents = struct.unpack(">HHIH", iloc[q : q + 10])
        new += struct.pack(">HHH", item, dref, extents)
        q += 10
        for _ in range(extents):
            off, length = struct.unpack(">II", iloc[q : q + 8])
            assert base + off >= meta_end
            new += struct.pack(">II", base + off + delta, length)
            q += 8
    body = data[meta_start + 8 : meta_start + 12] + b"".join(
        struct.pack(">I", 8 + len(b)) + t + b for t, b in ((t, bytes(new) if t == b"iloc" else b) for t, b in children))
    out = data[:meta_start] + struct.pack(">I", 8 + len(body)) + b"meta" + body + data[meta_end:]
    assert len(out) == len(data) + delta
    return out


def test_heic_without_iloc_bases_keeps_its_layout_so_exiv2_reads_exif_and_our_xmp(tmp_path: Path) -> None:
    path = make_image(tmp_path, "heic", foreign_xmp=False)
    path.write_bytes(_without_iloc_bases(path.read_bytes()))
    before, warnings_before = exiv2_values(path, "XE")
    assert before["Exif.Image.Make"] == ["TestCam"]  # exiv2 reads this layout

    assert write_metadata(path, RECORD).embedded
    after, warnings = exiv2_values(path, "XE")
    assert warnings == warnings_before
    assert after["Exif.Image.Make"] == ["TestCam"]
    assert after["Exif.Photo.MakerNote"] == before["Exif.Photo.MakerNote"]
    assert after["Xmp.dc.description"] == [f'lang="x-default" {CAPTION}']
    assert _subjects(after, "Xmp.dc.subject") == OUR_LEAVES
    assert read_metadata(path).subjects == tuple(OUR_LEAVES)
