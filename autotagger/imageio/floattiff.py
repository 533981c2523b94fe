"""Floating-point TIFFs (SampleFormat 3: HDR merges, 32-bit edits, scientific exports), read with
numpy. Pillow opens none with three or four channels (it reported them as corrupt) and reads
big-endian compressed greyscale ones byte-swapped twice, so every float TIFF comes here.

Covered: 16/32/64-bit samples, either byte order, strips or tiles, chunky or planar, no compression
or Deflate, with no predictor, the integer one or the floating-point one. Anything else (LZW, ...)
is a clear "unsupported" error, not damage: the bytes may be fine.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from PIL import Image

from autotagger.imageio.convert import float_levels
from autotagger.imageio.errors import ImageLoadError

if TYPE_CHECKING:
    import numpy as np

_DEFLATE = frozenset({8, 32946})
_COMPRESSION_NAMES = {
    5: "LZW",
    6: "old-style JPEG",
    7: "JPEG",
    32773: "PackBits",
    34925: "LZMA",
    50000: "ZSTD",
}
_ASSOCIATED_ALPHA, _UNASSOCIATED_ALPHA = 1, 2


@dataclass(frozen=True)
class FloatTiff:
    """The first image directory of a float TIFF: what decoding and probing need."""

    width: int
    height: int
    samples: int
    bits: tuple[int, ...]
    byte_order: str  # "<" or ">", for numpy
    compression: int
    predictor: int
    planar: int  # 1 chunky (RGBRGB...), 2 one plane per sample
    photometric: int
    extra_samples: tuple[int, ...]
    offsets: tuple[int, ...]
    byte_counts: tuple[int, ...]
    rows_per_strip: int
    tile: tuple[int, int] | None  # (width, height) for tiled files
    orientation: int
    icc_profile: bytes | None

    @property
    def size(self) -> tuple[int, int]:
        return self.width, self.height


def _ints(value: Any) -> tuple[int, ...]:
    if value is None:
        return ()
    if isinstance(value, tuple | list):
        return tuple(int(v) for v in value)
    return (int(value),)


def read_float_tiff(source: BinaryIO) -> FloatTiff | None:
    """The first IFD of a TIFF whose samples are all IEEE floats; None for any other TIFF or a
    directory that does not parse (the caller's own error stands then). Reads tags, not pixels.
    ``source`` holds the whole file: TIFF offsets count from its first byte."""
    from PIL import TiffImagePlugin

    try:
        source.seek(0)
        ifd = TiffImagePlugin.ImageFileDirectory_v2(source.read(8))
        source.seek(ifd.next)
        ifd.load(source)
        formats = _ints(ifd.get(339))
        if not formats or any(f != 3 for f in formats):
            return None
        (width,), (height,) = _ints(ifd.get(256)), _ints(ifd.get(257))
        samples = (_ints(ifd.get(277)) or (1,))[0]
        tiled = 322 in ifd and 323 in ifd
        icc = ifd.get(34675)
        orientation = (_ints(ifd.get(274)) or (1,))[0]
        return FloatTiff(
            width=width,
            height=height,
            samples=samples,
            bits=_ints(ifd.get(258)) or (32,),
            byte_order="<" if ifd.prefix == b"II" else ">",
            compression=(_ints(ifd.get(259)) or (1,))[0],
            predictor=(_ints(ifd.get(317)) or (1,))[0],
            planar=(_ints(ifd.get(284)) or (1,))[0],
            photometric=(_ints(ifd.get(262)) or (1,))[0],
            extra_samples=_ints(ifd.get(338)),
            offsets=_ints(ifd.get(324 if tiled else 273)),
            byte_counts=_ints(ifd.get(325 if tiled else 279)),
            rows_per_strip=min((_ints(ifd.get(278)) or (height,))[0], height),
            tile=(_ints(ifd[322])[0], _ints(ifd[323])[0]) if tiled else None,
            orientation=orientation if 1 <= orientation <= 8 else 1,
            icc_profile=bytes(icc) if isinstance(icc, bytes | bytearray) and icc else None,
        )
    except Exception:  # not a TIFF directory we can read: leave the verdict to Pillow's error
        return None


def decode_float_tiff(path: Path, source: BinaryIO, tiff: FloatTiff) -> Image.Image:
    """The pixels as an 8-bit L, LA, RGB or RGBA image (levels as in convert.float_levels)."""
    import numpy as np

    bits = tiff.bits[0]
    _check_supported(path, tiff, bits)
    file_size = source.seek(0, 2)
    data = np.zeros((tiff.height, tiff.width, tiff.samples), dtype=np.float32)
    for index, (y, x, plane, rows, cols) in enumerate(_chunks(path, tiff)):
        width = cols * (1 if tiff.planar == 2 else tiff.samples)
        need = rows * width * (bits // 8)
        raw = _read_chunk(path, source, tiff, index, need, file_size)
        if len(raw) < need:
            raise ImageLoadError(
                path, f"corrupt TIFF (chunk {index}: {len(raw)} of {need} bytes)", damaged=True
            )
        values = _unpredict(raw[:need], rows, width, tiff, bits).reshape(rows, cols, -1)
        h, w = min(rows, tiff.height - y), min(cols, tiff.width - x)
        channels = slice(plane, plane + 1) if tiff.planar == 2 else slice(None)
        data[y : y + h, x : x + w, channels] = values[:h, :w]
    return _to_image(data, tiff)


def _check_supported(path: Path, tiff: FloatTiff, bits: int) -> None:
    what = f"{bits}-bit float TIFF"
    if tiff.compression not in _DEFLATE and tiff.compression != 1:
        name = _COMPRESSION_NAMES.get(tiff.compression, f"compression {tiff.compression}")
        raise ImageLoadError(path, f"unsupported: {what} with {name} compression")
    if bits not in (16, 32, 64) or any(b != bits for b in tiff.bits):
        raise ImageLoadError(
            path, f"unsupported: float TIFF with {'/'.join(map(str, tiff.bits))}-bit samples"
        )
    if not 1 <= tiff.samples <= 8:
        raise ImageLoadError(path, f"unsupported: {what} with {tiff.samples} samples per pixel")
    if tiff.predictor not in (1, 2, 3) or tiff.planar not in (1, 2):
        raise ImageLoadError(path, f"unsupported: {what} (predictor {tiff.predictor}, planar {tiff.planar})")
    colour = tiff.samples - len(tiff.extra_samples)
    if not (tiff.photometric == 1 and colour in (1, 2)) and not (tiff.photometric == 2 and colour >= 3):
        raise ImageLoadError(
            path, f"unsupported: {what} (photometric {tiff.photometric}, {tiff.samples} samples)"
        )
    if tiff.width <= 0 or tiff.height <= 0 or tiff.rows_per_strip <= 0 or (tiff.tile and min(tiff.tile) <= 0):
        raise ImageLoadError(path, f"corrupt TIFF (size {tiff.width}x{tiff.height})", damaged=True)


def _chunks(path: Path, tiff: FloatTiff) -> Iterator[tuple[int, int, int, int, int]]:
    """(y, x, plane, rows, columns) of each strip or tile in file order; tiles are whole (padded)."""
    planes = tiff.samples if tiff.planar == 2 else 1
    if tiff.tile is None:
        step = tiff.rows_per_strip
        places = [(y, 0, min(step, tiff.height - y), tiff.width) for y in range(0, tiff.height, step)]
    else:
        tw, th = tiff.tile
        places = [(y, x, th, tw) for y in range(0, tiff.height, th) for x in range(0, tiff.width, tw)]
    if len(tiff.offsets) != planes * len(places) or len(tiff.byte_counts) != len(tiff.offsets):
        raise ImageLoadError(
            path,
            f"corrupt TIFF ({len(tiff.offsets)} data chunks, {planes * len(places)} expected)",
            damaged=True,
        )
    for plane in range(planes):
        for y, x, rows, cols in places:
            yield y, x, plane, rows, cols


def _read_chunk(
    path: Path, source: BinaryIO, tiff: FloatTiff, index: int, need: int, file_size: int
) -> bytes:
    """One strip's or tile's bytes, decompressed to at most ``need`` bytes (a Deflate stream that
    inflates without end is cut there; a byte count past the end of the file is not allocated)."""
    offset, count = tiff.offsets[index], tiff.byte_counts[index]
    if offset + count > file_size:
        raise ImageLoadError(path, "truncated TIFF", damaged=True)
    try:
        source.seek(offset)
        data = source.read(count)
    except OSError as exc:
        raise ImageLoadError(path, f"cannot read ({exc.strerror or exc})") from None
    if len(data) < count:
        raise ImageLoadError(path, "truncated TIFF", damaged=True)
    if tiff.compression == 1:
        return data
    try:
        return zlib.decompressobj().decompress(data, need)
    except zlib.error as exc:
        raise ImageLoadError(path, f"corrupt TIFF (Deflate data: {exc})", damaged=True) from None


def _unpredict(raw: bytes, rows: int, width: int, tiff: FloatTiff, bits: int) -> np.ndarray:
    """(rows, width) float32 samples from one chunk's bytes, undoing libtiff's predictor: 2 adds up
    integer differences of neighbouring pixels' samples; 3 adds up byte differences, then regroups
    the byte planes (most significant first, whatever the file's byte order) into floats."""
    import numpy as np

    size = bits // 8
    stride = tiff.samples if tiff.planar == 1 else 1
    predictor = tiff.predictor if tiff.compression != 1 else 1  # libtiff predicts compressed data only
    if predictor == 3:
        planes = np.frombuffer(raw, dtype=np.uint8).reshape(rows, -1, stride).cumsum(axis=1, dtype=np.uint8)
        msb_first = planes.reshape(rows, size, width).transpose(0, 2, 1)
        return np.ascontiguousarray(msb_first).view(f">f{size}").reshape(rows, width).astype(np.float32)
    if predictor == 2:
        ints = np.frombuffer(raw, dtype=f"{tiff.byte_order}u{size}").reshape(rows, -1, stride)
        summed = ints.cumsum(axis=1, dtype=f"=u{size}")  # wraps around, as the differences did
        return summed.view(f"=f{size}").reshape(rows, width).astype(np.float32)
    return np.frombuffer(raw, dtype=f"{tiff.byte_order}f{size}").reshape(rows, width).astype(np.float32)


def _to_image(data: np.ndarray, tiff: FloatTiff) -> Image.Image:
    import numpy as np

    colour = tiff.samples - len(tiff.extra_samples)
    kind = tiff.extra_samples[0] if tiff.extra_samples else 0
    channels = 1 if colour < 3 else 3
    pixels = data[..., :channels]
    if kind not in (_ASSOCIATED_ALPHA, _UNASSOCIATED_ALPHA):
        levels = float_levels(pixels)
        return Image.fromarray(levels[..., 0] if channels == 1 else levels)  # L or RGB
    alpha = np.clip(np.nan_to_num(data[..., colour], nan=0.0), 0.0, 1.0)
    if kind == _ASSOCIATED_ALPHA:  # premultiplied: back to plain colours before compositing on white
        pixels = np.divide(pixels, alpha[..., None], out=np.zeros_like(pixels), where=alpha[..., None] > 0)
    stacked = np.concatenate(
        [float_levels(pixels), np.rint(alpha * 255.0).astype(np.uint8)[..., None]], axis=-1
    )
    return Image.fromarray(stacked)  # LA or RGBA
