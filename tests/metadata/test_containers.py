"""Container details other tools rely on: ImageMagick's PNG XMP, bytes after the image, repeated
JPEG segments, the simple WebP form. The image data itself is compared chunk by chunk."""

from __future__ import annotations

import shutil
import struct
import subprocess
import zlib
from pathlib import Path
from typing import Any

import piexif
import pytest
from PIL import Image

from autotagger.metadata import MetadataError, read_metadata, undo_metadata, write_metadata
from tests.metadata.conftest import RECORD, exiftool_json, needs_exiftool, picture, pixels

pytestmark = needs_exiftool
EXIV2 = shutil.which("exiv2")
needs_exiv2 = pytest.mark.skipif(EXIV2 is None, reason="exiv2 not installed")

PERSON_XMP = (
    b'<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="Image::ExifTool 12.57">\n'
    b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
    b' <rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"\n'
    b'  xmlns:xmpRights="http://ns.adobe.com/xap/1.0/rights/">\n'
    b"  <dc:description><rdf:Alt><rdf:li xml:lang=\"x-default\">Grandma's 90th</rdf:li></rdf:Alt></dc:description>\n"
    b"  <dc:subject><rdf:Bag><rdf:li>Grandma</rdf:li><rdf:li>Birthday</rdf:li></rdf:Bag></dc:subject>\n"
    b"  <xmpRights:UsageTerms><rdf:Alt><rdf:li xml:lang=\"x-default\">mine</rdf:li></rdf:Alt></xmpRights:UsageTerms>\n"
    b" </rdf:Description>\n</rdf:RDF>\n</x:xmpmeta>\n<?xpacket end=\"w\"?>"
)
PERSON_SUBJECTS = ["Grandma", "Birthday"]
OUR_SUBJECTS = ["outdoors", "schön", "東京"]
PAYLOAD = b"APPENDED-PAYLOAD-0123456789"


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _xmp_fields(meta: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in meta.items() if k.startswith("XMP-")}


# ---- PNG helpers ----------------------------------------------------------------------------
def _png_split(data: bytes) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """([(type, body)], bytes after IEND)."""
    pos, out = 8, []
    while True:
        size, ctype = struct.unpack(">I4s", data[pos : pos + 8])
        out.append((ctype, data[pos + 8 : pos + 8 + size]))
        pos += 12 + size
        if ctype == b"IEND":
            return out, data[pos:]


def _png_join(chunks: list[tuple[bytes, bytes]], tail: bytes = b"") -> bytes:
    out = bytearray(b"\x89PNG\r\n\x1a\n")
    for ctype, body in chunks:
        out += struct.pack(">I", len(body)) + ctype + body + struct.pack(">I", zlib.crc32(ctype + body))
    return bytes(out) + tail


def _idat(path: Path) -> list[bytes]:
    return [b for t, b in _png_split(path.read_bytes())[0] if t == b"IDAT"]


def _raw_profile(xmp: bytes, ctype: bytes, hex_text: bytes | None = None) -> tuple[bytes, bytes]:
    """An XMP chunk as ImageMagick writes it: "\\nxmp\\n<len>\\n" + hex in lines of 72."""
    hexed = xmp.hex().encode()
    hex_text = hex_text if hex_text is not None else b"\n".join(hexed[i : i + 72] for i in range(0, len(hexed), 72))
    text = b"\nxmp\n%8d\n" % len(xmp) + hex_text + b"\n"
    key = b"Raw profile type xmp\x00"
    if ctype == b"zTXt":
        return ctype, key + b"\x00" + zlib.compress(text)
    if ctype == b"iTXt":
        return ctype, key + b"\x01\x00\x00\x00" + zlib.compress(text)
    return ctype, key + text


def _png_with_chunks(folder: Path, *extra: tuple[bytes, bytes]) -> Path:
    """A PNG with ``extra`` chunks before IDAT, where ImageMagick puts its profiles."""
    path = folder / "photo.png"
    picture().save(path)
    chunks, tail = _png_split(path.read_bytes())
    at = next(i for i, (t, _) in enumerate(chunks) if t == b"IDAT")
    path.write_bytes(_png_join(chunks[:at] + list(extra) + chunks[at:], tail))
    return path


