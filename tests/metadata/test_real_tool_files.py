"""Files as other tools leave them, judged by exiftool -validate: our write adds no new warning."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from autotagger.metadata import read_metadata, undo_metadata, write_metadata
from tests.metadata.conftest import EXIFTOOL, RECORD, exiftool_json, exiftool_set, make_image, needs_exiftool

pytestmark = needs_exiftool


def _warnings(path: Path) -> set[str]:
    assert EXIFTOOL is not None
    out = subprocess.run([EXIFTOOL, "-validate", "-warning", "-a", "-s3", str(path)], capture_output=True, text=True)
    return set(out.stdout.splitlines()[1:])


@pytest.mark.parametrize("iptc_before", [True, False], ids=["exiftool-iptc", "no-iptc"])
def test_tiff_iptc_is_stored_as_longs_like_photoshop_and_exiftool(tmp_path: Path, iptc_before: bool) -> None:
    """TIFF keeps IPTC-NAA (33723) as LONGs padded to 4 bytes (Photoshop, exiftool; libtiff knows
    it so): stored as UNDEFINED, exiftool -validate warned "Non-standard format (undef)" after our
    write and after undo."""
    path = make_image(tmp_path, "tiff", foreign_xmp=False)
    if iptc_before:
        exiftool_set(path, "-IPTC:Keywords=theirs")
    before = _warnings(path)

    write_metadata(path, RECORD)
    assert _warnings(path) == before
    keywords = ["theirs"] if iptc_before else []
    assert list(read_metadata(path).iptc_keywords) == [*keywords, "outdoors", "schön", "東京"]
    write_metadata(path, RECORD)  # a re-run finds its own padded IPTC and changes nothing
    assert _warnings(path) == before

    undo_metadata(path)
    assert _warnings(path) == before
    assert exiftool_json(path).get("IPTC:Keywords") == ("theirs" if iptc_before else None)
