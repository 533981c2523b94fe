"""A tiny TIFF writer for test files Pillow cannot write: 48-bit RGB TIFFs, floating-point RGB
TIFFs (as HDR tools write them) and minimal DNGs (CFA raw data with an optional JPEG preview)
that LibRaw opens as genuine RAW files."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

BYTE, ASCII, SHORT, LONG, RATIONAL, UNDEFINED, SRATIONAL = 1, 2, 3, 4, 5, 7, 10
Entries = dict[int, tuple[int, Any]]


def _pack(typ: int, values: Any, order: str = "<") -> tuple[int, bytes]:
    if typ == ASCII:
        data = str(values).encode() + b"\0"
        return len(data), data
    if typ in (RATIONAL, SRATIONAL):
        fmt = f"{order}II" if typ == RATIONAL else f"{order}ii"
        return len(values), b"".join(struct.pack(fmt, n, d) for n, d in values)
    if isinstance(values, bytes):
        return len(values), values
    code = {BYTE: "B", SHORT: "H", LONG: "I", UNDEFINED: "B"}[typ]
    return len(values), struct.pack(f"{order}{len(values)}{code}", *values)


class TiffBuilder:
    """A TIFF (little-endian unless ``order`` is ">"): add blobs (pixel data), then IFDs that point at them."""

    def __init__(self, order: str = "<") -> None:
        self.order = order
        self.buf = bytearray((b"II*\0" if order == "<" else b"MM\0*") + b"\0\0\0\0")

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
        o = self.order
        head, extra = bytearray(struct.pack(f"{o}H", len(entries))), bytearray()
        for tag in sorted(entries):
            typ, values = entries[tag]
            count, data = _pack(typ, values, o)
            if len(data) <= 4:
                head += struct.pack(f"{o}HHI", tag, typ, count) + data.ljust(4, b"\0")
            else:
                head += struct.pack(f"{o}HHII", tag, typ, count, extra_at + len(extra))
                extra += data + (b"\0" if len(data) % 2 else b"")
        head += struct.pack(f"{o}I", next_ifd)
        self.buf += head + extra
        return offset

    def save(self, path: Path, first_ifd: int) -> Path:
        struct.pack_into(f"{self.order}I", self.buf, 4, first_ifd)
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


def _predicted(chunk: np.ndarray, predictor: int, order: str) -> bytes:
    """A (rows, cols, samples) chunk's bytes as libtiff's predictor writes them: 1 none, 2 integer
    differences of neighbouring samples, 3 floating point (bytes split into planes, MSB first, then
    byte differences). Each row starts afresh."""
    rows, cols, samples = chunk.shape
    size = chunk.dtype.itemsize
    if predictor == 1:
        return chunk.astype(f"{order}f{size}").tobytes()
    if predictor == 2:
        ints = chunk.astype(f"{order}f{size}").view(f"{order}u{size}").reshape(rows, cols * samples)
        diff = ints.copy()
        diff[:, samples:] = ints[:, samples:] - ints[:, :-samples]  # wraps, as libtiff's does
        return diff.tobytes()
    msb_first = chunk.astype(f">f{size}").reshape(rows, cols * samples)
    planes = msb_first.view(np.uint8).reshape(rows, cols * samples, size).transpose(0, 2, 1).reshape(rows, -1)
    diff = planes.copy()
    diff[:, samples:] = planes[:, samples:] - planes[:, :-samples]
    return diff.tobytes()


def write_float_tiff(
    path: Path,
    pixels: np.ndarray,
    *,
    compression: int = 1,
    predictor: int = 1,
    planar: int = 1,
    rows_per_strip: int | None = None,
    tile: tuple[int, int] | None = None,
    order: str = "<",
    alpha: bool = False,
    orientation: int = 1,
    icc: bytes | None = None,
    ifd_first: bool = False,
) -> Path:
    """A floating-point TIFF (SampleFormat 3) of ``pixels`` (H, W, samples), at the pixels' float
    size (16, 32 or 64 bits). ``compression`` 1 none, 8 or 32946 Deflate; any other code is written as the
    tag only, over uncompressed data (for refusal tests). ``tile`` is (width, height).
    ``ifd_first``: the directory before the pixel data (as cameras write), else after it."""
    height, width, samples = pixels.shape
    size = pixels.dtype.itemsize
    planes = [pixels] if planar == 1 else [pixels[..., i : i + 1] for i in range(samples)]
    chunks: list[np.ndarray] = []
    for plane in planes:
        if tile is None:
            step = rows_per_strip or height
            chunks += [plane[y : y + step] for y in range(0, height, step)]
            continue
        tw, th = tile
        for y in range(0, height, th):
            for x in range(0, width, tw):
                block = np.zeros((th, tw, plane.shape[2]), dtype=pixels.dtype)
                part = plane[y : y + th, x : x + tw]
                block[: part.shape[0], : part.shape[1]] = part
                chunks.append(block)
    blobs = []
    for chunk in chunks:
        data = _predicted(chunk, predictor if compression != 1 else 1, order)
        blobs.append(zlib.compress(data) if compression in (8, 32946) else data)
    entries: Entries = {
        256: (LONG, [width]),
        257: (LONG, [height]),
        258: (SHORT, [size * 8] * samples),
        259: (SHORT, [compression]),
        262: (SHORT, [2 if samples >= 3 else 1]),
        274: (SHORT, [orientation]),
        277: (SHORT, [samples]),
        284: (SHORT, [planar]),
        339: (SHORT, [3] * samples),
    }
    if predictor != 1:
        entries[317] = (SHORT, [predictor])
    if alpha:
        entries[338] = (SHORT, [2])  # unassociated alpha
    if icc is not None:
        entries[34675] = (UNDEFINED, icc)

    def with_offsets(offsets: list[int]) -> Entries:
        counts = [len(b) for b in blobs]
        if tile is None:
            return entries | {
                273: (LONG, offsets),
                278: (LONG, [rows_per_strip or height]),
                279: (LONG, counts),
            }
        return entries | {
            322: (LONG, [tile[0]]),
            323: (LONG, [tile[1]]),
            324: (LONG, offsets),
            325: (LONG, counts),
        }

    tiff = TiffBuilder(order)
    if not ifd_first:
        offsets = [tiff.blob(b) for b in blobs]
        return tiff.save(path, tiff.ifd(with_offsets(offsets)))
    # the IFD first and the pixel data after it, so that a cut file loses pixels, not its header;
    # the offsets' values do not change the IFD's size, so a trial IFD says where the data starts
    trial = TiffBuilder(order)
    trial.ifd(with_offsets([0] * len(blobs)))
    at = len(trial.buf) + len(trial.buf) % 2
    offsets = []
    for blob in blobs:
        offsets.append(at)
        at += len(blob) + len(blob) % 2
    first_ifd = tiff.ifd(with_offsets(offsets))
    assert [tiff.blob(b) for b in blobs] == offsets
    return tiff.save(path, first_ifd)


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