def _xmp_chunks(path: Path) -> list[bytes]:
    """The keywords of every chunk that carries an XMP packet."""
    keys = [b.split(b"\x00", 1)[0] for t, b in _png_split(path.read_bytes())[0] if t in (b"tEXt", b"zTXt", b"iTXt")]
    return [k for k in keys if k in (b"XML:com.adobe.xmp", b"Raw profile type xmp")]


def _exiv2_subjects(path: Path) -> str:
    assert EXIV2 is not None
    out = subprocess.run([EXIV2, "-px", str(path)], capture_output=True, text=True).stdout
    return next((line for line in out.splitlines() if line.startswith("Xmp.dc.subject")), "")


# ---- ImageMagick's "Raw profile type xmp" ---------------------------------------------------
@pytest.mark.parametrize("ctype", [b"zTXt", b"tEXt", b"iTXt"])
def test_png_raw_profile_xmp_is_merged_into_one_standard_packet(tmp_path: Path, ctype: bytes) -> None:
    path = _png_with_chunks(tmp_path, _raw_profile(PERSON_XMP, ctype))
    before = exiftool_json(path)
    assert _as_list(before["XMP-dc:Subject"]) == PERSON_SUBJECTS
    idat, before_pixels = _idat(path), pixels(path)
    assert read_metadata(path).subjects == tuple(PERSON_SUBJECTS)

    outcome = write_metadata(path, RECORD)
    assert outcome.embedded and outcome.warnings == ()
    meta = exiftool_json(path)
    assert "ExifTool:Warning" not in meta  # no "Duplicate XMP"
    assert _as_list(meta["XMP-dc:Subject"]) == PERSON_SUBJECTS + OUR_SUBJECTS
    assert meta["XMP-dc:Description"] == "Grandma's 90th"  # the person's caption stays
    assert meta["XMP-xmpRights:UsageTerms"] == "mine"
    assert meta["XMP-autotagger:ModelId"] == RECORD.model_id
    assert _xmp_chunks(path) == [b"XML:com.adobe.xmp"]
    assert _idat(path) == idat and pixels(path) == before_pixels

    assert undo_metadata(path).embedded
    after = exiftool_json(path)
    assert "ExifTool:Warning" not in after
    assert _xmp_fields(after) == _xmp_fields(before)
    assert _xmp_chunks(path) == [b"XML:com.adobe.xmp"]
    assert _idat(path) == idat and pixels(path) == before_pixels


@needs_exiv2
def test_png_raw_profile_exiv2_sees_the_merged_packet_and_after_undo_the_persons(tmp_path: Path) -> None:
    path = _png_with_chunks(tmp_path, _raw_profile(PERSON_XMP, b"zTXt"))
    write_metadata(path, RECORD)
    line = _exiv2_subjects(path)
    assert all(s in line for s in PERSON_SUBJECTS + OUR_SUBJECTS), line
    undo_metadata(path)
    line = _exiv2_subjects(path)
    assert "Grandma, Birthday" in line and "outdoors" not in line, line


@pytest.mark.parametrize(
    "chunk",
    [
        _raw_profile(PERSON_XMP, b"zTXt", hex_text=b"3c3fzz"),  # not hex
        _raw_profile(PERSON_XMP, b"zTXt", hex_text=PERSON_XMP[:40].hex().encode()),  # shorter than it says
        (b"zTXt", b"Raw profile type xmp\x00\x00not zlib data"),
    ],
    ids=["bad-hex", "short", "bad-zlib"],
)
def test_png_undecodable_raw_profile_xmp_falls_back_to_sidecar(tmp_path: Path, chunk: tuple[bytes, bytes]) -> None:
    path = _png_with_chunks(tmp_path, chunk)
    original = path.read_bytes()
    with pytest.raises(MetadataError, match="cannot embed safely"):
        write_metadata(path, RECORD, mode="embed")
    outcome = write_metadata(path, RECORD)
    assert not outcome.embedded and outcome.sidecar and outcome.warnings
    assert path.read_bytes() == original


def test_png_raw_profile_next_to_a_standard_packet_falls_back_to_sidecar(tmp_path: Path) -> None:
    """Readers disagree on which of the two they show: merging into one would hide the other."""
    other = PERSON_XMP.replace(b"Grandma", b"Someone else")
    standard = (b"iTXt", b"XML:com.adobe.xmp\x00\x00\x00\x00\x00" + other)
    path = _png_with_chunks(tmp_path, _raw_profile(PERSON_XMP, b"zTXt"), standard)
    original = path.read_bytes()
    outcome = write_metadata(path, RECORD)
    assert not outcome.embedded and outcome.sidecar
    assert path.read_bytes() == original


