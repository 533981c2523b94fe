"""load_image on every supported format and colour mode: upright, correct RGB, fully loaded."""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, JpegImagePlugin

from autotagger.imageio import load_image
from tests.imageio.helpers import (
    BLUE,
    RED,
    WHITE,
    assert_quadrants,
    close,
    exif_bytes,
    quadrants,
    stored_for,
    write_rgb48_png,
)
from tests.imageio.tiffmaker import write_rgb48_tiff


@pytest.mark.parametrize("orientation", range(1, 9))
def test_jpeg_exif_orientation_puts_pixels_upright(tmp_path: Path, orientation: int) -> None:
    path = tmp_path / f"o{orientation}.jpg"
    stored_for(quadrants(), orientation).save(path, quality=95, exif=exif_bytes(orientation))
    im = load_image(path)
    assert im.mode == "RGB"
    assert im.size == (64, 32)
    assert_quadrants(im)


def test_jpeg_without_exif(tmp_path: Path) -> None:
    path = tmp_path / "plain.JPG"
    quadrants().save(path, quality=95)
    assert_quadrants(load_image(path))


@pytest.mark.parametrize(("fmt", "suffix"), [("PNG", ".png"), ("WEBP", ".webp"), ("TIFF", ".tif")])
def test_orientation_in_other_formats(tmp_path: Path, fmt: str, suffix: str) -> None:
    path = tmp_path / f"rot{suffix}"
    options = {"lossless": True} if fmt == "WEBP" else {}
    stored_for(quadrants(), 6).save(path, fmt, exif=exif_bytes(6), **options)
    im = load_image(path)
    assert im.size == (64, 32)
    assert_quadrants(im, tol=2)


def test_large_jpeg_is_decoded_in_draft_mode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "big.jpg"
    big = quadrants(6000, 4000)
    big.save(path, quality=85)
    calls: list[tuple[str | None, tuple[int, int] | None]] = []
    original = JpegImagePlugin.JpegImageFile.draft

    def spy(self, mode, size):  # type: ignore[no-untyped-def]
        calls.append((mode, size))
        return original(self, mode, size)

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", spy)
    im = load_image(path, min_size=224)
    assert calls == [("RGB", (224, 224))]
    assert im.size != big.size
    assert 224 <= min(im.size) <= 448
    assert abs(im.width / im.height - 1.5) < 0.02
    assert_quadrants(im)
    # with a box that libjpeg's 1/8 scale fills exactly, the draft size itself comes back
    assert load_image(path, min_size=500).size == (750, 500)


def test_min_size_zero_decodes_full_resolution(tmp_path: Path) -> None:
    path = tmp_path / "full.jpg"
    quadrants(1200, 800).save(path)
    assert load_image(path, min_size=0).size == (1200, 800)


def test_small_image_is_not_enlarged(tmp_path: Path) -> None:
    path = tmp_path / "small.png"
    quadrants(100, 50).save(path)
    assert load_image(path).size == (100, 50)


def test_large_png_is_reduced_keeping_aspect(tmp_path: Path) -> None:
    path = tmp_path / "big.png"
    quadrants(2000, 1000).save(path, compress_level=1)
    im = load_image(path, min_size=224)
    assert 224 <= im.height < 448 and im.width == 2 * im.height
    assert_quadrants(im, tol=2)


def test_png_rgba_is_composited_on_white(tmp_path: Path) -> None:
    im = Image.new("RGBA", (40, 20), (255, 0, 0, 255))
    im.paste((0, 0, 255, 0), (20, 0, 40, 20))  # fully transparent blue
    im.paste((0, 0, 0, 128), (0, 10, 20, 20))  # half-transparent black
    path = tmp_path / "rgba.png"
    im.save(path)
    out = load_image(path)
    assert out.mode == "RGB"
    assert out.getpixel((5, 5)) == RED
    assert out.getpixel((30, 5)) == WHITE
    assert close(out.getpixel((5, 15)), (127, 127, 127), tol=2)  # type: ignore[arg-type]


def test_png_palette_with_transparency(tmp_path: Path) -> None:
    im = Image.new("P", (20, 20), 0)
    im.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    im.paste(1, (10, 0, 20, 20))
    path = tmp_path / "p.png"
    im.save(path, transparency=1)  # index 1 (blue) is transparent
    out = load_image(path)
    assert out.mode == "RGB"
    assert out.getpixel((5, 5)) == RED
    assert out.getpixel((15, 5)) == WHITE


def test_png_palette_without_transparency(tmp_path: Path) -> None:
    path = tmp_path / "p8.png"
    quadrants().convert("P", palette=Image.Palette.ADAPTIVE, colors=4).save(path)
    assert_quadrants(load_image(path), tol=2)


