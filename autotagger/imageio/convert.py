"""Pixel-level steps shared by every decoder: any Pillow mode to RGB, EXIF orientation, reduction."""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING

from PIL import Image

if TYPE_CHECKING:
    import numpy as np

WHITE = (255, 255, 255)

# EXIF orientation -> the transpose that shows the image upright.
_TRANSPOSE: MappingProxyType[int, Image.Transpose] = MappingProxyType(
    {
        2: Image.Transpose.FLIP_LEFT_RIGHT,
        3: Image.Transpose.ROTATE_180,
        4: Image.Transpose.FLIP_TOP_BOTTOM,
        5: Image.Transpose.TRANSPOSE,
        6: Image.Transpose.ROTATE_270,
        7: Image.Transpose.TRANSVERSE,
        8: Image.Transpose.ROTATE_90,
    }
)

_ALPHA_MODES = frozenset({"RGBA", "LA", "PA", "La", "RGBa"})


class UnsupportedModeError(ValueError):
    """A Pillow mode we cannot turn into RGB."""


def to_rgb(im: Image.Image) -> Image.Image:
    """A new RGB image: alpha composited on white, palettes expanded, 16-bit and float scaled
    to 8 bits (not clipped), CMYK (Adobe-inverted ones are un-inverted by Pillow) converted."""
    mode = im.mode
    if mode == "RGB" and "transparency" not in im.info:
        return im.copy()
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        return _wide_to_rgb(im)
    if mode in _ALPHA_MODES or (mode in ("P", "L", "1", "RGB") and "transparency" in im.info):
        return _on_white(im)
    if mode in ("1", "L", "P", "CMYK", "YCbCr", "HSV", "RGBX"):
        return im.convert("RGB")
    if mode == "LAB":
        return _lab_to_rgb(im)
    try:
        return im.convert("RGB")
    except (ValueError, OSError) as exc:
        raise UnsupportedModeError(f"unsupported colour mode {mode}") from exc


def _on_white(im: Image.Image) -> Image.Image:
    rgba = im.convert("RGBA")
    background = Image.new("RGBA", rgba.size, (*WHITE, 255))
    return Image.alpha_composite(background, rgba).convert("RGB")


def _wide_to_rgb(im: Image.Image) -> Image.Image:
    """16-bit and 32-bit integer or float greyscale to 8-bit RGB, keeping the tonal range."""
    import numpy as np

    data = np.asarray(im)
    if im.mode.startswith("I;16"):
        scaled = data.astype(np.float64) * (255.0 / 65535.0)
    elif im.mode == "I":
        # "I" carries 16-bit data from most sources; 8-bit data now and then
        top = 255.0 if data.size == 0 or int(data.max()) <= 255 else 65535.0
        scaled = np.clip(data.astype(np.float64), 0.0, top) * (255.0 / top)
    else:  # "F"
        return Image.fromarray(float_levels(data)).convert("RGB")
    scaled = np.rint(scaled)
    grey = Image.fromarray(scaled.astype(np.uint8))
    return grey.convert("RGB")


def float_levels(data: np.ndarray) -> np.ndarray:
    """Float samples to 8-bit levels: 0..1 to 0..255; when brighter values occur (HDR, or data in
    0..255 / 0..65535) the brightest becomes 255, keeping the tonal range rather than clipping it
    all to white. NaN, infinities and negatives become 0. (float32 arithmetic: HDR files are big.)"""
    import numpy as np

    finite = np.nan_to_num(data.astype(np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    top = max(1.0, float(finite.max()) if finite.size else 1.0)
    np.clip(finite, 0.0, top, out=finite)
    finite *= np.float32(255.0 / top)
    levels: np.ndarray = np.rint(finite, out=finite).astype(np.uint8)
    return levels


def _lab_to_rgb(im: Image.Image) -> Image.Image:
    from PIL import ImageCms

    try:
        lab = ImageCms.createProfile("LAB")
        srgb = ImageCms.createProfile("sRGB")
        out = ImageCms.profileToProfile(im, lab, srgb, outputMode="RGB")
    except (ImageCms.PyCMSError, OSError, ValueError) as exc:
        raise UnsupportedModeError("unsupported colour mode LAB") from exc
    assert out is not None
    return out


def orientation_of(im: Image.Image) -> int:
    """The EXIF orientation (1..8) of an opened image; 1 when absent or unreadable."""
    try:
        value = im.getexif().get(0x0112, 1)
    except Exception:  # a broken EXIF block must not lose the picture
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def apply_orientation(im: Image.Image, orientation: int) -> Image.Image:
    method = _TRANSPOSE.get(orientation)
    return im.transpose(method) if method is not None else im


def reduce_to_min_side(im: Image.Image, min_size: int) -> Image.Image:
    """Box-reduce by an integer factor so the shorter side stays >= min_size (and < 2 * min_size
    when the image was at least twice as large). ``min_size <= 0`` keeps full resolution."""
    if min_size <= 0:
        return im
    factor = min(im.width, im.height) // min_size
    return im.reduce(factor) if factor >= 2 else im


def swaps_axes(orientation: int) -> bool:
    return orientation in (5, 6, 7, 8)