def test_png_raw_profile_is_not_dropped_when_the_new_packet_lacks_its_values(tmp_path: Path) -> None:
    from autotagger.metadata import UnsafeToEmbed, png
    from autotagger.metadata.parts import Parts

    data = _png_with_chunks(tmp_path, _raw_profile(PERSON_XMP, b"zTXt")).read_bytes()
    without_rights = PERSON_XMP.replace(b"UsageTerms", b"Owner").replace(b"xmpRights:Owner", b"dc:rights")
    with pytest.raises(UnsafeToEmbed, match="raw XMP profile"):
        png.write(data, Parts(xmp=without_rights, supports_exif=True))
    with pytest.raises(UnsafeToEmbed, match="raw XMP profile"):
        png.write(data, Parts(xmp=None, supports_exif=True))


def test_png_second_standard_packet_is_kept_and_the_first_is_updated(tmp_path: Path) -> None:
    second = (b"iTXt", b"XML:com.adobe.xmp\x00\x00\x00\x00\x00" + PERSON_XMP.replace(b"Grandma", b"Someone else"))
    path = _png_with_chunks(tmp_path, (b"iTXt", b"XML:com.adobe.xmp\x00\x00\x00\x00\x00" + PERSON_XMP), second)
    idat = _idat(path)
    assert write_metadata(path, RECORD).embedded
    assert read_metadata(path).subjects == (*PERSON_SUBJECTS, *OUR_SUBJECTS)
    assert _png_split(path.read_bytes())[0].count(second) == 1 and _idat(path) == idat
    assert undo_metadata(path).embedded
    assert read_metadata(path).subjects == tuple(PERSON_SUBJECTS)
    assert _png_split(path.read_bytes())[0].count(second) == 1 and _idat(path) == idat


# ---- bytes after the image -----------------------------------------------------------------
def _riff_chunks(data: bytes) -> dict[bytes, bytes]:
    end, pos, out = 8 + struct.unpack("<I", data[4:8])[0], 12, {}
    while pos + 8 <= end:
        ctype, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        out[ctype] = data[pos + 8 : pos + 8 + size]
        pos += 8 + size + (size & 1)
    return out


def _image_data(path: Path) -> list[bytes]:
    if path.suffix == ".png":
        return _idat(path)
    chunks = _riff_chunks(path.read_bytes())
    return [chunks[t] for t in (b"VP8 ", b"VP8L", b"ALPH") if t in chunks]


