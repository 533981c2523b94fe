"""The last check before a photo or a sidecar is replaced: the XMP we made must parse, as another
reader parses it, into what we meant. A serializer slip must leave the file as it was."""

from __future__ import annotations

from pathlib import Path

import pytest

from autotagger.metadata import MetadataError, read_metadata, write_metadata
from autotagger.metadata.xmp import XmpDoc

from .conftest import RECORD


def _broken_serialize(monkeypatch: pytest.MonkeyPatch) -> None:
    """XmpDoc.serialize with a slip: a bare '&' in every list item (not well-formed XML)."""
    real = XmpDoc.serialize

    def serialize(self: XmpDoc, padding: int = 0) -> bytes:
        return real(self, padding).replace(b"<rdf:li>", b"<rdf:li>&")

    monkeypatch.setattr(XmpDoc, "serialize", serialize)


def _jpeg(tmp_path: Path) -> Path:
    from PIL import Image

    path = tmp_path / "photo.jpg"
    Image.new("RGB", (32, 24), (90, 120, 200)).save(path, quality=90)
    return path


def test_an_embedded_packet_that_does_not_parse_is_never_written(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    photo = _jpeg(tmp_path)
    before = photo.read_bytes()
    _broken_serialize(monkeypatch)
    with pytest.raises(MetadataError, match=r"cannot embed safely, file left unchanged: internal check failed"):
        write_metadata(photo, RECORD, mode="embed")
    assert photo.read_bytes() == before


def test_a_sidecar_that_does_not_parse_is_never_written_over_a_good_one(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    photo = tmp_path / "IMG_1.CR2"
    photo.write_bytes(b"not really a raw file")
    write_metadata(photo, RECORD, mode="sidecar")  # a good sidecar first
    sidecar = tmp_path / "IMG_1.CR2.xmp"
    good = sidecar.read_bytes()
    _broken_serialize(monkeypatch)
    with pytest.raises(MetadataError, match=r"IMG_1\.CR2\.xmp: internal check failed"):
        write_metadata(photo, RECORD, mode="sidecar")
    assert sidecar.read_bytes() == good
    monkeypatch.undo()
    assert read_metadata(photo).caption == RECORD.caption
