"""Tombstones: a photo the catalogue forgets (gone from the watched folders) keeps its record by content
hash, so that it comes back with it, a person's edits and removed tags included; nothing that lists,
counts or searches images sees them, and they do not pile up."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from autotagger.catalog import Catalog, tombstones
from tests.catalog.helpers import result

HASH = "j0123456789abcdef"
CAPTION = "Grandma's garden, summer 1998"


def tagged_and_edited(cat: Catalog, path: str = "/photos/a.jpg", content_hash: str = HASH) -> None:
    """The model's result (caption, setting|outdoors, animal|dog), then a person's caption, a tag the
    person added and one they removed."""
    cat.record_result(result(path), size=1000, mtime=1.5, content_hash=content_hash, width=48, height=32,
                      captured_at="2024:06:01 10:00:00", camera="Canon EOS R5")
    cat.set_caption(path, CAPTION)
    cat.add_tags(path, ["family|grandma"])
    cat.remove_tags(path, ["animal|dog"])


def buried(cat: Catalog) -> int:
    return int(cat._conn.execute("SELECT count(*) FROM tombstones").fetchone()[0])


def test_a_forgotten_photo_is_seen_by_nothing_and_comes_back_whole(tmp_path: Path) -> None:
    with Catalog(tmp_path / "catalog.sqlite3") as cat:
        tagged_and_edited(cat)
        cat.record_result(result("/photos/b.jpg", caption="a cat", tags=("animal|cat",)), content_hash="jother")
        before = cat.get_image("/photos/a.jpg")
        cat.remove_image("/photos/a.jpg")
        # not an image: status, search, counts and tags do not see it
        assert cat.get_image("/photos/a.jpg") is None and cat.find_by_hash(HASH) == []
        assert cat.status().images == 1 and cat.count("") == 1
        assert cat.search("grandma garden") == [] and cat.count("tag:family") == 0
        assert dict(cat.tag_counts()) == {"animal|cat": 1}
        assert [r.path for r in cat.iter_images()] == ["/photos/b.jpg"]
        assert buried(cat) == 1

        back = cat.restore_forgotten(HASH, "/photos/2024/a.jpg", size=1200, mtime=9.5)
        assert back is not None
        rec, old = back
        assert old == "/photos/a.jpg"
        assert rec == cat.get_image("/photos/2024/a.jpg")
        assert (rec.caption, rec.caption_source, rec.status) == (CAPTION, "person", "tagged")
        assert {(t.path, t.source) for t in rec.tags} == {("family|grandma", "person"), ("setting|outdoors", "model")}
        assert cat.removed_tags(rec.path) == ("animal|dog",)
        same = ("tags", "answers", "model_id", "question_set_version", "tagged_at", "width", "height",
                "captured_at", "camera", "content_hash", "error")
        assert {k: getattr(rec, k) for k in same} == {k: getattr(before, k) for k in same}
        assert (rec.size, rec.mtime, rec.folder, rec.name) == (1200, 9.5, "/photos/2024", "a.jpg")
        # seen again everywhere, as before it went
        assert [h.path for h in cat.search("grandma garden")] == [rec.path]
        assert dict(cat.tag_counts()) == {"animal|cat": 1, "family|grandma": 1, "setting|outdoors": 1}
        assert cat.status().images == 2 and buried(cat) == 0
        assert cat.restore_forgotten(HASH, "/photos/c.jpg") is None  # used: gone
        # the model again: the person's caption stays, the removed tag stays removed
        cat.record_result(result(rec.path))
        again = cat.get_image(rec.path)
        assert again.caption == CAPTION and "animal|dog" not in again.tag_paths
        assert cat.integrity_check() == []


def test_what_is_not_kept(tmp_path: Path) -> None:
    with Catalog(tmp_path / "catalog.sqlite3") as cat:
        tagged_and_edited(cat, "/p/forgotten-for-good.jpg", "j1")
        cat.remove_image("/p/forgotten-for-good.jpg", remember=False)
        tagged_and_edited(cat, "/p/no-hash.jpg", content_hash=None)  # type: ignore[arg-type]
        cat.remove_image("/p/no-hash.jpg")
        cat.upsert_file("/p/never-tagged.jpg", size=10, mtime=1.0, content_hash="j3")
        cat.remove_image("/p/never-tagged.jpg")
        assert buried(cat) == 0
        # undo takes the model's result out of the catalogue: that is not a forgetting
        tagged_and_edited(cat, "/p/undone.jpg", "j4")
        cat.forget_model_results("/p/undone.jpg")
        assert buried(cat) == 0 and cat.get_image("/p/undone.jpg").caption == CAPTION
        assert all(cat.restore_forgotten(h, "/p/x.jpg") is None for h in ("j1", "j3", "j4"))


def test_a_person_edit_on_a_photo_never_tagged_is_kept(tmp_path: Path) -> None:
    with Catalog(tmp_path / "catalog.sqlite3") as cat:
        cat.upsert_file("/p/a.jpg", size=10, mtime=1.0, content_hash=HASH)
        cat.set_caption("/p/a.jpg", CAPTION)
        cat.remove_image("/p/a.jpg")
        back = cat.restore_forgotten(HASH, "/p/b.jpg", size=10, mtime=1.0)
        assert back is not None and back[0].status == "pending" and back[0].caption == CAPTION


def test_a_record_at_the_path_is_not_replaced(tmp_path: Path) -> None:
    with Catalog(tmp_path / "catalog.sqlite3") as cat:
        tagged_and_edited(cat)
        cat.remove_image("/photos/a.jpg")
        cat.record_result(result("/photos/b.jpg", caption="a cat"))
        assert cat.restore_forgotten(HASH, "/photos/b.jpg") is None
        assert cat.get_image("/photos/b.jpg").caption == "a cat" and buried(cat) == 1


def test_tombstones_go_after_90_days(tmp_path: Path) -> None:
    path = tmp_path / "catalog.sqlite3"
    with Catalog(path) as cat:
        for i in range(3):
            tagged_and_edited(cat, f"/p/{i}.jpg", f"j{i}")
            cat.remove_image(f"/p/{i}.jpg")
        days = tombstones.TOMBSTONE_DAYS * tombstones.DAY
        cat._conn.execute("UPDATE tombstones SET forgotten_at = forgotten_at - ? WHERE content_hash != 'j2'",
                          (days + 60,))
        assert cat.restore_forgotten("j0", "/p/back.jpg") is None  # too old to come back
        assert buried(cat) == 2
    with Catalog(path, readonly=True) as reader:  # a reader changes nothing
        assert buried(reader) == 2
    with Catalog(path) as cat:  # a writer's open drops what is past its time
        assert cat._conn.execute("SELECT content_hash FROM tombstones").fetchall() == [("j2",)]


def test_only_the_newest_are_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tombstones, "TOMBSTONE_CAP", 3)
    with Catalog(tmp_path / "catalog.sqlite3") as cat:
        for i in range(6):
            tagged_and_edited(cat, f"/p/{i}.jpg", f"j{i}")
            cat.remove_image(f"/p/{i}.jpg")
        kept = [r[0] for r in cat._conn.execute("SELECT content_hash FROM tombstones ORDER BY id")]
        assert kept == ["j3", "j4", "j5"]
        tagged_and_edited(cat, "/p/3-again.jpg", "j3")  # the same pixels forgotten again: the newest
        cat.remove_image("/p/3-again.jpg")
        kept = [r[0] for r in cat._conn.execute("SELECT content_hash FROM tombstones ORDER BY id")]
        assert kept == ["j4", "j5", "j3"]


def test_a_reader_cannot_restore(tmp_path: Path) -> None:
    path = tmp_path / "catalog.sqlite3"
    with Catalog(path) as cat:
        tagged_and_edited(cat)
        cat.remove_image("/photos/a.jpg")
    with Catalog(path, readonly=True) as reader, pytest.raises(Exception, match="read-only"):
        reader.restore_forgotten(HASH, "/photos/a.jpg")
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT count(*) FROM tombstones").fetchone()[0] == 1
    conn.close()