def test_png_16bit_grey_keeps_its_tonal_range(tmp_path: Path) -> None:
    path = tmp_path / "g16.png"
    data = np.zeros((10, 20), dtype="<u2")
    data[:, :10], data[:, 10:] = 32768, 65535  # mid grey and white in 16 bits
    Image.fromarray(data).save(path)
    assert Image.open(path).mode.startswith("I")
    assert Image.open(path).getpixel((5, 5)) == 32768
    out = load_image(path)
    assert out.mode == "RGB"
    assert close(out.getpixel((5, 5)), (128, 128, 128), tol=1)  # type: ignore[arg-type]  # not clipped to 255
    assert out.getpixel((15, 5)) == WHITE


def test_png_48bit_rgb(tmp_path: Path) -> None:
    rgb = np.zeros((10, 10, 3), dtype=np.uint16)
    rgb[..., 0], rgb[..., 1] = 65535, 32896
    out = load_image(write_rgb48_png(tmp_path / "rgb48.png", rgb))
    assert close(out.getpixel((3, 3)), (255, 128, 0), tol=1)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("mode", "fill", "expected"),
    [("LA", (0, 255), (0, 0, 0)), ("LA", (0, 0), WHITE), ("L", 77, (77, 77, 77)), ("1", 1, WHITE)],
)
def test_png_grey_modes(tmp_path: Path, mode: str, fill: object, expected: tuple[int, int, int]) -> None:
    path = tmp_path / f"{mode}.png"
    Image.new(mode, (8, 8), fill).save(path)  # type: ignore[arg-type]
    out = load_image(path)
    assert out.mode == "RGB" and out.getpixel((4, 4)) == expected


def test_png_one_bit_pattern(tmp_path: Path) -> None:
    path = tmp_path / "bits.png"
    im = Image.new("1", (16, 8), 0)
    im.paste(1, (8, 0, 16, 8))
    im.save(path)
    out = load_image(path)
    assert out.getpixel((2, 2)) == (0, 0, 0) and out.getpixel((12, 2)) == WHITE


def test_tiff_cmyk(tmp_path: Path) -> None:
    path = tmp_path / "cmyk.tif"
    im = Image.new("CMYK", (20, 10), (0, 255, 255, 0))  # red
    im.paste((255, 255, 0, 0), (10, 0, 20, 10))  # blue
    im.save(path)
    out = load_image(path)
    assert out.getpixel((5, 5)) == RED and out.getpixel((15, 5)) == BLUE


def test_tiff_48bit_rgb(tmp_path: Path) -> None:
    rgb = np.zeros((6, 8, 3), dtype=np.uint16)
    rgb[..., 2], rgb[..., 1] = 65535, 16448
    out = load_image(write_rgb48_tiff(tmp_path / "rgb48.tif", rgb))
    assert close(out.getpixel((2, 2)), (0, 64, 255), tol=1)  # type: ignore[arg-type]


def test_tiff_48bit_rgb_with_orientation(tmp_path: Path) -> None:
    upright = np.asarray(quadrants()).astype(np.uint16) * 257
    stored = np.asarray(stored_for(quadrants(), 8)).astype(np.uint16) * 257
    assert upright.shape != stored.shape
    out = load_image(write_rgb48_tiff(tmp_path / "rot48.tiff", stored, orientation=8))
    assert_quadrants(out, tol=1)


def test_tiff_16bit_grey(tmp_path: Path) -> None:
    path = tmp_path / "g16.tif"
    Image.new("I;16", (8, 8), 16384).save(path)
    assert close(load_image(path).getpixel((4, 4)), (64, 64, 64), tol=1)  # type: ignore[arg-type]


def test_adobe_cmyk_jpeg(tmp_path: Path) -> None:
    path = tmp_path / "adobe.jpg"
    im = Image.new("CMYK", (32, 16), (0, 255, 255, 0))
    im.paste((0, 0, 0, 255), (16, 0, 32, 16))  # black via K
    im.save(path, quality=95)
    data = path.read_bytes()
    assert b"\xff\xeeAdobe"[:2] in data and b"Adobe" in data  # APP14 Adobe marker: inverted CMYK
    out = load_image(path)
    assert out.mode == "RGB"
    assert close(out.getpixel((8, 8)), RED) and close(out.getpixel((24, 8)), (0, 0, 0))  # type: ignore[arg-type]


def test_webp_lossy_and_alpha(tmp_path: Path) -> None:
    path = tmp_path / "q.webp"
    quadrants().save(path, quality=95)
    assert_quadrants(load_image(path))
    alpha = tmp_path / "a.webp"
    Image.new("RGBA", (16, 16), (255, 0, 0, 0)).save(alpha, lossless=True)
    assert load_image(alpha).getpixel((8, 8)) == WHITE


