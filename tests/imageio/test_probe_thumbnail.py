"""probe (header only) and make_thumbnail."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image, ImageFile

from autotagger.imageio import ImageInfo, ImageLoadError, make_thumbnail, probe
from tests.imageio.helpers import assert_quadrants, exif_bytes, quadrants, stored_for


def _no_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self: object) -> None:
        raise AssertionError("probe decoded pixels")

    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse)


def test_probe_jpeg_with_exif(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "a.jpg"
    exif = exif_bytes(6, make="NIKON CORPORATION", model="NIKON D850", captured_at="2024:05:01 13:45:10")
    stored_for(quadrants(300, 200), 6).save(path, exif=exif)
    _no_decoding(monkeypatch)
    assert probe(path) == ImageInfo(300, 200, "JPEG", "2024-05-01T13:45:10", "NIKON D850", 6)


@pytest.mark.parametrize(
    ("make", "model", "camera"),
    [
        ("Canon", "Canon EOS R5", "Canon EOS R5"),
        ("FUJIFILM", "X-T5", "FUJIFILM X-T5"),
        ("Apple", None, "Apple"),
        (None, "Pixel 8", "Pixel 8"),
        ("  SONY ", "ILCE-7M4\x00\x00", "SONY ILCE-7M4"),
        (None, None, None),
    ],
)
def test_probe_camera_names(tmp_path: Path, make: str | None, model: str | None, camera: str | None) -> None:
    path = tmp_path / "c.jpg"
    quadrants().save(path, exif=exif_bytes(make=make, model=model))
    assert probe(path).camera == camera


def test_probe_without_exif(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "p.png"
    quadrants(30, 20).save(path)
    _no_decoding(monkeypatch)
    assert probe(path) == ImageInfo(30, 20, "PNG", None, None, 1)


@pytest.mark.parametrize("stamp", ["0000:00:00 00:00:00", "    ", "yesterday"])
def test_probe_ignores_blank_or_bad_dates(tmp_path: Path, stamp: str) -> None:
    path = tmp_path / "d.jpg"
    quadrants().save(path, exif=exif_bytes(captured_at=stamp))
    assert probe(path).captured_at is None


def test_probe_png_exif_orientation(tmp_path: Path) -> None:
    path = tmp_path / "o.png"
    stored_for(quadrants(30, 20), 8).save(path, exif=exif_bytes(8, captured_at="2020:02:03 04:05:06"))
    info = probe(path)
    assert (info.width, info.height, info.orientation, info.captured_at) == (30, 20, 8, "2020-02-03T04:05:06")


def test_probe_heic_reports_displayed_size(tmp_path: Path) -> None:
    import pillow_heif

    path = tmp_path / "h.heic"
    pillow_heif.from_pillow(stored_for(quadrants(64, 32), 6)).save(
        path, exif=exif_bytes(6, make="Apple", model="iPhone 15")
    )
    info = probe(path)
    assert (info.width, info.height, info.format, info.orientation) == (64, 32, "HEIF", 6)
    assert info.camera == "Apple iPhone 15"


def test_probe_tiff(tmp_path: Path) -> None:
    path = tmp_path / "t.tif"
    stored_for(quadrants(30, 20), 5).save(path, exif=exif_bytes(5, model="Scanner"))
    info = probe(path)
    assert (info.width, info.height, info.format, info.orientation, info.camera) == (
        30,
        20,
        "TIFF",
        5,
        "Scanner",
    )


def test_probe_broken_exif_is_not_fatal(tmp_path: Path) -> None:
    path = tmp_path / "b.jpg"
    quadrants().save(path, exif=b"Exif\x00\x00II*\x00\xff\xff\xff\x7f")  # IFD offset far past the end
    info = probe(path)
    assert (info.width, info.height, info.orientation, info.captured_at) == (64, 32, 1, None)
    assert make_thumbnail(path, 16).size == (16, 8)


def test_thumbnail_longest_side_and_orientation(tmp_path: Path) -> None:
    path = tmp_path / "big.jpg"
    stored_for(quadrants(3000, 2000), 6).save(path, quality=90, exif=exif_bytes(6))
    thumb = make_thumbnail(path, 256)
    assert thumb.mode == "RGB" and thumb.size == (256, 171)
    assert_quadrants(thumb)


def test_thumbnail_portrait_and_never_enlarged(tmp_path: Path) -> None:
    tall = tmp_path / "tall.png"
    quadrants(200, 800).save(tall)
    assert make_thumbnail(tall, 100).size == (25, 100)
    small = tmp_path / "small.gif"
    quadrants(40, 20).save(small)
    assert make_thumbnail(small, 100).size == (40, 20)


def test_thumbnail_uses_draft_for_the_long_side(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from PIL import JpegImagePlugin

    path = tmp_path / "wide.jpg"
    quadrants(4000, 1000).save(path)
    boxes: list[object] = []
    original = JpegImagePlugin.JpegImageFile.draft

    def spy(self, mode, size):  # type: ignore[no-untyped-def]
        boxes.append(size)
        return original(self, mode, size)

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", spy)
    thumb = make_thumbnail(path, 200)
    assert boxes == [(200, 1)] and thumb.size == (200, 50)


def test_thumbnail_bad_size(tmp_path: Path) -> None:
    path = tmp_path / "x.png"
    Image.new("RGB", (4, 4)).save(path)
    with pytest.raises(ValueError):
        make_thumbnail(path, 0)


def test_probe_errors(tmp_path: Path) -> None:
    path = tmp_path / "x.webp"
    path.write_bytes(b"RIFF\x00\x00\x00\x00WEBPVP8 garbage")
    with pytest.raises(ImageLoadError) as info:
        probe(path)
    assert info.value.reason.startswith(("corrupt WEBP", "truncated WEBP", "not an image"))
