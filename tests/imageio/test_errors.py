"""Every bad input is an ImageLoadError with a one-line reason; nothing else escapes."""

from __future__ import annotations

import io
import os
import pickle
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from autotagger.imageio import ImageLoadError, load_image, make_thumbnail, probe
from tests.imageio.helpers import quadrants, write_png_raw


def _error(path: Path, **kwargs: int) -> ImageLoadError:
    with pytest.raises(ImageLoadError) as info:
        load_image(path, **kwargs)
    exc = info.value
    assert exc.path == str(path)
    assert str(exc) == f"{path}: {exc.reason}"
    assert "\n" not in str(exc) and exc.reason
    return exc


def _noise_bytes(fmt: str, **options: object) -> bytes:
    rng = np.random.default_rng(1)
    buffer = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, (300, 400, 3), dtype=np.uint8)).save(buffer, fmt, **options)
    return buffer.getvalue()


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.jpg"
    path.touch()
    assert _error(path).reason == "empty file"


def test_missing_file(tmp_path: Path) -> None:
    assert _error(tmp_path / "gone.jpg").reason == "no such file"


def test_directory(tmp_path: Path) -> None:
    folder = tmp_path / "folder.jpg"
    folder.mkdir()
    assert "directory" in _error(folder).reason


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads everything")
def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "secret.jpg"
    quadrants().save(path)
    path.chmod(0)
    try:
        assert _error(path).reason == "permission denied"
    finally:
        path.chmod(0o644)


@pytest.mark.parametrize("keep", [0.5, 0.9])
def test_truncated_jpeg(tmp_path: Path, keep: float) -> None:
    data = _noise_bytes("JPEG", quality=90)
    path = tmp_path / "cut.jpg"
    path.write_bytes(data[: int(len(data) * keep)])
    assert _error(path).reason == "truncated JPEG"
    # draft decoding reads the whole entropy-coded stream too: still refused at min_size 0 and 224
    assert _error(path, min_size=0).reason == "truncated JPEG"