def test_bmp(tmp_path: Path) -> None:
    path = tmp_path / "q.bmp"
    quadrants().save(path)
    assert_quadrants(load_image(path), tol=0)


def test_gif_animated_gives_first_frame(tmp_path: Path) -> None:
    path = tmp_path / "anim.gif"
    frames = [Image.new("RGB", (20, 20), c) for c in (RED, BLUE, (0, 255, 0))]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)
    assert Image.open(path).n_frames == 3
    out = load_image(path)
    assert out.mode == "RGB" and out.getpixel((10, 10)) == RED


def test_gif_transparency_on_white(tmp_path: Path) -> None:
    im = Image.new("P", (20, 20), 0)
    im.putpalette([0, 0, 255, 255, 0, 0] + [0] * 762)
    im.paste(1, (0, 0, 10, 20))
    path = tmp_path / "t.gif"
    im.save(path, transparency=0)
    out = load_image(path)
    assert out.getpixel((5, 5)) == RED and out.getpixel((15, 5)) == WHITE


@pytest.mark.parametrize("suffix", [".heic", ".HEIF"])
def test_heic_with_orientation(tmp_path: Path, suffix: str) -> None:
    import pillow_heif

    path = tmp_path / f"q{suffix}"
    heif = pillow_heif.from_pillow(stored_for(quadrants(), 6))
    heif.save(path, quality=95, exif=exif_bytes(6))
    out = load_image(path)
    assert out.size == (64, 32)
    assert_quadrants(out)


def test_avif(tmp_path: Path) -> None:
    from PIL import features

    if not features.check("avif"):
        pytest.skip("this Pillow has no AVIF support")
    path = tmp_path / "q.avif"
    stored_for(quadrants(), 6).save(path, quality=95, exif=exif_bytes(6))
    assert_quadrants(load_image(path))


def test_mpo_gives_first_picture(tmp_path: Path) -> None:
    path = tmp_path / "stereo.jpg"
    quadrants().save(path, "MPO", save_all=True, append_images=[Image.new("RGB", (64, 32), BLUE)])
    assert Image.open(path).format == "MPO"
    assert_quadrants(load_image(path))


def test_content_decides_not_extension(tmp_path: Path) -> None:
    path = tmp_path / "actually-a-png.jpg"
    quadrants().save(path, "PNG")
    assert_quadrants(load_image(path), tol=0)


def test_returned_image_is_detached_and_file_closed(tmp_path: Path) -> None:
    fd_dir = Path("/proc/self/fd")
    if not fd_dir.is_dir():
        pytest.skip("needs /proc")
    paths = []
    for fmt, suffix in (("JPEG", ".jpg"), ("PNG", ".png"), ("GIF", ".gif"), ("TIFF", ".tif")):
        path = tmp_path / f"f{suffix}"
        quadrants().save(path, fmt)
        paths.append(path)

    def open_targets() -> set[str]:
        targets = set()
        for fd in os.listdir(fd_dir):
            with contextlib.suppress(OSError):
                targets.add(os.readlink(fd_dir / fd))
        return targets

    images = [load_image(p) for p in paths]
    assert not {str(p) for p in paths} & open_targets()
    for p in paths:
        p.unlink()  # pixels must not be read lazily from the file later
    for im in images:
        assert im.mode == "RGB" and type(im) is Image.Image
        im.tobytes()
        assert_quadrants(im)


def test_load_from_bytes_path_types(tmp_path: Path) -> None:
    path = tmp_path / "s.png"
    quadrants().save(path)
    assert load_image(str(path)).size == load_image(path).size == (64, 32)
    buffer = io.BytesIO()
    quadrants().save(buffer, "PNG")
    assert buffer.getvalue() == path.read_bytes()


def test_rgb_png_with_transparent_colour(tmp_path: Path) -> None:
    im = Image.new("RGB", (20, 10), (0, 0, 255))
    im.paste(RED, (0, 0, 10, 10))
    path = tmp_path / "trns.png"
    im.save(path, transparency=(0, 0, 255))  # tRNS: pure blue is transparent
    out = load_image(path)
    assert out.getpixel((5, 5)) == RED and out.getpixel((15, 5)) == WHITE


def test_parallel_loading_matches_sequential(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    paths = []
    for i, (fmt, suffix) in enumerate(
        [("JPEG", ".jpg"), ("PNG", ".png"), ("WEBP", ".webp"), ("TIFF", ".tif")] * 2
    ):
        path = tmp_path / f"{i}{suffix}"
        stored_for(quadrants(640, 480), 1 + i).save(path, fmt, exif=exif_bytes(1 + i))
        paths.append(path)
    sequential = [load_image(p).tobytes() for p in paths]
    with ThreadPoolExecutor(4) as pool:
        parallel = [im.tobytes() for im in pool.map(load_image, paths)]
    assert parallel == sequential
