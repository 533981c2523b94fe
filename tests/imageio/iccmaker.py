"""A tiny ICC v2 writer for test (and benchmark) files: matrix/TRC RGB display profiles with any
primaries, white point and gamma, since Pillow can only create sRGB, LAB and XYZ profiles."""

from __future__ import annotations

import struct

import numpy as np

XY = tuple[float, float]

D50_XYZ = (0.9642, 1.0, 0.8249)
D65: XY = (0.3127, 0.3290)
D50: XY = (0.3457, 0.3585)
#: Adobe RGB (1998): wider greens than sRGB, gamma 563/256.
ADOBE_RGB: tuple[XY, XY, XY] = ((0.64, 0.33), (0.21, 0.71), (0.15, 0.06))
#: ProPhoto (ROMM) RGB: far wider than sRGB, D50 white, gamma 1.8.
PROPHOTO_RGB: tuple[XY, XY, XY] = ((0.7347, 0.2653), (0.1596, 0.8404), (0.0366, 0.0001))

_BRADFORD = np.array([[0.8951, 0.2664, -0.1614], [-0.7502, 1.7135, 0.0367], [0.0389, -0.0685, 1.0296]])


def _xyz(xy: XY) -> np.ndarray:
    x, y = xy
    return np.array([x / y, 1.0, (1.0 - x - y) / y])


def colorants(primaries: tuple[XY, XY, XY], white: XY) -> np.ndarray:
    """The RGB -> XYZ matrix (columns r, g, b), Bradford-adapted to the ICC's D50 PCS."""
    columns = np.stack([_xyz(p) for p in primaries], axis=1)
    scale = np.linalg.solve(columns, _xyz(white))
    matrix = columns * scale
    cone_src, cone_dst = _BRADFORD @ _xyz(white), _BRADFORD @ np.array(D50_XYZ)
    adapt = np.linalg.inv(_BRADFORD) @ np.diag(cone_dst / cone_src) @ _BRADFORD
    result: np.ndarray = adapt @ matrix
    return result


def _s15(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


def _xyz_tag(xyz: tuple[float, float, float] | np.ndarray) -> bytes:
    return b"XYZ \0\0\0\0" + b"".join(_s15(float(v)) for v in xyz)


def _desc_tag(text: str) -> bytes:
    ascii_ = text.encode("ascii") + b"\0"
    return b"desc\0\0\0\0" + struct.pack(">I", len(ascii_)) + ascii_ + b"\0" * 8 + b"\0\0\0" + b"\0" * 67


def _curve_tag(gamma: float) -> bytes:
    return b"curv\0\0\0\0" + struct.pack(">IH", 1, round(gamma * 256)) + b"\0\0"


def rgb_profile(
    description: str,
    primaries: tuple[XY, XY, XY] = PROPHOTO_RGB,
    white: XY = D50,
    gamma: float = 1.8,
) -> bytes:
    """ICC v2.1 display-class RGB profile bytes (matrix/TRC)."""
    matrix = colorants(primaries, white)
    tags: list[tuple[bytes, bytes]] = [
        (b"desc", _desc_tag(description)),
        (b"cprt", b"text\0\0\0\0" + b"No copyright, test data\0"),
        (b"wtpt", _xyz_tag(D50_XYZ)),
        (b"rXYZ", _xyz_tag(matrix[:, 0])),
        (b"gXYZ", _xyz_tag(matrix[:, 1])),
        (b"bXYZ", _xyz_tag(matrix[:, 2])),
        (b"rTRC", _curve_tag(gamma)),
        (b"gTRC", _curve_tag(gamma)),
        (b"bTRC", _curve_tag(gamma)),
    ]
    table, data = b"", b""
    offset = 128 + 4 + 12 * len(tags)
    for signature, body in tags:
        body = body.ljust((len(body) + 3) // 4 * 4, b"\0")
        table += signature + struct.pack(">II", offset + len(data), len(body))
        data += body
    size = offset + len(data)
    header = (
        struct.pack(">I", size)
        + b"lcms"
        + struct.pack(">I", 0x02100000)
        + b"mntrRGB XYZ "
        + struct.pack(">6H", 2024, 1, 1, 0, 0, 0)
        + b"acsp"
        + b"\0" * 24  # platform, flags, manufacturer, model, attributes
        + struct.pack(">I", 0)  # rendering intent: perceptual
        + b"".join(_s15(v) for v in D50_XYZ)
        + b"test"  # creator
        + b"\0" * 44  # profile id, reserved
    )
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + table + data
