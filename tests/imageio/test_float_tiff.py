"""Floating-point TIFFs (HDR merges, scientific exports): decoded, not called corrupt. Pillow opens
none with three or four channels; the files here are written by tiffmaker, whose predictors are
checked against libtiff's own output (through Pillow) in the single-channel case."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, TiffImagePlugin

from autotagger.imageio import ImageLoadError, load_image, make_thumbnail, probe
from tests.imageio.helpers import assert_quadrants, quadrants, stored_for
from tests.imageio.tiffmaker import write_float_tiff


def _pixels(height: int = 23, width: int = 37, samples: int = 3, dtype: str = "f4") -> np.ndarray:
    """Random 8-bit levels as floats in 0..1, so that the expected 8-bit result is exact."""
    levels = np.random.default_rng(7).integers(0, 256, (height, width, samples))
    return (levels / 255.0).astype(dtype)


def _expected(pixels: np.ndarray) -> np.ndarray:
    return np.rint(pixels.astype(np.float64) * 255.0).astype(np.uint8)


LAYOUTS = {
    "uncompressed": {},
    "uncompressed strips": {"rows_per_strip": 5},
    "uncompressed, predictor tag (libtiff ignores it)": {"predictor": 3},
    "deflate": {"compression": 8},
    "deflate, float predictor, strips": {"compression": 8, "predictor": 3, "rows_per_strip": 4},
    "deflate, integer predictor": {"compression": 8, "predictor": 2},
    "adobe deflate code": {"compression": 32946, "predictor": 3},
    "planar": {"planar": 2, "rows_per_strip": 6},
    "planar, deflate, float predictor": {"planar": 2, "compression": 8, "predictor": 3},
    "tiled": {"tile": (16, 16)},
    "tiled, deflate, float predictor": {"tile": (16, 16), "compression": 8, "predictor": 3},
    "tiled planar": {"tile": (16, 16), "planar": 2, "compression": 8, "predictor": 3},
    "big-endian": {"order": ">"},
    "big-endian, deflate, float predictor": {"order": ">", "compression": 8, "predictor": 3},
    "big-endian, tiled, integer predictor": {
        "order": ">",
        "tile": (16, 32),
        "compression": 8,
        "predictor": 2,
    },
}


@pytest.mark.parametrize("layout", LAYOUTS)
def test_rgb_float_tiff_is_decoded(tmp_path: Path, layout: str) -> None:
    pixels = _pixels()
    path = write_float_tiff(tmp_path / "hdr.tif", pixels, **LAYOUTS[layout])  # type: ignore[arg-type]
    im = load_image(path, min_size=0)
    assert im.mode == "RGB" and im.size == (37, 23)
    assert np.array_equal(np.asarray(im), _expected(pixels))


@pytest.mark.parametrize("dtype", ["f2", "f8"])
def test_half_and_double_precision(tmp_path: Path, dtype: str) -> None:
    pixels = _pixels(dtype=dtype)
    path = write_float_tiff(tmp_path / "hdr.tif", pixels, compression=8, predictor=3)
    assert np.array_equal(np.asarray(load_image(path, min_size=0)), _expected(pixels))


@pytest.mark.parametrize("order", ["<", ">"])
@pytest.mark.parametrize("predictor", [1, 2, 3])
def test_greyscale_float_tiff(tmp_path: Path, order: str, predictor: int) -> None:
    # Pillow opens these itself, but reads big-endian compressed ones byte-swapped twice
    pixels = _pixels(samples=1)
    path = write_float_tiff(tmp_path / "grey.tif", pixels, compression=8, predictor=predictor, order=order)
    im = load_image(path, min_size=0)
    assert np.array_equal(np.asarray(im)[..., 0], _expected(pixels)[..., 0])


def test_libtiff_written_predictors_decode(tmp_path: Path) -> None:
    """The predictors as libtiff itself writes them (through Pillow, single channel only)."""
    pixels = _pixels(samples=1)[..., 0]
    for predictor in (2, 3):
        path = tmp_path / f"libtiff{predictor}.tif"
        Image.fromarray(pixels, "F").save(path, compression="tiff_adobe_deflate", tiffinfo={317: predictor})
        with Image.open(path) as check:
            assert isinstance(check, TiffImagePlugin.TiffImageFile)
            assert check.tag_v2[317] == predictor  # really written with the predictor
        assert np.array_equal(np.asarray(load_image(path, min_size=0))[..., 0], _expected(pixels))


def test_float_tiff_with_alpha_is_composited_on_white(tmp_path: Path) -> None:
    pixels = np.zeros((20, 20, 4), dtype="f4")
    pixels[..., 0] = 1.0  # red ...
    pixels[:, 10:, 3] = 1.0  # ... opaque on the right, transparent on the left
    path = write_float_tiff(tmp_path / "alpha.tif", pixels, alpha=True, compression=8, predictor=3)
    im = load_image(path)
    assert im.getpixel((15, 10)) == (255, 0, 0)
    assert im.getpixel((5, 10)) == (255, 255, 255)


def test_out_of_range_values(tmp_path: Path) -> None:
    pixels = np.zeros((4, 4, 3), dtype="f4")
    pixels[0, 0] = (np.nan, np.inf, -np.inf)
    pixels[0, 1] = (-3.0, 0.5, 1.0)
    pixels[0, 2] = (2.0, 2.0, 2.0)  # HDR above white: the range is kept, scaled to the brightest
    im = load_image(write_float_tiff(tmp_path / "odd.tif", pixels), min_size=0)
    assert im.getpixel((0, 0)) == (0, 0, 0)
    assert im.getpixel((1, 0)) == (0, 64, 128)
    assert im.getpixel((2, 0)) == (255, 255, 255)


def test_orientation_and_reduction(tmp_path: Path) -> None:
    stored = np.asarray(stored_for(quadrants(640, 480), 6)).astype("f4") / 255.0
    path = write_float_tiff(tmp_path / "turned.tif", stored, orientation=6, compression=8, predictor=3)
    im = load_image(path)
    assert im.size == (320, 240)  # upright, and box-reduced like any other format
    assert_quadrants(im)
    thumb = make_thumbnail(path, 64)
    assert thumb.size == (64, 48)
    assert_quadrants(thumb)
    info = probe(path)
    assert (info.width, info.height, info.format, info.orientation) == (640, 480, "TIFF", 6)


def test_float_tiff_bomb_refused_from_the_header(tmp_path: Path) -> None:
    path = write_float_tiff(tmp_path / "big.tif", _pixels(100, 200))
    with pytest.raises(ImageLoadError, match=r"decompression bomb \(200x100 = 20000 pixels, limit 19999\)"):
        load_image(path, max_pixels=19_999)


def _error(path: Path) -> ImageLoadError:
    with pytest.raises(ImageLoadError) as info:
        load_image(path)
    assert str(info.value) == f"{path}: {info.value.reason}" and "\n" not in str(info.value)
    return info.value


def test_unsupported_compression_is_not_damage(tmp_path: Path) -> None:
    path = write_float_tiff(tmp_path / "lzw.tif", _pixels(), compression=5, predictor=3)
    exc = _error(path)
    assert exc.reason == "unsupported: 32-bit float TIFF with LZW compression"
    assert not exc.damaged
    assert probe(path).format == "TIFF"  # the header is fine


def test_corrupt_float_data_is_damage(tmp_path: Path) -> None:
    path = write_float_tiff(tmp_path / "bad.tif", _pixels(), compression=8)
    data = bytearray(path.read_bytes())
    data[8:40] = b"\xff" * 32  # the start of the Deflate stream
    path.write_bytes(bytes(data))
    exc = _error(path)
    assert exc.reason.startswith("corrupt TIFF (") and exc.damaged


def test_truncated_float_tiff(tmp_path: Path) -> None:
    path = write_float_tiff(tmp_path / "cut.tif", _pixels(), rows_per_strip=4, ifd_first=True)
    data = path.read_bytes()
    assert load_image(path).size == (37, 23)
    path.write_bytes(data[: len(data) // 2])  # the header is intact, later strips are gone
    exc = _error(path)
    assert exc.reason == "truncated TIFF" and exc.damaged
    assert probe(path).width == 37  # probing reads the header only
