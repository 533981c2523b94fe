"""Embedded ICC profiles: a wide-gamut photo reaches the model in sRGB, an sRGB one untouched (no
transform built), and a broken profile never costs the picture."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageCms

from autotagger.imageio import load_image, make_thumbnail
from autotagger.imageio.formats import ensure_heif_opener
from tests.imageio.iccmaker import ADOBE_RGB, D65, rgb_profile

#: Saturated and neutral sRGB colours, one patch each.
PATCHES = ((200, 60, 40), (40, 160, 90), (60, 80, 200), (128, 128, 128), (230, 200, 60), (245, 245, 245))


def _patches(side: int) -> Image.Image:
    im = Image.new("RGB", (side * len(PATCHES), side))
    for i, colour in enumerate(PATCHES):
        im.paste(colour, (i * side, 0, (i + 1) * side, side))
    return im


def _patch_colours(im: Image.Image) -> list[tuple[int, ...]]:
    side = im.width // len(PATCHES)
    return [tuple(im.getpixel((i * side + side // 2, im.height // 2))) for i in range(len(PATCHES))]  # type: ignore[arg-type]


def _largest_error(got: list[tuple[int, ...]], want: tuple[tuple[int, int, int], ...]) -> int:
    return max(abs(a - b) for g, w in zip(got, want, strict=True) for a, b in zip(g, w, strict=True))


def _into(profile: bytes, im: Image.Image) -> Image.Image:
    """``im`` (sRGB) re-expressed in ``profile``'s colour space, as an editor would save it."""
    out = ImageCms.profileToProfile(
        im, ImageCms.createProfile("sRGB"), ImageCms.ImageCmsProfile(io.BytesIO(profile)), outputMode="RGB"
    )
    assert out is not None
    return out


def _save(path: Path, im: Image.Image, icc: bytes, **options: Any) -> Path:
    im.save(path, icc_profile=icc, **options)
    return path


@pytest.mark.parametrize(
    ("name", "options", "tol"),
    [
        ("wide.png", {}, 3),
        ("wide.tif", {}, 3),
        ("wide.jpg", {"quality": 95}, 8),
        ("wide.webp", {"lossless": True}, 3),
        ("wide.heic", {"quality": -1}, 3),  # lossless: as phones tag theirs with Display P3
    ],
)
def test_wide_gamut_photo_is_converted_to_srgb(
    tmp_path: Path, name: str, options: dict[str, Any], tol: int
) -> None:
    ensure_heif_opener()  # for writing the HEIC case
    icc = rgb_profile("Test ProPhoto RGB")
    stored = _into(icc, _patches(40))
    path = _save(tmp_path / name, stored, icc, **options)
    # without conversion the model would see clearly different colours ...
    assert _largest_error(_patch_colours(stored), PATCHES) > 40
    # ... with it, the photographer's colours
    assert _largest_error(_patch_colours(load_image(path)), PATCHES) <= tol


def test_adobe_rgb_jpeg_in_draft_mode_and_thumbnail(tmp_path: Path) -> None:
    icc = rgb_profile("Test Adobe RGB (1998)", ADOBE_RGB, D65, 563 / 256)
    stored = _into(icc, _patches(480))  # 2880x480: decoded at 1/2 scale by libjpeg
    path = _save(tmp_path / "adobe.jpg", stored, icc, quality=95)
    assert _largest_error(_patch_colours(stored), PATCHES) > 25
    im = load_image(path)
    assert im.size == (1440, 240)
    assert _largest_error(_patch_colours(im), PATCHES) <= 8
    thumb = make_thumbnail(path, 240)
    assert max(thumb.size) == 240
    assert _largest_error(_patch_colours(thumb), PATCHES) <= 8


def test_transparent_png_with_profile(tmp_path: Path) -> None:
    icc = rgb_profile("Test ProPhoto RGB")
    stored = _into(icc, _patches(40)).convert("RGBA")
    alpha = np.full((stored.height, stored.width), 255, dtype=np.uint8)
    alpha[:5, :] = 0  # a transparent strip along the top: composited on white, and white stays white
    stored.putalpha(Image.fromarray(alpha))
    path = _save(tmp_path / "alpha.png", stored, icc)
    im = load_image(path)
    assert _largest_error(_patch_colours(im), PATCHES) <= 3
    assert all(abs(c - 255) <= 2 for c in im.getpixel((3, 1)))  # type: ignore[union-attr]


@pytest.mark.parametrize("damage", ["garbage", "truncated", "header only"])
def test_broken_profile_decodes_without_conversion(tmp_path: Path, damage: str) -> None:
    good = rgb_profile("Test ProPhoto RGB")
    icc = {"garbage": b"this is not an ICC profile" * 8, "truncated": good[:200], "header only": good[:128]}[
        damage
    ]
    stored = _patches(40)
    path = _save(tmp_path / "broken.png", stored, icc)
    assert Image.open(path).info["icc_profile"] == icc
    assert _patch_colours(load_image(path)) == _patch_colours(stored)
    assert make_thumbnail(path, 64).size == (64, 11)


def _count_transforms(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    build = ImageCms.buildTransform

    def counting(*args: Any, **kwargs: Any) -> ImageCms.ImageCmsTransform:
        calls.append(1)
        return build(*args, **kwargs)

    monkeypatch.setattr(ImageCms, "buildTransform", counting)
    return calls


def test_srgb_profile_is_left_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    stored = _patches(40)
    paths = [_save(tmp_path / f"srgb{i}.jpg", stored, icc, quality=95) for i in range(3)]
    expected = _patch_colours(Image.open(paths[0]).convert("RGB"))
    calls = _count_transforms(monkeypatch)
    assert _patch_colours(load_image(paths[0])) == expected  # checked once per profile ...

    applied: list[int] = []
    apply = ImageCms.ImageCmsTransform.apply

    def counting_apply(self: ImageCms.ImageCmsTransform, *args: Any, **kwargs: Any) -> Image.Image:
        applied.append(1)
        return apply(self, *args, **kwargs)

    monkeypatch.setattr(ImageCms.ImageCmsTransform, "apply", counting_apply)
    for path in paths:  # ... then no pixels touched
        assert _patch_colours(load_image(path)) == expected
    assert applied == []
    assert len(calls) <= 1


def test_linear_profile_named_srgb_is_converted(tmp_path: Path) -> None:
    """Whether a profile is sRGB is judged by its colours, not its name (HDR tools write linear ones)."""
    icc = rgb_profile("sRGB linear", ((0.64, 0.33), (0.30, 0.60), (0.15, 0.06)), D65, 1.0)
    stored = _into(icc, _patches(40))
    path = _save(tmp_path / "linear.png", stored, icc)
    assert _largest_error(_patch_colours(stored), PATCHES) > 40
    assert _largest_error(_patch_colours(load_image(path)), PATCHES) <= 12


def test_transform_is_built_once_per_profile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    icc = rgb_profile(f"Test ProPhoto RGB {tmp_path.name}")  # a profile no other test has used
    paths = [_save(tmp_path / f"{i}.png", _into(icc, _patches(20)), icc) for i in range(3)]
    calls = _count_transforms(monkeypatch)
    for path in paths:
        assert _largest_error(_patch_colours(load_image(path)), PATCHES) <= 3
    assert len(calls) == 1
