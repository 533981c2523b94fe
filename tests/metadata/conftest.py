"""Test images with foreign metadata (EXIF with GPS and a maker note, ICC, another tool's XMP)."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import piexif
import pytest
from PIL import Image, ImageCms

from autotagger.metadata import MetadataRecord
from autotagger.types import Tag

EXIFTOOL = shutil.which("exiftool")
needs_exiftool = pytest.mark.skipif(EXIFTOOL is None, reason="exiftool not installed (scripts/system-deps.sh)")

MAKERNOTE = b"FOREIGN-MAKERNOTE\x00\x01\x02\x03binary"
CAPTION = "Café über 東京 <&> \"quoted\""
RECORD = MetadataRecord(
    caption=CAPTION,
    caption_source="model",
    tags=(Tag("setting|outdoors", 0.93, "setting"), Tag("weather|schön", 0.61, "weather"), Tag("東京", None, None)),
    model_id="Salesforce/blip2-opt-2.7b",
    question_set_version="v7",
    date="2026-01-02T03:04:05+00:00",
)


def exif_bytes() -> bytes:
    return piexif.dump(
        {
            "0th": {piexif.ImageIFD.Make: b"TestCam", piexif.ImageIFD.Model: b"Model 1"},
            "Exif": {piexif.ExifIFD.MakerNote: MAKERNOTE, piexif.ExifIFD.ISOSpeedRatings: 400},
            "GPS": {
                piexif.GPSIFD.GPSLatitudeRef: b"N",
                piexif.GPSIFD.GPSLatitude: ((48, 1), (8, 1), (30, 1)),
                piexif.GPSIFD.GPSLongitudeRef: b"E",
                piexif.GPSIFD.GPSLongitude: ((11, 1), (34, 1), (0, 1)),
            },
        }
    )


def icc_bytes() -> bytes:
    return bytes(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())


def picture() -> Image.Image:
    im = Image.new("RGB", (96, 64))
    im.putdata([((x * 7) % 256, (y * 11) % 256, (x * y) % 256) for y in range(64) for x in range(96)])
    return im


def exiftool_json(path: Path, *args: str) -> dict[str, Any]:
    assert EXIFTOOL is not None
    out = subprocess.run(
        [EXIFTOOL, "-j", "-G1", "-struct", "-a", "-charset", "UTF8", *args, str(path)],
        capture_output=True, text=True, check=True,
    ).stdout
    data: dict[str, Any] = json.loads(out)[0]
    return data


def exiftool_set(path: Path, *assignments: str) -> None:
    assert EXIFTOOL is not None
    subprocess.run([EXIFTOOL, "-q", "-m", "-overwrite_original", "-charset", "UTF8", *assignments, str(path)],
                   check=True, capture_output=True)


def make_image(folder: Path, fmt: str, name: str = "photo", foreign_xmp: bool = True) -> Path:
    """A file of ``fmt`` with EXIF (GPS, maker note), ICC and another tool's XMP (via exiftool)."""
    im = picture()
    if fmt == "heic":
        import pillow_heif

        pillow_heif.register_heif_opener()
        path = folder / f"{name}.heic"
        im.save(path, format="HEIF", exif=exif_bytes(), icc_profile=icc_bytes(), quality=90)
    else:
        ext = {"jpeg": "jpg", "tiff": "tif", "png": "png", "webp": "webp"}[fmt]
        path = folder / f"{name}.{ext}"
        extra: dict[str, Any] = {"lossless": True} if fmt == "webp" else {}
        im.save(path, exif=exif_bytes(), icc_profile=icc_bytes(), **extra)
    if foreign_xmp and EXIFTOOL is not None:
        exiftool_set(path, "-XMP-dc:Subject=my own keyword", "-XMP-lr:HierarchicalSubject=people|Anna",
                     "-XMP-xmpRights:UsageTerms=all rights reserved", "-XMP-dc:Creator=Ånna Fotografin")
    return path


def pixels(path: Path) -> bytes:
    if path.suffix == ".heic":
        import pillow_heif

        pillow_heif.register_heif_opener()
    with Image.open(path) as im:
        return im.convert("RGBA").tobytes()


def foreign_state(path: Path) -> dict[str, Any]:
    """What must survive any write: ICC, maker note, GPS, make, other XMP."""
    with Image.open(path) as im:
        exif = im.getexif()
        return {
            "icc": im.info.get("icc_profile"),
            "make": exif.get(0x010F),
            "makernote": exif.get_ifd(0x8769).get(0x927C),
            "gps": dict(exif.get_ifd(0x8825)),
        }


def temp_leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if "autotagger-tmp" in p.name)


@pytest.fixture
def make() -> Callable[..., Path]:
    return make_image
