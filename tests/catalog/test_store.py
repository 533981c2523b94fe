from __future__ import annotations

from pathlib import Path

import pytest

from autotagger.catalog import Catalog, CatalogError, FileInfo
from autotagger.catalog.schema import LATEST
from tests.catalog.helpers import result


@pytest.fixture
def cat(tmp_path: Path) -> Catalog:
    c = Catalog(tmp_path / "lib" / "catalog.sqlite3")
    yield c
    c.close()


def test_new_catalogue_is_wal_with_foreign_keys(cat: Catalog) -> None:
    assert cat._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert cat._conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert cat._conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000
    assert cat.schema_version == LATEST
    assert cat.backup_path is None  # nothing to back up in a new file


def test_record_and_get(cat: Catalog) -> None:
    image_id = cat.record_result(
        result("/p/a/IMG_1.jpg"), size=10, mtime=1.5, content_hash="h1", width=60, height=40,
        captured_at="2024:05:01 10:00:00", camera="Canon EOS R5",
    )
    rec = cat.get_image("/p/a/IMG_1.jpg")
    assert rec is not None and rec.id == image_id and cat.get_image(image_id) == rec
    assert (rec.folder, rec.name, rec.status, rec.caption, rec.caption_source) == (
        "/p/a", "IMG_1.jpg", "tagged", "a dog on the beach", "model"
    )
    assert rec.captured_at == "2024-05-01T10:00:00"  # EXIF date normalised to ISO
    assert rec.tag_paths == ("animal|dog", "setting|outdoors")
    assert {t.source for t in rec.tags} == {"model"}
    assert rec.tags[0].confidence == pytest.approx(0.75) and rec.tags[0].question_id == "animal"
    assert rec.answers[0].answer == "outdoors" and rec.answers[0].prompt.startswith("Question:")
    assert rec.model_id == "test/model" and rec.tagged_at
    assert cat.find_by_hash("h1")[0].path == "/p/a/IMG_1.jpg"
    assert cat.get_image("/nope") is None


def test_upsert_file_marks_new_and_changed_pending(cat: Catalog) -> None:
    i = cat.upsert_file("/p/x.jpg", size=1, mtime=1.0)
    assert cat.get_image(i).status == "pending"
    cat.record_result(result("/p/x.jpg"))
    assert cat.upsert_file("/p/x.jpg", size=1, mtime=1.0) == i  # unchanged size and mtime: still tagged
    assert cat.get_image(i).status == "tagged"
    cat.upsert_file("/p/x.jpg", size=2, mtime=2.0)
    rec = cat.get_image(i)
    assert rec.status == "pending" and rec.caption == "a dog on the beach"  # data kept until re-tag


def test_a_failure_with_a_try_left_is_not_failed_yet(cat: Catalog) -> None:
    cat.record_result(result("/p/tagged.jpg"))
    cat.record_failure("/p/tagged.jpg", "file locked", final=False)  # tagged before: its result stands
    rec = cat.get_image("/p/tagged.jpg")
    assert (rec.status, rec.error) == ("tagged", "file locked") and rec.caption
    cat.record_failure("/p/new.jpg", "truncated JPEG", final=False)  # never tagged: pending
    assert (cat.get_image("/p/new.jpg").status, cat.get_image("/p/new.jpg").error) == ("pending", "truncated JPEG")
    cat.record_failure("/p/new.jpg", "truncated JPEG")  # no try left
    cat.record_failure("/p/tagged.jpg", "file locked")
    assert cat.get_image("/p/new.jpg").status == cat.get_image("/p/tagged.jpg").status == "failed"


def test_failure_and_error_result(cat: Catalog) -> None:
    cat.record_result(result("/p/ok.jpg"))
    cat.record_failure("/p/ok.jpg", "cannot decode: truncated")
    rec = cat.get_image("/p/ok.jpg")
    assert rec.status == "failed" and rec.error == "cannot decode: truncated" and rec.caption
    cat.record_result(result("/p/bad.jpg", error="out of memory"))
    assert cat.get_image("/p/bad.jpg").status == "failed"
    st = cat.status()
    assert (st.images, st.tagged, st.failed) == (2, 0, 2)
    assert dict(st.last_errors)["/p/bad.jpg"] == "out of memory"
    cat.record_result(result("/p/ok.jpg"))
    rec = cat.get_image("/p/ok.jpg")
    assert rec.status == "tagged" and rec.error is None


