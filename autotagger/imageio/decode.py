"""Decoding with Pillow (and pillow-heif): open with the allowed decoders only, refuse bombs from
the header, JPEG draft mode, full load, RGB. Orientation and the embedded colour profile are read
here and applied by the caller (after reduction: fewer pixels). Float TIFFs go to floattiff."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from PIL import Image

from autotagger.imageio.colour import rgb_profile
from autotagger.imageio.convert import UnsupportedModeError, orientation_of, to_rgb
from autotagger.imageio.errors import ImageLoadError, bomb_reason, damage, reason_for, sniff
from autotagger.imageio.floattiff import FloatTiff, decode_float_tiff, read_float_tiff
from autotagger.imageio.formats import JPEG_FORMATS, pillow_formats

#: Pillow itself refuses images above twice its MAX_IMAGE_PIXELS (which we never change), so a
#: larger limit would not help; smaller limits are checked by us from the header.
DEFAULT_MAX_PIXELS = 178_956_970

#: Given the stored (width, height), the box a JPEG must still fill after draft scaling (None: full size).
DraftBox = Callable[[int, int], "tuple[int, int] | None"]


@dataclass(frozen=True)
class Decoded:
    image: Image.Image  # RGB, fully loaded, not yet oriented
    orientation: int  # EXIF orientation 1..8 still to apply
    stored_size: tuple[int, int]  # the size the header declares (before draft)
    format: str
    profile: bytes | None = None  # the embedded RGB ICC profile, still to convert from (colour.to_srgb)


def check_file(path: Path) -> int:
    """Raise ImageLoadError for a missing, special, empty or unreadable path; return its size."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise ImageLoadError(path, "no such file") from None
    except PermissionError:
        raise ImageLoadError(path, "permission denied") from None
    except OSError as exc:
        raise ImageLoadError(path, f"cannot read ({exc.strerror or exc})") from None
    if stat.S_ISDIR(st.st_mode):
        raise ImageLoadError(path, "is a directory, not an image file")
    if not stat.S_ISREG(st.st_mode):
        raise ImageLoadError(path, "not a regular file")
    if st.st_size == 0:
        raise ImageLoadError(path, "empty file", damaged=True)
    if not os.access(path, os.R_OK):
        raise ImageLoadError(path, "permission denied")
    return st.st_size


def open_binary(path: Path) -> BinaryIO:
    try:
        return open(path, "rb")
    except PermissionError:
        raise ImageLoadError(path, "permission denied") from None
    except IsADirectoryError:
        raise ImageLoadError(path, "is a directory, not an image file") from None
    except OSError as exc:
        raise ImageLoadError(path, f"cannot read ({exc.strerror or exc})") from None


def open_header(path: Path, source: BinaryIO, max_pixels: int) -> Image.Image | FloatTiff:
    """Image.open restricted to our decoders (header only), with the pixel limit checked.

    A floating-point TIFF comes back as its FloatTiff directory instead: Pillow opens only the
    single-channel ones (and misreads some of those), and called the others corrupt.
    """
    formats = pillow_formats()
    start = source.tell()
    claimed = sniff(source.read(16))
    if claimed == "TIFF":  # a directory read, no pixels: cheap, and TIFFs are few
        float_tiff = read_float_tiff(source)
        if float_tiff is not None:
            _check_size(path, float_tiff.width, float_tiff.height, "TIFF", max_pixels)
            return float_tiff
    source.seek(start)
    try:
        im = Image.open(source, formats=formats)
    except Exception as exc:
        raise ImageLoadError(path, reason_for(exc, claimed), damaged=damage(exc)) from None
    try:
        _check_size(path, im.width, im.height, im.format, max_pixels)
    except ImageLoadError:
        im.close()
        raise
    return im


def _check_size(path: Path, width: int, height: int, fmt: str | None, max_pixels: int) -> None:
    if width * height > max_pixels:
        raise ImageLoadError(path, bomb_reason(width, height, max_pixels), damaged=True)
    if width <= 0 or height <= 0:
        raise ImageLoadError(path, f"corrupt {fmt} (size {width}x{height})", damaged=True)


def decode(path: Path, source: BinaryIO, *, draft_box: DraftBox, max_pixels: int) -> Decoded:
    """Decode ``source`` (an open file or a BytesIO; ``path`` names it in errors) to RGB.

    ``draft_box(w, h)``: for JPEG, let libjpeg scale by 1/2..1/8 while both sides stay >= the box.
    """
    im = open_header(path, source, max_pixels)
    if isinstance(im, FloatTiff):
        return _decode_float(path, source, im)
    fmt = im.format or "image"
    stored = im.size
    try:
        with im:
            box = draft_box(*stored) if fmt in JPEG_FORMATS else None
            if box is not None:
                im.draft("RGB", (max(1, box[0]), max(1, box[1])))
            im.load()  # the first frame for GIF/TIFF/MPO: the one Image.open selects
            orientation = orientation_of(im)
            profile = rgb_profile(im)
            rgb = to_rgb(im)
    except ImageLoadError:
        raise
    except UnsupportedModeError as exc:
        raise ImageLoadError(path, str(exc), damaged=True) from None
    except Exception as exc:  # Pillow raises many kinds for damaged data; each is one file's error
        raise ImageLoadError(path, reason_for(exc, fmt), damaged=damage(exc)) from None
    if fmt == "HEIF":
        orientation = 1  # libheif has applied the rotation/mirror already
    return Decoded(rgb, orientation, stored, fmt, profile)


def _decode_float(path: Path, source: BinaryIO, tiff: FloatTiff) -> Decoded:
    try:
        image = decode_float_tiff(path, source, tiff)
    except ImageLoadError:
        raise
    except Exception as exc:  # numpy on inconsistent sizes (ValueError), MemoryError, ...
        raise ImageLoadError(path, reason_for(exc, "TIFF"), damaged=damage(exc)) from None
    profile = tiff.icc_profile if image.mode in ("RGB", "RGBA") else None
    return Decoded(to_rgb(image), tiff.orientation, tiff.size, "TIFF", profile)
