"""Tags are one tag whatever their case, beyond ASCII: Église, église and ÉGLISE."""

from __future__ import annotations

import unicodedata
from pathlib import Path

from autotagger.catalog import Catalog
from tests.catalog.helpers import result


def tag_rows(cat: Catalog) -> list[tuple[str, int]]:
    return [(str(p), int(n)) for p, n in cat._conn.execute("SELECT path, n FROM tag_names ORDER BY id")]


def test_tag_queries_ignore_case_beyond_ascii(tmp_path: Path) -> None:
    with Catalog(tmp_path / "c.sqlite3") as cat:
        cat.record_result(result("/p/church.jpg", tags=("place|Église", "place|Straße")))
        cat.record_result(result("/p/lake.jpg", tags=("place|Ålesund",)))
        for query in ("tag:église", "tag:ÉGLISE", "tag:place|église", "tag:PLACE|ÉGLISE", "tag:Église",
                      "tag:" + unicodedata.normalize("NFD", "église"),  # typed decomposed (macOS)
                      "tag:strasse", "tag:STRASSE"):  # casefold: ß is ss
            assert [h.path for h in cat.search(query)] == ["/p/church.jpg"], query
            assert cat.count(query) == 1, query
        assert cat.count("tag:ålesund") == 1 and cat.count("tag:place|ÅLESUND") == 1
        assert cat.count("-tag:église") == 1 and cat.count("tag:place") == 2
        assert cat.count("tag:églis") == 0  # still whole levels


def test_one_tag_whatever_the_case_first_spelling_kept(tmp_path: Path) -> None:
    """Each Catalog caches tag ids: a fresh one (another thread, the next run) must find the tag too."""
    path = tmp_path / "c.sqlite3"
    with Catalog(path) as cat:
        cat.record_result(result("/p/a.jpg", tags=("place|Église",)))
    with Catalog(path) as cat:
        cat.record_result(result("/p/b.jpg", tags=("place|église",)))
        cat.add_tags("/p/a.jpg", ["PLACE|ÉGLISE"])  # the model's tag becomes the person's, not a second one
    with Catalog(path) as cat:
        cat.record_result(result("/p/c.jpg", tags=("place|" + unicodedata.normalize("NFD", "ÉGLISE"),)))
        assert tag_rows(cat) == [("place|Église", 3)]
        assert cat.tag_counts() == [("place|Église", 3)]
        assert [(t.path, t.source) for t in cat.get_image("/p/a.jpg").tags] == [("place|Église", "person")]
        assert cat.get_image("/p/b.jpg").tag_paths == ("place|Église",)
        cat.remove_tags("/p/b.jpg", ["place|ÉGLISE"])
        cat.record_result(result("/p/b.jpg", tags=("place|église",)))  # removed: the model cannot bring it back
        assert cat.get_image("/p/b.jpg").tag_paths == ()
        assert cat.count("tag:église") == 2