def test_person_edits_win_over_retag(cat: Catalog) -> None:
    path = "/p/edit.jpg"
    cat.record_result(result(path, caption="a dog", tags=("setting|outdoors", "animal|dog", "people|none")))
    cat.set_caption(path, "Rex at Brighton beach")
    cat.remove_tags(path, ["people|none"])
    cat.add_tags(path, ["place|brighton", "trip | 2024 "])
    cat.remove_tags(path, ["trip|2024"])  # a person can remove their own tag too
    rec = cat.get_image(path)
    assert rec.caption == "Rex at Brighton beach" and rec.caption_source == "person"
    assert rec.tag_paths == ("animal|dog", "place|brighton", "setting|outdoors")
    # the model re-tags, bringing back people|none and proposing a different caption and tags
    cat.record_result(
        result(path, caption="a brown dog", tags=("setting|outdoors", "people|none", "place|brighton", "weather|sunny"))
    )
    rec = cat.get_image(path)
    assert rec.caption == "Rex at Brighton beach" and rec.caption_source == "person"
    assert rec.tag_paths == ("place|brighton", "setting|outdoors", "weather|sunny")
    assert {t.path: t.source for t in rec.tags}["place|brighton"] == "person"
    assert cat.search("brighton")[0].path == path
    assert cat.search("tag:none") == []
    assert cat.search("brown") == []  # the model's caption is not the effective one
    # a person adding a tag back lifts the removal
    cat.add_tags(path, ["people|none"])
    assert "people|none" in cat.get_image(path).tag_paths


def test_bulk_record_and_same_path_twice_in_a_batch(cat: Catalog) -> None:
    items = [(result(f"/b/{i}.jpg", caption=f"photo number {i}"), FileInfo(size=i)) for i in range(50)]
    items.append((result("/b/3.jpg", caption="replaced", tags=("x|y",)), FileInfo()))
    assert cat.bulk_record(items, batch_size=7) == 51
    assert cat.get_image("/b/3.jpg").tag_paths == ("x|y",)
    assert cat.get_image("/b/3.jpg").size == 3
    assert cat.status().tagged == 50
    assert cat.integrity_check() == []


def test_move_remove_iter_and_folders(cat: Catalog) -> None:
    cat.record_result(result("/p/a/1.jpg"))
    cat.record_result(result("/p/a/sub/2.jpg"))
    cat.record_result(result("/p/ab/3.jpg"))
    cat.set_caption("/p/a/1.jpg", "mine")
    cat.move_image("/p/a/1.jpg", "/q/renamed.jpg")
    moved = cat.get_image("/q/renamed.jpg")
    assert moved.caption == "mine" and moved.folder == "/q" and cat.get_image("/p/a/1.jpg") is None
    assert cat.search("renamed")[0].path == "/q/renamed.jpg"
    with pytest.raises(CatalogError, match="no image"):
        cat.move_image("/nope.jpg", "/x.jpg")
    assert [r.path for r in cat.iter_images("/p/a")] == ["/p/a/sub/2.jpg"]  # not /p/ab
    assert len(list(cat.iter_images(page=1))) == 3
    cat.remove_image("/p/ab/3.jpg")
    assert cat.status().images == 2 and cat.search("tag:dog", limit=10)[0].path
    cat.add_folder("/p", recursive=False)
    cat.add_folder("/p")
    assert [(f.path, f.recursive) for f in cat.list_folders()] == [("/p", True)]
    cat.remove_folder("/p")
    assert cat.list_folders() == []


def test_tag_counts_and_status_models(cat: Catalog) -> None:
    cat.record_result(result("/1.jpg", tags=("a|b", "c")))
    cat.record_result(result("/2.jpg", tags=("a|b",), model_id="other/model"))
    cat.remove_tags("/1.jpg", ["c"])
    assert cat.tag_counts() == [("a|b", 2)]
    st = cat.status()
    assert set(st.model_ids) == {"test/model", "other/model"}


