"""The content hash of TIFF, DNG and WebP files sees their pixels, not their metadata: our own write,
exiftool's keywords, a rewritten IFD0 or a regenerated preview keep it; a changed pixel byte does not.
A catalogue's older whole-file digests stay usable (legacy_hash), and a weird file is hashed whole."""

from __future__ import annotations

import random
import struct
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from autotagger.metadata import write_metadata
from autotagger.watch.hashing import content_hash, legacy_hash
from autotagger.watch.reconcile import KnownFile, plan_reconcile
from autotagger.watch.settle import FileStat
from autotagger.watch.tiffhash import tiff_images
from tests.imageio.tiffmaker import write_dng, write_float_tiff
from tests.metadata.conftest import EXIFTOOL, RECORD, needs_exiftool
from tests.metadata.dngfiles import adobe_dng, minimal_dng, scene


def noise(width: int, height: int, seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8), "RGB")


def tiff(path: Path, seed: int = 1, size: tuple[int, int] = (64, 48), **kw: object) -> Path:
    noise(*size, seed).save(path, "TIFF", **kw)
    return path


def webp(path: Path, seed: int = 1, lossless: bool = False) -> Path:
    noise(64, 48, seed).save(path, "WEBP", lossless=lossless, quality=80)
    return path


MAKERS: dict[str, Callable[[Path], Path]] = {
    "tiff": lambda d: tiff(d / "a.tif"),
    "tiff-deflate": lambda d: tiff(d / "a.tif", compression="tiff_adobe_deflate"),
    "dng-adobe": lambda d: adobe_dng(d / "a.dng"),
    "dng-adobe-mm": lambda d: adobe_dng(d / "a.dng", order=">"),
    "dng-minimal": lambda d: minimal_dng(d / "a.dng"),
    "webp": lambda d: webp(d / "a.webp"),
    "webp-lossless": lambda d: webp(d / "a.webp", lossless=True),
}