def test_truncated_progressive_jpeg(tmp_path: Path) -> None:
    data = _noise_bytes("JPEG", quality=90, progressive=True)
    path = tmp_path / "prog.jpg"
    path.write_bytes(data[: len(data) // 2])
    assert "truncated" in _error(path).reason


def test_truncated_png(tmp_path: Path) -> None:
    data = _noise_bytes("PNG")
    path = tmp_path / "cut.png"
    path.write_bytes(data[: len(data) // 2])
    assert _error(path).reason == "truncated PNG"


def test_png_with_bad_crc(tmp_path: Path) -> None:
    data = bytearray(_noise_bytes("PNG"))
    data[len(data) // 2] ^= 0xFF  # damage inside IDAT
    path = tmp_path / "bad.png"
    path.write_bytes(bytes(data))
    assert _error(path).reason.startswith("corrupt PNG (")


def test_random_bytes_named_jpg(tmp_path: Path) -> None:
    path = tmp_path / "noise.jpg"
    path.write_bytes(np.random.default_rng(2).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    assert _error(path).reason.startswith("not an image")


def test_jpeg_header_then_garbage(tmp_path: Path) -> None:
    path = tmp_path / "garbage.jpg"
    path.write_bytes(b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8)
    assert _error(path).reason == "corrupt JPEG (unreadable header)"


def test_text_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.png"
    path.write_text("these are not pixels\n" * 20)
    assert _error(path).reason.startswith("not an image")


def test_formats_we_do_not_decode_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "icon.png"  # an ICO file with an image name: Pillow could, we do not
    Image.new("RGB", (32, 32), (1, 2, 3)).save(path, "ICO")
    assert _error(path).reason.startswith("not an image")


def test_decompression_bomb_png_header(tmp_path: Path) -> None:
    # a 100000 x 100000 header over a tiny, valid IDAT
    path = write_png_raw(tmp_path / "bomb.png", 100_000, 100_000, 8, 0, b"\x00" * 10)
    reason = _error(path).reason
    assert reason.startswith("decompression bomb") and "10000000000" in reason
    with pytest.raises(ImageLoadError, match="decompression bomb"):
        probe(path)


def test_bomb_limit_is_ours_not_global(tmp_path: Path) -> None:
    before = Image.MAX_IMAGE_PIXELS
    path = tmp_path / "ok.png"
    quadrants(200, 100).save(path)
    assert (
        _error(path, max_pixels=19_999).reason == "decompression bomb (200x100 = 20000 pixels, limit 19999)"
    )
    assert load_image(path, max_pixels=20_000).size == (200, 100)
    assert before == Image.MAX_IMAGE_PIXELS


def test_bomb_jpeg_refused_before_decoding(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from PIL import ImageFile

    path = tmp_path / "big.jpg"
    quadrants(800, 600).save(path)

    def no_decoding(self: object) -> None:
        raise AssertionError("pixels decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    assert _error(path, max_pixels=100_000).reason.startswith("decompression bomb (800x600")


def test_zlib_bomb_text_chunk(tmp_path: Path) -> None:
    # a zTXt chunk that inflates to 64 MB: Pillow's own text limit must surface as our error
    body = b"Comment\x00\x00" + zlib.compress(b"A" * (64 * 1024 * 1024), 9)
    chunk = struct.pack(">I", len(body)) + b"zTXt" + body + struct.pack(">I", zlib.crc32(b"zTXt" + body))
    good = io.BytesIO()
    quadrants().save(good, "PNG")
    data = good.getvalue()
    at = data.index(b"IDAT") - 4
    path = tmp_path / "ztxt.png"
    path.write_bytes(data[:at] + chunk + data[at:])
    assert _error(path).reason == "decompression bomb (oversized compressed metadata in PNG)"


def test_thumbnail_and_probe_share_the_errors(tmp_path: Path) -> None:
    path = tmp_path / "empty.png"
    path.touch()
    for call in (lambda: make_thumbnail(path, 64), lambda: probe(path)):
        with pytest.raises(ImageLoadError, match="empty file"):
            call()


def test_error_pickles_for_process_pools() -> None:
    exc = ImageLoadError("/photos/a.jpg", "truncated   JPEG\n")
    copy = pickle.loads(pickle.dumps(exc))
    assert isinstance(copy, ImageLoadError)
    assert (copy.path, copy.reason, str(copy)) == (
        "/photos/a.jpg",
        "truncated JPEG",
        "/photos/a.jpg: truncated JPEG",
    )
    assert not copy.damaged
    assert pickle.loads(pickle.dumps(ImageLoadError("/p.jpg", "corrupt", damaged=True))).damaged


def test_bad_bytes_are_damage_and_reading_trouble_is_not(tmp_path: Path) -> None:
    """``damaged``: reading the same bytes again gives the same error (the service stops retrying)."""
    truncated = tmp_path / "cut.jpg"
    truncated.write_bytes(_noise_bytes("JPEG")[:2000])
    garbage = tmp_path / "notes.jpg"
    garbage.write_bytes(b"these are my notes, not a photo" * 20)
    empty = tmp_path / "empty.png"
    empty.touch()
    for path in (truncated, garbage, empty):
        assert _error(path).damaged, path
    assert not _error(tmp_path / "gone.jpg").damaged  # missing: nothing about its bytes
    folder = tmp_path / "folder.jpg"
    folder.mkdir()
    assert not _error(folder).damaged


def test_a_batch_goes_on_after_bad_files(tmp_path: Path) -> None:
    good = tmp_path / "good.jpg"
    quadrants().save(good)
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"nope")
    results: list[str] = []
    for path in (bad, good, tmp_path / "missing.png", good):
        try:
            results.append(str(load_image(path).size))
        except ImageLoadError as exc:
            results.append(exc.reason)
    assert results == [
        "not an image (unrecognised or unsupported format)",
        "(64, 32)",
        "no such file",
        "(64, 32)",
    ]
