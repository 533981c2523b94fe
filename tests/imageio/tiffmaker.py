"""A tiny TIFF writer for test files Pillow cannot write: 48-bit RGB TIFFs and minimal DNGs
(CFA raw data with an optional JPEG preview) that LibRaw opens as genuine RAW files."""

from __future__ import annotations

import io
import struct
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

BYTE, ASCII, SHORT, LONG, RATIONAL, UNDEFINED, SRATIONAL = 1, 2, 3, 4, 5, 7, 10
Entries = dict[int, tuple[int, Any]]


def _pack(typ: int, values: Any) -> tuple[int, bytes]:
    if typ == ASCII:
        data = str(values).encode() + b"\0"
        return len(data), data
    if typ in (RATIONAL, SRATIONAL):
        fmt = "<II" if typ == RATIONAL else "<ii"
        return len(values), b"".join(struct.pack(fmt, n, d) for n, d in values)
    if isinstance(values, bytes):
        return len(values), values
    code = {BYTE: "B", SHORT: "H", LONG: "I", UNDEFINED: "B"}[typ]
    return len(values), struct.pack(f"<{len(values)}{code}", *values)


class TiffBuilder:
    """Little-endian TIFF: add blobs (pixel data), then IFDs that point at them."""

    def __init__(self) -> None:
        self.buf = bytearray(b"II*\0\0\0\0\0")

    def _align(self) -> None:
        if len(self.buf) % 2:
            self.buf += b"\0"

    def blob(self, data: bytes) -> int:
        self._align()
        offset = len(self.buf)
        self.buf += data
        return offset

    def ifd(self, entries: Entries, next_ifd: int = 0) -> int:
        self._align()
        offset = len(self.buf)
        extra_at = offset + 2 + 12 * len(entries) + 4
        head, extra = bytearray(struct.pack("<H", len(entries))), bytearray()
        for tag in sorted(entries):
            typ, values = entries[tag]
            count, data = _pack(typ, values)
            if len(data) <= 4:
                head += struct.pack("<HHI", tag, typ, count) + data.ljust(4, b"\0")
            else:
                head += struct.pack("<HHII", tag, typ, count, extra_at + len(extra))
                extra += data + (b"\0" if len(data) % 2 else b"")
        head += struct.pack("<I", next_ifd)
        self.buf += head + extra
        return offset

    def save(self, path: Path, first_ifd: int) -> Path:
        struct.pack_into("<I", self.buf, 4, first_ifd)
        path.write_bytes(bytes(self.buf))
        return path


def _strip(width: int, height: int, offset: int, nbytes: int) -> Entries:
    return {
        256: (LONG, [width]),
        257: (LONG, [height]),
        259: (SHORT, [1]),
        273: (LONG, [offset]),
        278: (LONG, [height]),
        279: (LONG, [nbytes]),
        284: (SHORT, [1]),
    }


def write_rgb48_tiff(path: Path, rgb16: np.ndarray, orientation: int = 1) -> Path:
    """An uncompressed 16-bit-per-channel RGB TIFF (Pillow cannot write one)."""
    height, width, _ = rgb16.shape
    tiff = TiffBuilder()
    data = rgb16.astype("<u2").tobytes()
    entries = _strip(width, height, tiff.blob(data), len(data))
    entries |= {258: (SHORT, [16, 16, 16]), 262: (SHORT, [2]), 277: (SHORT, [3]), 274: (SHORT, [orientation])}
    return tiff.save(path, tiff.ifd(entries))


# XYZ (D65) -> linear sRGB: with this as ColorMatrix1 the camera's RGB *is* linear sRGB.
_XYZ_TO_SRGB = [
    [3.2406, -1.5372, -0.4986],
    [-0.9689, 1.8758, 0.0415],
    [0.0557, -0.2040, 1.0570],
]


def bayer_from_rgb(rgb: np.ndarray) -> np.ndarray:
    """An RGGB mosaic (uint16) sampling an (H, W, 3) float image in 0..1."""
    height, width, _ = rgb.shape
    cfa = np.zeros((height, width), dtype=np.float64)
    cfa[0::2, 0::2] = rgb[0::2, 0::2, 0]
    cfa[0::2, 1::2] = rgb[0::2, 1::2, 1]
    cfa[1::2, 0::2] = rgb[1::2, 0::2, 1]
    cfa[1::2, 1::2] = rgb[1::2, 1::2, 2]
    return np.round(cfa * 4095).astype(np.uint16)


def write_dng(
    path: Path,
    scene: np.ndarray,
    *,
    preview: Image.Image | None = None,
    orientation: int = 1,
    make: str = "Testcam",
    model: str = "Testcam One",
    captured_at: str | None = None,
) -> Path:
    """A minimal DNG 1.4: IFD0 is the raw CFA image (12-bit data in 16-bit samples, RGGB) and,
    when ``preview`` is given, a SubIFD holds it as a baseline JPEG (NewSubfileType 1)."""
    height, width, _ = scene.shape
    tiff = TiffBuilder()
    raw = bayer_from_rgb(scene).astype("<u2").tobytes()
    raw_at = tiff.blob(raw)
    entries = _strip(width, height, raw_at, len(raw))
    entries |= {
        254: (LONG, [0]),
        258: (SHORT, [16]),
        262: (SHORT, [32803]),  # CFA
        271: (ASCII, make),
        272: (ASCII, model),
        274: (SHORT, [orientation]),
        277: (SHORT, [1]),
        33421: (SHORT, [2, 2]),  # CFARepeatPatternDim
        33422: (BYTE, [0, 1, 1, 2]),  # CFAPattern RGGB
        50706: (BYTE, [1, 4, 0, 0]),  # DNGVersion
        50707: (BYTE, [1, 1, 0, 0]),  # DNGBackwardVersion
        50708: (ASCII, f"{make} {model}"),  # UniqueCameraModel
        50714: (LONG, [0]),  # BlackLevel
        50717: (LONG, [4095]),  # WhiteLevel
        50721: (SRATIONAL, [(round(v * 10000), 10000) for row in _XYZ_TO_SRGB for v in row]),
        50728: (RATIONAL, [(1, 1), (1, 1), (1, 1)]),  # AsShotNeutral
        50778: (SHORT, [21]),  # CalibrationIlluminant1 = D65
    }
    if captured_at is not None:
        exif_ifd = tiff.ifd({36867: (ASCII, captured_at)})
        entries[34665] = (LONG, [exif_ifd])
    if preview is not None:
        buffer = io.BytesIO()
        preview.convert("RGB").save(buffer, "JPEG", quality=92)
        jpeg = buffer.getvalue()
        sub = {
            254: (LONG, [1]),
            256: (LONG, [preview.width]),
            257: (LONG, [preview.height]),
            258: (SHORT, [8, 8, 8]),
            259: (SHORT, [7]),
            262: (SHORT, [6]),
            273: (LONG, [tiff.blob(jpeg)]),
            277: (SHORT, [3]),
            278: (LONG, [preview.height]),
            279: (LONG, [len(jpeg)]),
            284: (SHORT, [1]),
        }
        entries[330] = (LONG, [tiff.ifd(sub)])
    return tiff.save(path, tiff.ifd(entries))
