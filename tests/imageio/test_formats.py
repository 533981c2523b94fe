"""Extensions, and that importing the package has no side effects."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from autotagger.imageio import RAW_EXTENSIONS, SUPPORTED_EXTENSIONS, is_image_path


@pytest.mark.parametrize(
    "name",
    ["a.jpg", "B.JPEG", "c.jpe", "d.Png", "e.tif", "f.TIFF", "g.webp", "h.bmp", "i.gif", "j.HEIC",
     "k.heif", "l.hif", "m.NEF", "n.cr2", "o.CR3", "p.arw", "q.dng", "r.raf", "s.orf", "t.rw2"],
)  # fmt: skip
def test_image_names(name: str) -> None:
    assert is_image_path(name) and is_image_path(Path("/photos") / name)


@pytest.mark.parametrize(
    "name", ["a.txt", "b.xmp", "c.jpg.xmp", "d", ".jpg", "._IMG_0001.JPG", "e.mov", "f.pdf"]
)
def test_not_image_names(name: str) -> None:
    assert not is_image_path(name)


def test_extension_sets() -> None:
    assert RAW_EXTENSIONS < SUPPORTED_EXTENSIONS
    assert all(ext.startswith(".") and ext == ext.lower() for ext in SUPPORTED_EXTENSIONS)
    assert {".jpg", ".png", ".heic", ".nef", ".cr3", ".dng"} <= SUPPORTED_EXTENSIONS


def test_import_is_cheap_and_side_effect_free() -> None:
    code = (
        "import sys; import autotagger.imageio; from PIL import Image; "
        "print(sorted(m for m in ('torch', 'pillow_heif', 'rawpy', 'numpy', 'PySide6') if m in sys.modules), "
        "'HEIF' in Image.OPEN)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[] False"
