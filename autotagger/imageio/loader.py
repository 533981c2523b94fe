"""The public decoding entry points: load_image for the model, make_thumbnail for the GUI."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from autotagger.imageio.colour import to_srgb
from autotagger.imageio.convert import apply_orientation, reduce_to_min_side
from autotagger.imageio.decode import (
    DEFAULT_MAX_PIXELS,
    Decoded,
    DraftBox,
    check_file,
    decode,
    open_binary,
)
from autotagger.imageio.formats import is_raw_path

#: The BLIP-2 vision encoder's input side; decoding larger than this gains nothing.
DEFAULT_MIN_SIZE = 224


def load_image(
    path: str | Path, *, min_size: int = DEFAULT_MIN_SIZE, max_pixels: int = DEFAULT_MAX_PIXELS
) -> Image.Image:
    """Decode ``path`` to an upright RGB image, fully loaded (no file left open).

    When the picture is at least twice ``min_size`` on its shorter side it comes back reduced
    (JPEG: libjpeg's 1/2..1/8 draft scaling, then for every format an integer box reduction) so
    that its shorter side is in [min_size, 2 * min_size]. ``min_size <= 0`` decodes at full size.
    Files above ``max_pixels`` (from the header, before decoding) are refused as bombs.
    Colours come back in sRGB (an embedded profile is converted from, after the reduction).
    Raises ImageLoadError with a one-line reason for anything that is not a readable image.
    """
    p = Path(path)
    box = (min_size, min_size) if min_size > 0 else None
    decoded = _decode_any(p, lambda _w, _h: box, max_pixels)
    image = to_srgb(reduce_to_min_side(decoded.image, min_size), decoded.profile)
    return apply_orientation(image, decoded.orientation)


def make_thumbnail(path: str | Path, size: int, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> Image.Image:
    """An upright sRGB thumbnail whose longer side is at most ``size`` (never enlarged)."""
    if size < 1:
        raise ValueError(f"thumbnail size must be at least 1, not {size}")
    p = Path(path)

    def box(width: int, height: int) -> tuple[int, int]:
        # only the longer side has to stay >= size for a sharp thumbnail
        return (size, 1) if width >= height else (1, size)

    decoded = _decode_any(p, box, max_pixels)
    image = apply_orientation(decoded.image, decoded.orientation)
    image.thumbnail((size, size), Image.Resampling.BICUBIC)
    return to_srgb(image, decoded.profile)


def _decode_any(path: Path, draft_box: DraftBox, max_pixels: int) -> Decoded:
    check_file(path)

    def plain() -> Decoded:
        with open_binary(path) as source:
            return decode(path, source, draft_box=draft_box, max_pixels=max_pixels)

    if not is_raw_path(path):
        return plain()
    from autotagger.imageio.raw import by_content, decode_raw

    return by_content(path, lambda: decode_raw(path, draft_box=draft_box, max_pixels=max_pixels), plain)
