"""Cheap header-only facts about an image: size as shown, format, capture time, camera."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from autotagger.imageio.convert import swaps_axes
from autotagger.imageio.decode import DEFAULT_MAX_PIXELS, check_file, open_binary, open_header
from autotagger.imageio.errors import ImageLoadError
from autotagger.imageio.floattiff import FloatTiff
from autotagger.imageio.formats import is_raw_path

_EXIF_IFD = 0x8769
_MAKE, _MODEL, _ORIENTATION = 0x010F, 0x0110, 0x0112
_DATE_TIME_ORIGINAL, _DATE_TIME_DIGITIZED = 0x9003, 0x9004
_TIFF_LIKE = (b"IIRO", b"IIRS", b"IIU\0")  # Olympus ORF, Panasonic RW2: TIFF with their own magic
_EXIF_DATE = re.compile(r"^\s*(\d{4})[:\-](\d{2})[:\-](\d{2})[ T](\d{2}):(\d{2}):(\d{2})")


@dataclass(frozen=True)
class ImageInfo:
    width: int  # as displayed, after orientation
    height: int
    format: str  # Pillow's name ("JPEG", "PNG", "HEIF", ...) or "RAW"
    captured_at: str | None  # EXIF DateTimeOriginal (else DateTimeDigitized), "2024-05-01T13:45:10"
    camera: str | None  # "Make Model", without the make repeated ("Canon EOS R5", not "Canon Canon EOS R5")
    orientation: int  # EXIF orientation 1..8 of the stored pixels


def probe(path: str | Path, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> ImageInfo:
    """Read the header only (no pixel decoding). Raises ImageLoadError like load_image."""
    p = Path(path)
    check_file(p)
    if is_raw_path(p):
        from autotagger.imageio.raw import by_content

        return by_content(p, lambda: _probe_raw(p), lambda: _probe_plain(p, max_pixels))
    return _probe_plain(p, max_pixels)


def _probe_plain(p: Path, max_pixels: int) -> ImageInfo:
    with open_binary(p) as source:
        opened = open_header(p, source, max_pixels)
        if isinstance(opened, FloatTiff):
            return _from_tags(p, opened.size, "TIFF", opened.orientation)
        with opened as im:
            return _probe_image(im)


def _probe_image(im: Image.Image) -> ImageInfo:
    exif = _exif_of(im)
    width, height = im.size
    fmt = im.format or "image"
    if fmt == "HEIF":  # pixels come out rotated already; the original tag is kept aside
        orientation = _orientation(im.info.get("original_orientation"))
        shown = (width, height)
    else:
        orientation = _orientation(exif.get(_ORIENTATION))
        if fmt == "TIFF":  # Pillow may report a TIFF's size already turned: use the stored one
            width, height = exif.get(256, width), exif.get(257, height)
        shown = (height, width) if swaps_axes(orientation) else (width, height)
    return ImageInfo(shown[0], shown[1], fmt, _captured_at(_sub_ifd(exif)), _camera(exif), orientation)


def _probe_raw(path: Path) -> ImageInfo:
    from autotagger.imageio.raw import open_raw, raw_orientation

    with open_raw(path) as raw:
        width, height = int(raw.sizes.width), int(raw.sizes.height)
        orientation = raw_orientation(raw)
    return _from_tags(path, (width, height), "RAW", orientation)


def _from_tags(path: Path, size: tuple[int, int], fmt: str, orientation: int) -> ImageInfo:
    """Capture time and camera from a TIFF-based file's own directories (RAW, float TIFF)."""
    ifd0, sub = _raw_tags(path)
    shown = (size[1], size[0]) if swaps_axes(orientation) else size
    return ImageInfo(shown[0], shown[1], fmt, _captured_at(sub), _camera(ifd0), orientation)


def _raw_tags(path: Path) -> tuple[Mapping[int, Any], Mapping[int, Any]]:
    """IFD0 and Exif IFD tags of a TIFF-based RAW (DNG, NEF, CR2, ARW, PEF, ORF, RW2...), read
    entry by entry from the directories (never the pixel data); empty for other layouts (CR3, RAF)."""
    from PIL import TiffImagePlugin

    try:
        with open(path, "rb") as source:
            header = source.read(8)
            if header[:4] in _TIFF_LIKE:
                header = b"II*\0" + header[4:]
            ifd0 = TiffImagePlugin.ImageFileDirectory_v2(header)
            source.seek(ifd0.next)
            ifd0.load(source)
            sub = TiffImagePlugin.ImageFileDirectory_v2(header)
            offset = ifd0.get(_EXIF_IFD)
            if isinstance(offset, int) and offset > 0:
                source.seek(offset)
                sub.load(source)
            return dict(ifd0), dict(sub)
    except Exception:  # not TIFF inside, or a damaged directory: no metadata, not an error
        return {}, {}


def _exif_of(im: Image.Image) -> Image.Exif:
    """EXIF from the header, never decoding pixels (PNG's getexif() would load the image)."""
    exif = Image.Exif()
    try:
        if im.format == "TIFF":
            return im.getexif()
        data = im.info.get("exif")
        if isinstance(data, bytes) and data:
            exif.load(data)
    except Exception:  # broken EXIF: report what the header gives, no metadata
        return Image.Exif()
    return exif


def _orientation(value: Any) -> int:
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _text(value: Any) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return None
    text = " ".join(value.replace("\x00", " ").split())
    return text or None


def _sub_ifd(exif: Image.Exif) -> Mapping[int, Any]:
    try:
        return exif.get_ifd(_EXIF_IFD)
    except Exception:  # a broken pointer: no capture time
        return {}


def _captured_at(sub: Mapping[int, Any]) -> str | None:
    for tag in (_DATE_TIME_ORIGINAL, _DATE_TIME_DIGITIZED):
        text = _text(sub.get(tag))
        match = _EXIF_DATE.match(text or "")
        if match and match.group(1) != "0000":
            y, mo, d, h, mi, s = match.groups()
            return f"{y}-{mo}-{d}T{h}:{mi}:{s}"
    return None


def _camera(ifd0: Mapping[int, Any]) -> str | None:
    make, model = _text(ifd0.get(_MAKE)), _text(ifd0.get(_MODEL))
    if make and model:
        first = make.split()[0].lower()
        return model if model.lower().startswith(first) else f"{make} {model}"
    return model or make


__all__ = ["ImageInfo", "ImageLoadError", "probe"]
