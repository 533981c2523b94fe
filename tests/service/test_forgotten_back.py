"""A photo moved out of the watched folders is forgotten; moved back, its record comes back with it (a
person's caption, the tags they added and removed, the model's result), and the model does not run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from autotagger.catalog import Catalog
from autotagger.service.events import FileRestored, Notice
from autotagger.service.service import Service

from .helpers import (
    LoggingTagger,
    Running,
    catalog_rows,
    make_jpeg,
    model_calls,
    options,
    run_once,
    wait_until,
)

CAPTION = "Grandma's garden, summer 1998"


def edit(cat_path: Path, photo: Path) -> None:
    """A person's caption, a tag they add and one of the model's they remove ("test", the fake's)."""
    with Catalog(cat_path) as cat:
        cat.set_caption(str(photo), CAPTION)
        cat.add_tags(str(photo), ["family|grandma"])
        cat.remove_tags(str(photo), ["test"])


def check_restored(cat_path: Path, photo: Path) -> None:
    with Catalog(cat_path) as cat:
        rec = cat.get_image(str(photo))
        assert rec is not None and rec.status == "tagged"
        assert (rec.caption, rec.caption_source) == (CAPTION, "person")
        assert "test" not in rec.tag_paths and "family|grandma" in rec.tag_paths
        assert any(t.startswith("setting|") for t in rec.tag_paths)  # the model's result came back too
        assert cat.removed_tags(str(photo)) == ("test",)
        assert [h.path for h in cat.search("grandma garden")] == [str(photo)]


def test_the_watcher_forgets_a_photo_moved_out_and_gives_its_record_back_when_it_returns(tmp_path: Path) -> None:
    photos, away, log = tmp_path / "photos", tmp_path / "away", tmp_path / "calls.log"
    photos.mkdir()
    away.mkdir()
    cat_path = tmp_path / "catalog.sqlite3"
    keep = make_jpeg(photos / "keep.jpg", 1)  # the folder is never empty: it does not look unmounted
    a = make_jpeg(photos / "a.jpg", 2)
    with Running(Service(options(tmp_path, [photos]), lambda: LoggingTagger(log))) as run:
        wait_until(lambda: [r.status for r in catalog_rows(cat_path).values()] == ["tagged"] * 2, what="tagged")
        edit(cat_path, a)
        a.rename(away / "a.jpg")
        wait_until(lambda: str(a) not in catalog_rows(cat_path), what="a forgotten")
        back = photos / "back.jpg"
        (away / "a.jpg").rename(back)
        wait_until(lambda: any(isinstance(e, FileRestored) for e in run.events), what="a's record back")
        assert [e for e in run.events if isinstance(e, FileRestored)] == [FileRestored(str(back), str(a))]
    check_restored(cat_path, back)
    assert model_calls(log) == {str(keep): 1, str(a): 1}  # not tagged again
    assert sorted(catalog_rows(cat_path)) == [str(back), str(keep)]


def test_a_scan_forgets_a_photo_moved_out_and_the_next_gives_its_record_back(tmp_path: Path) -> None:
    photos, away, log = tmp_path / "photos", tmp_path / "away", tmp_path / "calls.log"
    (photos / "2024").mkdir(parents=True)
    away.mkdir()
    cat_path = tmp_path / "catalog.sqlite3"
    keep = make_jpeg(photos / "keep.jpg", 1)
    a = make_jpeg(photos / "a.jpg", 2)
    run_once(tmp_path, photos, log)
    edit(cat_path, a)
    a.rename(away / "a.jpg")  # while the service is not running
    run_once(tmp_path, photos, log)
    assert sorted(catalog_rows(cat_path)) == [str(keep)]
    with Catalog(cat_path, readonly=True) as cat:  # status does not count it
        assert cat.status().images == 1 and cat.count("grandma") == 0
    back = photos / "2024" / "a.jpg"
    (away / "a.jpg").rename(back)
    events = run_once(tmp_path, photos, log)
    assert [e for e in events if isinstance(e, FileRestored)] == [FileRestored(str(back), str(a))]
    said = [e.message for e in events if isinstance(e, Notice) and e.message.startswith("scan: ")]
    assert said == ["scan: 0 queued, 0 moved, 0 removed, 1 back with their tags"]
    check_restored(cat_path, back)
    assert model_calls(log) == {str(keep): 1, str(a): 1}  # the model did not run for it again


def test_a_forgotten_photo_back_with_new_pixels_is_a_new_photo(tmp_path: Path) -> None:
    photos, away, log = tmp_path / "photos", tmp_path / "away", tmp_path / "calls.log"
    photos.mkdir()
    away.mkdir()
    cat_path = tmp_path / "catalog.sqlite3"
    make_jpeg(photos / "keep.jpg", 1)
    a = make_jpeg(photos / "a.jpg", 2)
    run_once(tmp_path, photos, log)
    edit(cat_path, a)
    a.rename(away / "a.jpg")
    run_once(tmp_path, photos, log)
    make_jpeg(a, 3)  # other pixels under the old name
    events = run_once(tmp_path, photos, log)
    assert not [e for e in events if isinstance(e, FileRestored)]
    assert model_calls(log)[str(a)] == 2
    rec = catalog_rows(cat_path)[str(a)]
    assert rec.caption != CAPTION and "test" in rec.tag_paths


def test_a_photo_never_tagged_comes_back_with_the_persons_edit_and_is_queued(tmp_path: Path) -> None:
    """Only a person's caption to keep (the model had not run yet): it comes back, and the photo is
    queued for the model, whose result will not replace that caption. The sidecar left behind follows."""
    from autotagger.service.ingest import Ingestor
    from autotagger.watch.hashing import content_hash
    from autotagger.watch.settle import FileStat

    photos = tmp_path / "photos"
    photos.mkdir()
    a = make_jpeg(photos / "a.jpg", 1)
    sidecar = photos / "a.jpg.xmp"
    sidecar.write_text("<x:xmpmeta xmlns:x='adobe:ns:meta/'/>")
    events: list[Any] = []
    with Catalog(tmp_path / "catalog.sqlite3") as cat:
        ing = Ingestor(cat, events.append)
        cat.upsert_file(str(a), size=a.stat().st_size, mtime=a.stat().st_mtime, content_hash=content_hash(a))
        cat.set_caption(str(a), CAPTION)
        back = photos / "b.jpg"
        a.rename(tmp_path / "a.jpg")
        assert ing.gone(str(a)) and cat.get_image(str(a)) is None
        (tmp_path / "a.jpg").rename(back)
        st = FileStat.of(back.stat())
        assert ing.consider(str(back), st) == "restored"
        rec = cat.get_image(str(back))
        assert rec is not None and rec.caption == CAPTION and rec.status == "pending"
        assert (rec.size, rec.mtime) == (st.size, st.mtime)
        assert [j.path for j in cat.list_jobs("pending")] == [str(back)]
        assert events == [FileRestored(str(back), str(a))]
        assert (photos / "b.jpg.xmp").exists() and not sidecar.exists()