@pytest.fixture(params=sorted(MAKERS))
def photo(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    made: Path = MAKERS[request.param](tmp_path)
    return made


def scheme(path: Path) -> str:
    return "w" if path.suffix == ".webp" else "t"


def exiftool(*args: str) -> None:
    assert EXIFTOOL is not None
    subprocess.run([EXIFTOOL, "-overwrite_original", *args], check=True, capture_output=True)


def flip(path: Path, offset: int) -> None:
    with open(path, "r+b") as f:
        f.seek(offset)
        byte = f.read(1)[0]
        f.seek(offset)
        f.write(bytes([byte ^ 0x55]))


def image_data(path: Path) -> list[tuple[int, int]]:
    """The strips or tiles of the file's full-resolution images, (offset, length) each."""
    with open(path, "rb") as f:
        images = tiff_images(f, path.stat().st_size)
    assert images is not None
    return [span for image in images for span in image.spans]


# -- metadata edits keep it ---------------------------------------------------------------------------
def test_our_write_keeps_the_hash(photo: Path) -> None:
    before, whole = content_hash(photo), legacy_hash(photo)
    assert before.startswith(scheme(photo))
    assert write_metadata(photo, RECORD).embedded
    assert legacy_hash(photo) != whole  # the file did change
    assert content_hash(photo) == before


@needs_exiftool
def test_exiftool_keywords_keep_the_hash(photo: Path) -> None:
    before, whole = content_hash(photo), legacy_hash(photo)
    exiftool("-XMP-dc:Subject+=from exiftool", "-IPTC:Keywords+=iptc", str(photo))
    assert legacy_hash(photo) != whole
    assert content_hash(photo) == before
    write_metadata(photo, RECORD)  # ours after theirs
    exiftool("-XMP-dc:Subject+=again", str(photo))
    assert content_hash(photo) == before


@needs_exiftool
@pytest.mark.parametrize("make", ["tiff", "dng-adobe", "dng-minimal"])
def test_a_rewritten_file_with_a_big_xmp_keeps_the_hash(make: str, tmp_path: Path) -> None:
    """exiftool rewrites a TIFF or DNG whole: IFD0 and the image data move, their bytes stay."""
    path = MAKERS[make](tmp_path)
    before, where = content_hash(path), image_data(path)
    exiftool("-XMP-dc:Description=" + "a long description " * 5000, str(path))
    assert image_data(path) != where
    assert content_hash(path) == before


@needs_exiftool
def test_a_new_dng_preview_keeps_the_hash(tmp_path: Path) -> None:
    dng = write_dng(tmp_path / "p.dng", scene(), preview=Image.new("RGB", (32, 24), (200, 10, 10)))
    Image.new("RGB", (32, 24), (10, 200, 10)).save(tmp_path / "new.jpg", quality=90)
    before, whole = content_hash(dng), legacy_hash(dng)
    exiftool(f"-PreviewImage<={tmp_path / 'new.jpg'}", str(dng))
    assert legacy_hash(dng) != whole
    assert content_hash(dng) == before


def test_a_regenerated_dng_thumbnail_keeps_the_hash(tmp_path: Path) -> None:
    """Lightroom redraws a DNG's IFD0 thumbnail (NewSubFileType 1) when it updates its metadata."""
    dng = adobe_dng(tmp_path / "a.dng")
    before = content_hash(dng)
    data = dng.read_bytes()
    thumb = bytes([200, 20, 20]) * 8  # a row of the thumbnail's red half
    at = data.find(thumb)
    assert at > 0
    dng.write_bytes(data[:at] + bytes([20, 20, 200]) * 8 + data[at + len(thumb) :])
    assert content_hash(dng) == before


# -- pixel changes do not ------------------------------------------------------------------------------
def test_a_changed_pixel_byte_changes_the_hash(photo: Path) -> None:
    before = content_hash(photo)
    if photo.suffix == ".webp":
        data = photo.read_bytes()
        body = data.find(b"VP8")  # the bitstream chunk: its data starts 8 bytes in
        spans = [(body + 8, len(data) - body - 8)]
    else:
        spans = image_data(photo)
    start, total = spans[0][0], sum(n for _, n in spans)
    assert total <= 2 * 64 * 1024  # small: every byte counts
    last_off, last_len = spans[-1]
    for offset in (start, start + total // 2 if len(spans) == 1 else spans[len(spans) // 2][0], last_off + last_len - 1):
        flip(photo, offset)
        assert content_hash(photo) != before, offset
        flip(photo, offset)
        assert content_hash(photo) == before


@pytest.mark.parametrize("layout", [{"rows_per_strip": 16}, {"tile": (64, 64)}])
def test_a_big_tiff_s_first_and_last_pixel_bytes_count(layout: dict[str, Any], tmp_path: Path) -> None:
    pixels = np.random.default_rng(3).random((300, 400, 3)).astype(np.float16)
    path = write_float_tiff(tmp_path / "big.tif", pixels, ifd_first=True, **layout)  # 720 KB in pieces
    spans = image_data(path)
    assert len(spans) > 1 and sum(n for _, n in spans) > 2 * 64 * 1024
    before = content_hash(path)
    last_off, last_len = spans[-1]
    for offset in (spans[0][0], spans[0][0] + 64 * 1024 - 1, last_off + last_len - 1):
        flip(path, offset)
        assert content_hash(path) != before, offset
        flip(path, offset)


def test_different_images_of_the_same_size_differ(tmp_path: Path) -> None:
    assert content_hash(tiff(tmp_path / "a.tif", 1)) != content_hash(tiff(tmp_path / "b.tif", 2))
    assert content_hash(webp(tmp_path / "a.webp", 1)) != content_hash(webp(tmp_path / "b.webp", 2))
    assert content_hash(webp(tmp_path / "c.webp", 1, True)) != content_hash(webp(tmp_path / "d.webp", 2, True))
    other = scene()[:, ::-1].copy()  # the same sensor data size, mirrored
    assert content_hash(minimal_dng(tmp_path / "a.dng")) != content_hash(write_dng(tmp_path / "b.dng", other))


def test_a_pixel_defining_tag_counts(tmp_path: Path) -> None:
    """Same bytes, read as another layout (the CFA pattern here) are another image."""
    dng = minimal_dng(tmp_path / "a.dng")
    before = content_hash(dng)
    data = dng.read_bytes()
    rggb = struct.pack("<HHI", 33422, 1, 4) + bytes([0, 1, 1, 2])
    assert data.count(rggb) == 1
    dng.write_bytes(data.replace(rggb, struct.pack("<HHI", 33422, 1, 4) + bytes([2, 1, 1, 0])))
    assert content_hash(dng) != before


# -- the older scheme, and weird files -------------------------------------------------------------------
def test_the_hashes_of_jpeg_png_and_other_files_are_those_catalogues_hold(tmp_path: Path) -> None:
    """Digests stored by earlier versions still match (values taken with the code before TIFF/WebP)."""

    def seg(code: int, body: bytes) -> bytes:
        return b"\xff" + bytes([code]) + struct.pack(">H", len(body) + 2) + body

    def chunk(ctype: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + ctype + body + b"\0\0\0\0"

    def jpeg(n: int) -> bytes:
        sof = b"\x08\x00\x10\x00\x10\x01\x01\x11\x00"
        return (b"\xff\xd8" + seg(0xE1, b"Exif\0\0junk") + seg(0xDB, bytes(range(65))) + seg(0xC0, sof)
                + seg(0xDA, b"\x01\x01\x00\x00\x3f\x00") + bytes((i * 7 + 3) % 251 for i in range(n)) + b"\xff\xd9")

    def png(n: int) -> bytes:
        ihdr = struct.pack(">IIBBBBB", 16, 16, 8, 2, 0, 0, 0)
        return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"tEXt", b"k\0v")
                + chunk(b"IDAT", bytes((i * 5) % 256 for i in range(n))) + chunk(b"IEND", b""))

    pinned = {
        "small.jpg": (jpeg(1000), "j67376fc473281ea68a404a5e7d503f86"),
        "big.jpg": (jpeg(300_000), "j60bbdd081fb524d26d1f4b5182525229"),
        "small.png": (png(1000), "p59cba235e2e7ec780645285ec5dfa1fc"),
        "big.png": (png(300_000), "p0157ffbd38726f1e3b2eab6659182148"),
        "other.bin": (bytes((i * 13) % 256 for i in range(200_000)), "fc7e86ee6912f14eacacdb284f59c74d8"),
    }
    for name, (data, digest) in pinned.items():
        (tmp_path / name).write_bytes(data)
        assert content_hash(tmp_path / name) == digest, name
    assert legacy_hash(tmp_path / "other.bin") == pinned["other.bin"][1]


def test_legacy_hash_is_the_whole_file_digest(tmp_path: Path) -> None:
    path = tiff(tmp_path / "a.tif")
    data = path.read_bytes()
    (tmp_path / "a.bin").write_bytes(b"XX" + data[2:])  # no TIFF header: hashed whole
    assert content_hash(tmp_path / "a.bin").startswith("f")
    assert legacy_hash(path).startswith("f") and legacy_hash(path) != content_hash(path)
    (tmp_path / "a.bin").write_bytes(data)
    assert legacy_hash(tmp_path / "a.bin") == legacy_hash(path)
    with pytest.raises(OSError, match=r"missing\.tif: cannot read"):
        legacy_hash(tmp_path / "missing.tif")


def test_weird_files_are_hashed_whole(tmp_path: Path) -> None:
    good = tiff(tmp_path / "good.tif").read_bytes()
    spans = image_data(tmp_path / "good.tif")
    cases = {
        "cut.tif": good[: spans[-1][0] + 10],  # the pixels cut off
        "bigtiff.tif": b"II+\0\x08\0\0\0" + bytes(64),
        "noifd.tif": b"II*\0\xff\xff\xff\x7f" + bytes(64),
        "header.tif": b"MM\0*",
        "noimage.webp": b"RIFF\x1a\0\0\0WEBPEXIF\x06\0\0\0abcdefXMP \0\0\0\0",
        "cutchunk.webp": b"RIFF\x20\0\0\0WEBPVP8 \xff\0\0\0abcd" + bytes(12),
    }
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        h = content_hash(tmp_path / name)
        assert h.startswith("f") and h == legacy_hash(tmp_path / name), name


@pytest.mark.parametrize("make", ["tiff", "dng-adobe", "dng-adobe-mm", "webp"])
def test_damaged_files_never_raise(make: str, tmp_path: Path) -> None:
    data = bytearray(MAKERS[make](tmp_path).read_bytes())
    rng = random.Random(make)
    target = tmp_path / "damaged"
    for _ in range(300):
        bad = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            bad[rng.randrange(4, min(len(bad), 2048))] = rng.randrange(256)  # the header and directories
        target.write_bytes(bytes(bad[: rng.choice([len(bad), rng.randrange(8, len(bad))])]))
        assert content_hash(target)[0] in "tfw"


# -- reconcile: a moved file whose record holds the older digest -----------------------------------------------
def test_reconcile_finds_a_move_by_the_older_digest(tmp_path: Path) -> None:
    root = tmp_path / "photos"
    root.mkdir()
    new = adobe_dng(root / "renamed.dng")
    old = str(root / "IMG_0001.dng")
    known = {old: KnownFile(old, 1, 1.0, legacy_hash(new), "tagged")}
    disk = {str(new): FileStat.of(new.stat())}
    plan = plan_reconcile(disk, known, [str(root)])
    assert [(m.old, m.new, m.content_hash) for m in plan.moves] == [(old, str(new), content_hash(new))]
    assert plan.new == [] and plan.deleted == []
    # a digest that is neither (the file was edited too, under the older scheme): a new photo
    known = {old: KnownFile(old, 1, 1.0, "f" + "0" * 32, "tagged")}
    plan = plan_reconcile(disk, known, [str(root)])
    assert plan.moves == [] and plan.new == [str(new)]
