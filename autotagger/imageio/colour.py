"""Embedded ICC profiles: pixels converted to sRGB, the space the model was trained on. An Adobe
RGB, ProPhoto or Display P3 photo read as if it were sRGB shows the model dull or shifted colours.

Cheap where it can be: no profile or an sRGB one costs a dictionary lookup; a transform is built
once per distinct profile and applied after reduction (to few pixels). A profile that cannot be
used (broken, truncated, not RGB) leaves the pixels as they are: it never costs the picture.
"""

from __future__ import annotations

import functools
import io
from typing import TYPE_CHECKING

from PIL import Image

if TYPE_CHECKING:
    from PIL import ImageCms

#: Modes whose pixels are RGB values in the embedded profile's space (YCbCr is RGB, encoded).
_RGB_MODES = frozenset({"RGB", "RGBA", "RGBX", "RGBa", "P", "PA", "YCbCr"})
#: A source profile that maps each of these within this many levels of itself is sRGB in effect.
_SAME_LEVELS = (0, 32, 64, 96, 128, 160, 192, 224, 255)
_SAME_TOLERANCE = 2


def rgb_profile(im: Image.Image) -> bytes | None:
    """The ICC profile embedded in an opened RGB(-like) image, else None (greyscale and CMYK
    profiles do not describe the RGB pixels we produce)."""
    icc = im.info.get("icc_profile")
    return bytes(icc) if isinstance(icc, bytes | bytearray) and icc and im.mode in _RGB_MODES else None


def to_srgb(im: Image.Image, profile: bytes | None) -> Image.Image:
    """``im`` (RGB, in ``profile``'s colours) in sRGB; ``im`` itself when there is no profile, it is
    sRGB already, or it cannot be used."""
    if not profile or im.mode != "RGB":
        return im
    transform = _transform_to_srgb(profile)
    if transform is None:
        return im
    try:
        return transform.apply(im)
    except Exception:  # lcms refusing at apply time: the picture as it is beats no picture
        return im


@functools.lru_cache(maxsize=16)
def _transform_to_srgb(profile: bytes) -> ImageCms.ImageCmsTransform | None:
    """The RGB -> sRGB transform for one profile's bytes, or None (sRGB already, unusable).

    Bounded cache on a pure function: a library holds a handful of distinct profiles (one per camera
    and editor), building a transform costs milliseconds, and lcms transforms may be shared by threads.
    "Is it sRGB" is asked of the colours, not the name: a profile called "sRGB" may be linear.
    """
    from PIL import ImageCms

    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
        if source.profile.xcolor_space.strip() != "RGB":
            return None
        transform = ImageCms.buildTransform(source, ImageCms.createProfile("sRGB"), "RGB", "RGB")
        probe = _probe_image()
        converted = transform.apply(probe)
    except Exception:  # PyCMSError, OSError, ValueError...: a broken profile is no profile
        return None
    if _close(probe, converted):
        return None
    return transform


def _probe_image() -> Image.Image:
    levels = _SAME_LEVELS
    colours = bytes(c for r in levels for g in levels for b in levels for c in (r, g, b))
    return Image.frombytes("RGB", (len(levels) ** 3, 1), colours)


def _close(a: Image.Image, b: Image.Image) -> bool:
    return all(abs(x - y) <= _SAME_TOLERANCE for x, y in zip(a.tobytes(), b.tobytes(), strict=True))
