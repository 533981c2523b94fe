"""Builders for test images: an upright reference picture, its stored form for each EXIF
orientation (derived from the EXIF definition with numpy, independently of the code under test),
and small hand-made files."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

RED, GREEN, BLUE, WHITE = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)


def quadrants(width: int = 64, height: int = 32) -> Image.Image:
    """Upright reference: red top-left, green top-right, blue bottom-left, white bottom-right."""
    im = Image.new("RGB", (width, height))
    w2, h2 = width // 2, height // 2
    im.paste(RED, (0, 0, w2, h2))
    im.paste(GREEN, (w2, 0, width, h2))
    im.paste(BLUE, (0, h2, w2, height))
    im.paste(WHITE, (w2, h2, width, height))
    return im


def stored_for(upright: Image.Image, orientation: int) -> Image.Image:
    """The stored pixels that a viewer shows as ``upright`` when EXIF says ``orientation``.

    EXIF: 1 row0=top col0=left, 2 top/right, 3 bottom/right, 4 bottom/left,
    5 left/top, 6 right/top, 7 right/bottom, 8 left/bottom (where stored row 0 / column 0 go).
    """
    u = np.asarray(upright)
    stored = {
        1: u,
        2: u[:, ::-1],
        3: u[::-1, ::-1],
        4: u[::-1, :],
        5: u.transpose(1, 0, 2),
        6: u[:, ::-1].transpose(1, 0, 2),
        7: u[::-1, ::-1].transpose(1, 0, 2),
        8: u[::-1, :].transpose(1, 0, 2),
    }[orientation]
    return Image.fromarray(np.ascontiguousarray(stored))


def exif_bytes(
    orientation: int | None = None,
    *,
    make: str | None = None,
    model: str | None = None,
    captured_at: str | None = None,
) -> bytes:
    exif = Image.Exif()
    if orientation is not None:
        exif[0x0112] = orientation
    if make is not None:
        exif[0x010F] = make
    if model is not None:
        exif[0x0110] = model
    if captured_at is not None:
        exif.get_ifd(0x8769)[0x9003] = captured_at
    return exif.tobytes()


def quadrant_colours(im: Image.Image) -> tuple[tuple[int, ...], ...]:
    """The colours at the centres of the four quadrants: TL, TR, BL, BR."""
    w, h = im.size
    points = ((w // 4, h // 4), (3 * w // 4, h // 4), (w // 4, 3 * h // 4), (3 * w // 4, 3 * h // 4))
    return tuple(tuple(im.getpixel(p)) for p in points)  # type: ignore[arg-type]


def close(actual: tuple[int, ...], expected: tuple[int, ...], tol: int = 40) -> bool:
    return len(actual) == len(expected) and all(
        abs(a - e) <= tol for a, e in zip(actual, expected, strict=True)
    )


def assert_quadrants(im: Image.Image, tol: int = 40) -> None:
    got = quadrant_colours(im)
    assert all(close(g, e, tol) for g, e in zip(got, (RED, GREEN, BLUE, WHITE), strict=True)), got


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def write_png_raw(path: Path, width: int, height: int, depth: int, colour: int, rows: bytes) -> Path:
    """A PNG from raw scanlines (filter bytes included): for headers Pillow would not write."""
    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", ihdr)
        + _chunk(b"IDAT", zlib.compress(rows))
        + _chunk(b"IEND", b"")
    )
    return path


def write_rgb48_png(path: Path, rgb16: np.ndarray) -> Path:
    height, width, _ = rgb16.shape
    rows = b"".join(b"\x00" + rgb16[y].astype(">u2").tobytes() for y in range(height))
    return write_png_raw(path, width, height, 16, 2, rows)