@pytest.mark.parametrize("name", ["a.png", "b.webp"])
def test_bytes_after_the_image_are_kept(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    picture().save(path, **({"quality": 80} if name.endswith(".webp") else {}))
    path.write_bytes(path.read_bytes() + PAYLOAD)
    data, before_pixels = _image_data(path), pixels(path)

    assert write_metadata(path, RECORD).embedded
    assert path.read_bytes().endswith(PAYLOAD) and path.read_bytes().count(PAYLOAD) == 1
    assert read_metadata(path).caption == RECORD.caption
    meta = exiftool_json(path)
    assert "ExifTool:Error" not in meta and meta["XMP-dc:Description"] == RECORD.caption
    assert _image_data(path) == data and pixels(path) == before_pixels

    assert undo_metadata(path).embedded
    assert path.read_bytes().endswith(PAYLOAD) and path.read_bytes().count(PAYLOAD) == 1
    assert _image_data(path) == data and pixels(path) == before_pixels


# ---- repeated JPEG segments ----------------------------------------------------------------
def _jpeg_segments(data: bytes) -> tuple[list[bytes], bytes]:
    """([APPn payloads with their marker byte first], data from SOS on)."""
    pos, segs = 2, []
    while data[pos + 1] != 0xDA:
        size = struct.unpack(">H", data[pos + 2 : pos + 4])[0]
        segs.append(data[pos + 1 : pos + 2] + data[pos + 4 : pos + 2 + size])
        pos += 2 + size
    return segs, data[pos:]


def _jpeg_insert(path: Path, after: bytes, payload: bytes) -> None:
    """Insert an APP1 segment right after the first segment that starts with ``after``."""
    data = path.read_bytes()
    i = data.index(after) - 4
    size = struct.unpack(">H", data[i + 2 : i + 4])[0]
    seg = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    path.write_bytes(data[: i + 2 + size] + seg + data[i + 2 + size :])


def test_jpeg_second_exif_segment_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "a.jpg"
    picture().save(path, quality=90, exif=piexif.dump({"0th": {piexif.ImageIFD.Make: b"Canon"}}))
    second = piexif.dump({"0th": {piexif.ImageIFD.Artist: b"Jane Doe", piexif.ImageIFD.Copyright: b"(c) Jane Doe"}})
    _jpeg_insert(path, b"Exif\x00\x00", second)
    before = exiftool_json(path)
    assert before["IFD0:Artist"] == "Jane Doe"
    scan = _jpeg_segments(path.read_bytes())[1]

    assert write_metadata(path, RECORD).embedded
    segs, new_scan = _jpeg_segments(path.read_bytes())
    assert b"\xe1" + second in segs and new_scan == scan
    meta = exiftool_json(path)
    assert meta["IFD0:Artist"] == "Jane Doe" and meta["IFD0:Copyright"] == "(c) Jane Doe"
    assert meta["IFD0:Make"] == "Canon" and meta["IFD0:ImageDescription"] == RECORD.caption

    assert undo_metadata(path).embedded
    segs, new_scan = _jpeg_segments(path.read_bytes())
    assert b"\xe1" + second in segs and new_scan == scan
    after = exiftool_json(path)
    assert {k: v for k, v in after.items() if k.startswith(("IFD0:", "ExifIFD:"))} == {
        k: v for k, v in before.items() if k.startswith(("IFD0:", "ExifIFD:"))}


def test_jpeg_second_xmp_packet_is_kept_and_the_first_is_updated(tmp_path: Path) -> None:
    xmp_id = b"http://ns.adobe.com/xap/1.0/\x00"
    path = tmp_path / "a.jpg"
    picture().save(path, quality=90)
    first = xmp_id + PERSON_XMP
    second = xmp_id + PERSON_XMP.replace(b"Grandma", b"Someone else")
    _jpeg_insert(path, b"JFIF\x00", second)
    _jpeg_insert(path, b"JFIF\x00", first)
    scan = _jpeg_segments(path.read_bytes())[1]

    assert write_metadata(path, RECORD).embedded
    segs, new_scan = _jpeg_segments(path.read_bytes())
    xmp_segs = [s for s in segs if s.startswith(b"\xe1" + xmp_id)]
    assert len(xmp_segs) == 2 and xmp_segs[1] == b"\xe1" + second and new_scan == scan
    assert read_metadata(path).subjects == (*PERSON_SUBJECTS, *OUR_SUBJECTS)

    assert undo_metadata(path).embedded
    segs, new_scan = _jpeg_segments(path.read_bytes())
    xmp_segs = [s for s in segs if s.startswith(b"\xe1" + xmp_id)]
    assert len(xmp_segs) == 2 and xmp_segs[1] == b"\xe1" + second and new_scan == scan
    assert read_metadata(path).subjects == tuple(PERSON_SUBJECTS)


# ---- simple WebP ---------------------------------------------------------------------------
@pytest.mark.parametrize(("mode", "options"), [("RGB", {"quality": 80}), ("RGB", {"lossless": True}),
                                               ("RGBA", {"lossless": True})], ids=["VP8", "VP8L", "VP8L-alpha"])
def test_simple_webp_is_simple_again_after_undo(tmp_path: Path, mode: str, options: dict[str, Any]) -> None:
    path = tmp_path / "a.webp"
    im = picture().convert(mode)
    if mode == "RGBA":
        im.putalpha(128)
    im.save(path, **options)
    original = path.read_bytes()
    assert b"VP8X" not in original[12:16]
    data, before_pixels = _image_data(path), pixels(path)

    assert write_metadata(path, RECORD).embedded
    assert path.read_bytes()[12:16] == b"VP8X" and _image_data(path) == data
    assert pixels(path) == before_pixels

    assert undo_metadata(path).embedded
    assert path.read_bytes() == original


def test_webp_with_icc_stays_extended_after_undo(tmp_path: Path) -> None:
    from tests.metadata.conftest import icc_bytes

    path, icc = tmp_path / "a.webp", icc_bytes()
    picture().save(path, quality=80, icc_profile=icc)
    original = path.read_bytes()
    assert original[12:16] == b"VP8X"
    write_metadata(path, RECORD)
    undo_metadata(path)
    assert path.read_bytes() == original
    with Image.open(path) as im:
        assert im.info.get("icc_profile") == icc
