"""A person's edits and undo: after `undo` the catalogue forgets the model's caption and tags (a person's stay), so search, the tag
tree and a later edit do not bring back what left the file."""

from __future__ import annotations

from pathlib import Path

from autotagger.catalog import Catalog
from tests.catalog.helpers import result


def test_forgetting_the_models_results_keeps_the_persons(tmp_path: Path) -> None:
    with Catalog(tmp_path / "catalog.sqlite3") as cat:
        cat.record_result(result("/p/a.jpg"), size=10, mtime=1.0, content_hash="h1")
        cat.record_result(result("/p/b.jpg"), size=10, mtime=1.0, content_hash="h2")
        cat.add_tags("/p/a.jpg", ["people|grandma"])
        before = dict(cat.tag_counts())
        assert cat.forget_model_results("/p/a.jpg")
        rec = cat.get_image("/p/a.jpg")
        assert rec is not None and rec.status == "tagged"  # done: not queued again by itself
        assert rec.tag_paths == ("people|grandma",) and rec.caption == "" and rec.caption_source == ""
        assert rec.model_id == "" and rec.answers == () and rec.question_set_version == ""
        assert [h.path for h in cat.search("tag:animal")] == ["/p/b.jpg"]
        assert [h.path for h in cat.search("beach")] == ["/p/b.jpg"]
        after = dict(cat.tag_counts())
        assert after["animal|dog"] == before["animal|dog"] - 1 and after["people|grandma"] == 1
        assert not cat.forget_model_results("/p/never-seen.jpg")


def test_a_persons_caption_survives(tmp_path: Path) -> None:
    with Catalog(tmp_path / "catalog.sqlite3") as cat:
        cat.record_result(result("/p/a.jpg"), size=10, mtime=1.0, content_hash="h1")
        cat.set_caption("/p/a.jpg", "Grandma at the sea")
        cat.forget_model_results("/p/a.jpg")
        rec = cat.get_image("/p/a.jpg")
        assert rec is not None and (rec.caption, rec.caption_source) == ("Grandma at the sea", "person")
        assert rec.tag_paths == ()


def test_a_tag_with_a_line_break_is_refused(tmp_path: Path) -> None:
    import pytest

    from autotagger.catalog import CatalogError

    with Catalog(tmp_path / "catalog.sqlite3") as cat:
        cat.record_result(result("/p/a.jpg"), size=10, mtime=1.0, content_hash="h1")
        with pytest.raises(CatalogError, match="line breaks"):
            cat.add_tags("/p/a.jpg", ["family\ngrandma"])
        cat.add_tags("/p/a.jpg", ["famille|grand-mère"])  # any letters are fine


def test_a_persons_caption_is_kept_as_the_file_will_hold_it(tmp_path: Path) -> None:
    """What XML cannot hold (a bell, an escape) is left out, as the file writer leaves it out: the
    catalogue, its search and the file agree on what was saved. Line breaks and tabs stay."""
    with Catalog(tmp_path / "c.sqlite3") as cat:
        cat.record_result(result("/p/a.jpg"))
        cat.set_caption("/p/a.jpg", "  Grandma\x07's\tgarden\r\n\x1b[1msummer  ")
        assert cat.get_image("/p/a.jpg").caption == "Grandma's\tgarden\n[1msummer"