def test_readonly_refuses_missing_and_writes(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="no catalogue"):
        Catalog(tmp_path / "missing.sqlite3", readonly=True)
    assert not (tmp_path / "missing.sqlite3").exists()
    Catalog(tmp_path / "c.sqlite3").close()
    with Catalog(tmp_path / "c.sqlite3", readonly=True) as ro, pytest.raises(CatalogError, match="read-only"):
        ro.add_folder("/x")


def test_not_a_database(tmp_path: Path) -> None:
    bad = tmp_path / "c.sqlite3"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(CatalogError, match="cannot open catalogue"):
        Catalog(bad)
    assert bad.read_bytes() == b"this is not sqlite" * 100  # untouched


def test_bad_tags_rejected(cat: Catalog) -> None:
    cat.record_result(result("/1.jpg"))
    with pytest.raises(CatalogError):
        cat.add_tags("/1.jpg", [" | "])
    with pytest.raises(CatalogError):
        cat.add_tags("/1.jpg", "abc")  # type: ignore[arg-type]
    with pytest.raises(CatalogError, match="no image"):
        cat.set_caption("/none.jpg", "x")


def test_fts_index_matches_a_rebuild_after_every_kind_of_write(cat: Catalog) -> None:
    cat.upsert_file("/f/pending_zebra.jpg", size=1, mtime=1.0)
    cat.record_failure("/f/broken_yak.jpg", "bad")
    cat.bulk_record(
        [result("/f/a.jpg", caption="alpha lake"), result("/f/b.jpg", caption="beta hill"),
         result("/f/a.jpg", caption="alpha again"), result("/f/c.jpg", error="boom"),
         result("/f/pending_zebra.jpg", caption="zebra crossing")],
        batch_size=3,
    )
    cat.set_caption("/f/b.jpg", "gamma valley")
    cat.add_tags("/f/b.jpg", ["trip|norway"])
    cat.remove_tags("/f/a.jpg", ["animal|dog"])
    cat.move_image("/f/b.jpg", "/g/moved_b.jpg")
    cat.remove_image("/f/c.jpg")
    queries = ["zebra", "yak", "alpha", "lake", "again", "beta", "gamma", "norway", "moved", "dog", "f", "g", "jpg"]
    before = {q: sorted(h.path for h in cat.search(q)) for q in queries}
    assert before["zebra"] == ["/f/pending_zebra.jpg"] and before["lake"] == [] and before["beta"] == []
    assert before["dog"] == ["/f/pending_zebra.jpg", "/g/moved_b.jpg"]
    assert cat.integrity_check() == []
    cat._conn.execute("INSERT INTO images_fts (images_fts) VALUES ('rebuild')")
    assert {q: sorted(h.path for h in cat.search(q)) for q in queries} == before


def test_tag_counts_stay_exact_through_every_kind_of_write(cat: Catalog) -> None:
    def truth() -> list[tuple[str, int]]:
        rows = cat._conn.execute(
            "SELECT n.path, count(*) FROM image_tags t JOIN tag_names n ON n.id = t.tag_id GROUP BY t.tag_id"
        ).fetchall()
        return sorted(rows, key=lambda r: (-r[1], r[0]))

    cat.bulk_record([result(f"/t/{i}.jpg", tags=("a|b", f"n|{i % 3}")) for i in range(10)], batch_size=4)
    cat.bulk_record([result("/t/1.jpg", tags=("a|b", "c")), result("/t/1.jpg", tags=("c", "d"))])
    cat.record_result(result("/t/2.jpg", tags=("c",)))
    cat.record_result(result("/t/new.jpg", tags=("c", "a|b")))
    cat.add_tags("/t/3.jpg", ["c", "a|b", "p|q"])
    cat.remove_tags("/t/4.jpg", ["a|b", "zz"])
    cat.move_image("/t/5.jpg", "/t/6.jpg")  # replaces /t/6.jpg
    cat.remove_image("/t/7.jpg")
    cat.record_failure("/t/8.jpg", "bad")
    assert cat.tag_counts() == truth()
    assert dict(cat.tag_counts())["a|b"] == 6  # 10, -1 (1), +1 (new), -1 (4), -1 (6), -1 (7), -1 (2)
