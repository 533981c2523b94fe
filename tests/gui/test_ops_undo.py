"""The window's "Remove our tags": the file and the catalogue both lose the model's tags, and the next
edit writes only what is left."""

from __future__ import annotations

from pathlib import Path

from autotagger.catalog import Catalog
from autotagger.config import Settings
from autotagger.gui import ops
from autotagger.metadata import read_metadata, write_metadata
from tests.catalog.helpers import result
from tests.metadata.conftest import RECORD, make_image


def test_remove_our_tags_then_an_edit_does_not_bring_them_back(tmp_path: Path) -> None:
    photo = make_image(tmp_path, "jpeg")
    write_metadata(photo, RECORD)
    with Catalog(tmp_path / "catalog.sqlite3") as cat:
        image_id = cat.record_result(result(str(photo)), size=1, mtime=1.0, content_hash="h")
        assert ops.undo(cat, [str(photo)]) == []
        assert cat.search("tag:animal") == []
        ops.add_tags(cat, image_id, ["people|me"], Settings(write="embed"))
    back = read_metadata(photo)
    assert "me" in back.subjects and "dog" not in back.subjects and "outdoors" not in back.subjects
    assert back.caption != RECORD.caption
