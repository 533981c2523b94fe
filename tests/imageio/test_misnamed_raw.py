"""A RAW extension on a plain image (cameras' "RAW+JPEG" mix-ups, renaming tools): the content
decides, so the picture is decoded instead of failing for good; real RAWs keep the RAW path."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from autotagger.imageio import ImageLoadError, load_image, make_thumbnail, probe
from tests.imageio.helpers import assert_quadrants, exif_bytes, quadrants, stored_for
from tests.imageio.tiffmaker import write_dng


@pytest.mark.parametrize("name", ["a.nef", "b.NEF", "c.cr2", "d.arw", "e.dng", "f.raf", "g.cr3"])
def test_jpeg_with_a_raw_name(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    quadrants(1800, 1200).save(path, "JPEG", quality=92)
    im = load_image(path)
    assert im.size == (450, 300)  # the JPEG path: 1/4 draft scale
    assert_quadrants(im)
    assert probe(path).format == "JPEG"


def test_camera_jpeg_with_a_raw_name(tmp_path: Path) -> None:
    # LibRaw "opens" a JPEG whose EXIF names a camera, then fails to unpack it
    path = tmp_path / "DSC_0001.NEF"
    stored_for(quadrants(1800, 1200), 6).save(
        path,
        "JPEG",
        quality=92,
        exif=exif_bytes(6, make="NIKON CORPORATION", model="NIKON D850", captured_at="2024:05:01 13:45:10"),
    )
    im = load_image(path)
    assert im.size == (450, 300)  # drafted, and turned upright
    assert_quadrants(im)
    assert_quadrants(make_thumbnail(path, 96))
    info = probe(path)
    assert (info.width, info.height, info.format, info.orientation) == (1800, 1200, "JPEG", 6)
    assert info.camera == "NIKON D850"
    assert info.captured_at == "2024-05-01T13:45:10"


@pytest.mark.parametrize(
    ("name", "fmt", "options"),
    [
        ("p.dng", "PNG", {}),
        ("t.nef", "TIFF", {}),
        ("l.cr2", "TIFF", {"compression": "tiff_lzw"}),
        ("w.orf", "WEBP", {}),
    ],
)
def test_other_plain_images_with_a_raw_name(
    tmp_path: Path, name: str, fmt: str, options: dict[str, str]
) -> None:
    path = tmp_path / name
    quadrants(600, 400).save(path, fmt, **options)
    assert_quadrants(load_image(path))
    assert probe(path).format == fmt


def test_truncated_jpeg_with_a_raw_name_says_so(tmp_path: Path) -> None:
    path = tmp_path / "cut.nef"
    rng = np.random.default_rng(4)
    Image.fromarray(rng.integers(0, 256, (400, 600, 3), dtype=np.uint8)).save(path, "JPEG", quality=90)
    path.write_bytes(path.read_bytes()[:20_000])
    with pytest.raises(ImageLoadError) as info:
        load_image(path)
    assert info.value.reason == "truncated JPEG" and info.value.damaged


def test_real_raw_still_uses_its_preview(tmp_path: Path) -> None:
    scene = np.zeros((400, 600, 3))
    scene[..., 1] = 0.6  # the sensor data is green: only the preview shows quadrants
    path = write_dng(tmp_path / "real.dng", scene, preview=quadrants(600, 400))
    assert_quadrants(load_image(path))
    assert probe(path).format == "RAW"


def test_tiff_based_raw_that_libraw_refuses_is_not_read_as_a_tiff(tmp_path: Path) -> None:
    """A RAW container (DNG tags, SubIFDs, a reduced-size first image) that LibRaw cannot open keeps
    its RAW error: its small first image is a thumbnail, not the photograph."""
    path = tmp_path / "thumb-only.dng"
    quadrants(160, 120).save(path, "TIFF", tiffinfo={254: 1, 50706: b"\x01\x04\x00\x00"})
    with pytest.raises(ImageLoadError) as info:
        load_image(path)
    assert info.value.reason == "corrupt or truncated RAW file (LibRaw cannot open it)"
    with pytest.raises(ImageLoadError, match="RAW"):
        probe(path)
