"""RAW through rawpy/LibRaw, on genuine (minimal) DNG files written by tiffmaker: the embedded
JPEG preview when it is big enough, else a real demosaic; orientation from the RAW."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rawpy
from PIL import Image

from autotagger.imageio import ImageLoadError, load_image, make_thumbnail, probe
from tests.imageio.helpers import BLUE, RED, assert_quadrants, close, quadrants, stored_for
from tests.imageio.tiffmaker import write_dng


def _scene(width: int = 600, height: int = 400) -> np.ndarray:
    """Left half red, right half green (linear 0..1): what the sensor data shows."""
    scene = np.zeros((height, width, 3))
    scene[:, : width // 2] = (0.8, 0.05, 0.05)
    scene[:, width // 2 :] = (0.05, 0.6, 0.05)
    return scene


def test_minimal_dng_is_a_genuine_raw(tmp_path: Path) -> None:
    path = write_dng(tmp_path / "a.dng", _scene())
    with rawpy.imread(str(path)) as raw:
        assert (raw.sizes.width, raw.sizes.height) == (600, 400)
        assert raw.raw_pattern is not None  # a real CFA mosaic, not a processed image


def test_embedded_preview_is_used(tmp_path: Path) -> None:
    # the preview differs from the sensor data, so the colours tell which one was decoded
    path = write_dng(tmp_path / "p.DNG", _scene(), preview=quadrants(600, 400))
    im = load_image(path)
    assert im.mode == "RGB" and 224 <= min(im.size) <= 448
    assert_quadrants(im)


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_preview_gets_the_raw_orientation(tmp_path: Path, orientation: int) -> None:
    stored = stored_for(quadrants(600, 400), orientation)
    path = write_dng(tmp_path / "r.dng", _scene(*stored.size), preview=stored, orientation=orientation)
    im = load_image(path)
    assert im.width > im.height
    assert_quadrants(im)


def test_demosaic_when_there_is_no_preview(tmp_path: Path) -> None:
    path = write_dng(tmp_path / "bare.dng", _scene())
    im = load_image(path)
    assert im.mode == "RGB" and min(im.size) >= 224
    left, right = (
        im.getpixel((im.width // 4, im.height // 2)),
        im.getpixel((3 * im.width // 4, im.height // 2)),
    )
    assert left[0] > 200 and left[1] < 120 and left[2] < 120, left  # type: ignore[index]
    assert right[1] > 180 and right[0] < 120 and right[2] < 120, right  # type: ignore[index]


def test_demosaic_is_half_size_when_that_is_enough(tmp_path: Path) -> None:
    path = write_dng(tmp_path / "bare.dng", _scene(1000, 600))
    assert load_image(path).size == (500, 300)  # half-size: no interpolation, 1/4 of the pixels
    assert load_image(path, min_size=0).size == (1000, 600)


def test_tiny_preview_falls_back_to_demosaic(tmp_path: Path) -> None:
    preview = Image.new("RGB", (160, 120), BLUE)  # too small for the model
    path = write_dng(tmp_path / "tiny.dng", _scene(), preview=preview)
    im = load_image(path)
    assert min(im.size) >= 224
    assert close(im.getpixel((10, im.height // 2)), RED, tol=80)  # type: ignore[arg-type]  # sensor data, not blue


def test_demosaic_applies_orientation(tmp_path: Path) -> None:
    path = write_dng(tmp_path / "rot.dng", _scene(), orientation=6)
    im = load_image(path)
    assert im.height > im.width
    top, bottom = im.getpixel((im.width // 2, 10)), im.getpixel((im.width // 2, im.height - 10))
    # rotated 90 degrees clockwise: the scene's left (red) half is now on top
    assert top[0] > top[1] and bottom[1] > bottom[0], (top, bottom)  # type: ignore[index]


def test_raw_thumbnail(tmp_path: Path) -> None:
    path = write_dng(tmp_path / "p.dng", _scene(), preview=quadrants(600, 400))
    thumb = make_thumbnail(path, 128)
    assert max(thumb.size) == 128
    assert_quadrants(thumb)


def test_raw_probe(tmp_path: Path) -> None:
    path = write_dng(
        tmp_path / "p.dng",
        _scene(),
        orientation=8,
        make="Canon",
        model="Canon EOS R5",
        captured_at="2024:05:01 13:45:10",
    )
    info = probe(path)
    assert (info.width, info.height, info.format, info.orientation) == (400, 600, "RAW", 8)
    assert info.captured_at == "2024-05-01T13:45:10"
    assert info.camera == "Canon EOS R5"


@pytest.mark.parametrize("name", ["noise.nef", "noise.cr2", "noise.dng"])
def test_not_a_raw(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(np.random.default_rng(3).integers(0, 256, 20_000, dtype=np.uint8).tobytes())
    with pytest.raises(ImageLoadError) as info:
        load_image(path)
    assert info.value.reason == "not a supported RAW file (unrecognised data)"
    with pytest.raises(ImageLoadError, match="not a supported RAW file"):
        probe(path)


def test_truncated_raw(tmp_path: Path) -> None:
    path = write_dng(tmp_path / "cut.dng", _scene())
    path.write_bytes(path.read_bytes()[:2000])  # header intact, pixel data gone
    with pytest.raises(ImageLoadError) as info:
        load_image(path)
    assert info.value.reason == "corrupt or truncated RAW file (LibRaw cannot open it)"


def test_raw_bomb(tmp_path: Path) -> None:
    path = write_dng(tmp_path / "big.dng", _scene())
    with pytest.raises(ImageLoadError, match=r"decompression bomb \(600x400"):
        load_image(path, max_pixels=1000)
