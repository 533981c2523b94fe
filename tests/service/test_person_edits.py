"""A person's edits in the catalogue win in the FILE too when the model runs again (tag command and
service): their caption stays theirs, a tag they removed is not written back."""

from __future__ import annotations

from pathlib import Path

from autotagger.catalog import Catalog
from autotagger.engine.fake import FakeTagger
from autotagger.metadata import read_metadata
from autotagger.service.service import Service
from autotagger.service.tagfiles import ResultWriter, tag_paths
from tests.service.helpers import make_jpeg, options


def _edit(cat_path: Path, photo: Path) -> None:
    with Catalog(cat_path) as cat:
        cat.set_caption(str(photo), "Grandma's garden, summer 1998")
        cat.remove_tags(str(photo), ["test"])
        cat.add_tags(str(photo), ["family|grandma"])


def _check(photo: Path) -> None:
    back = read_metadata(photo)
    assert back.caption == "Grandma's garden, summer 1998"
    assert "test" not in back.hierarchical and "test" not in back.subjects
    assert "family|grandma" in back.hierarchical
    assert any(h.startswith("setting|") for h in back.hierarchical)  # the model's other tags are written


def _tag_once(photo: Path, cat_path: Path) -> None:
    tagger = FakeTagger()
    with (
        Catalog(cat_path) as cat,
        ResultWriter(write_mode="embed", sidecar_name="ext", keep_backup=False, catalog=cat) as writer,
    ):
        for result in tag_paths([str(photo)], tagger, batch_size=1, workers=1):
            writer.submit(result)
        assert [o.ok for o in writer.finish()] == [True]


def test_tag_command_path_keeps_a_persons_edits_in_the_file(tmp_path: Path) -> None:
    photo, cat_path = make_jpeg(tmp_path / "a.jpg", 1, size=(64, 48)), tmp_path / "c.sqlite3"
    _tag_once(photo, cat_path)
    assert "test" in read_metadata(photo).hierarchical  # the fake model's tag, before the edit
    _edit(cat_path, photo)
    _tag_once(photo, cat_path)  # the model runs again
    _check(photo)
    with Catalog(cat_path) as cat:
        rec = cat.get_image(str(photo))
        assert rec is not None and rec.caption == "Grandma's garden, summer 1998"
        assert "test" not in [t.path for t in rec.tags]


def test_service_keeps_a_persons_edits_in_the_file(tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    photo = make_jpeg(photos / "b.jpg", 2, size=(64, 48))
    opts = options(tmp_path, [photos], once=True, settle_seconds=0.0, write_mode="embed")
    Service(opts, FakeTagger).run()
    assert "test" in read_metadata(photo).hierarchical
    cat_path = Path(opts.catalog_path)
    _edit(cat_path, photo)
    with Catalog(cat_path) as cat:
        cat.enqueue(str(photo), reason="retag")  # the GUI's "Tag again"
    Service(opts, FakeTagger).run()
    _check(photo)


def test_a_caption_the_photo_already_had_is_what_the_catalogue_says(tmp_path: Path) -> None:
    """The file keeps a caption written before us (or by another tool); the catalogue, search and the
    event say that caption too, as the person's, not the model's that the file never got."""
    from autotagger.metadata import MetadataRecord, undo_metadata, write_metadata
    from autotagger.service.events import FileTagged

    photos = tmp_path / "photos"
    photos.mkdir()
    photo = make_jpeg(photos / "pier.jpg", 1)
    write_metadata(photo, MetadataRecord("Sunset at Brighton pier", "person", ()))
    undo_metadata(photo)  # what is left is a caption that is not ours, as another tool would leave it
    events: list[object] = []
    svc = Service(options(tmp_path, [photos], once=True, write_mode="embed"), FakeTagger)
    svc.subscribe(events.append)
    svc.run()
    assert read_metadata(photo).caption == "Sunset at Brighton pier"
    with Catalog(tmp_path / "catalog.sqlite3") as cat:
        rec = cat.get_image(str(photo))
        assert rec is not None and (rec.caption, rec.caption_source) == ("Sunset at Brighton pier", "person")
        assert rec.tag_paths  # the model's tags are there as usual
        assert [h.path for h in cat.search("brighton")] == [str(photo)]
    assert [e.caption for e in events if isinstance(e, FileTagged)] == ["Sunset at Brighton pier"]


def test_the_tag_command_also_records_a_caption_the_photo_kept(tmp_path: Path) -> None:
    from autotagger.metadata import MetadataRecord, undo_metadata, write_metadata

    photo = make_jpeg(tmp_path / "pier.jpg", 1)
    write_metadata(photo, MetadataRecord("Sunset at Brighton pier", "person", ()))
    undo_metadata(photo)
    cat_path = tmp_path / "catalog.sqlite3"
    with (
        Catalog(cat_path) as cat,
        ResultWriter(write_mode="embed", sidecar_name="ext", keep_backup=False, catalog=cat) as writer,
    ):
        for result in tag_paths([str(photo)], FakeTagger(), batch_size=1, workers=1):
            writer.submit(result)
        outcomes = writer.finish()
    assert [o.kept_caption for o in outcomes] == ["Sunset at Brighton pier"]
    assert outcomes[0].to_json()["kept_caption"] == "Sunset at Brighton pier"
    with Catalog(cat_path) as cat:
        rec = cat.get_image(str(photo))
        assert rec is not None and (rec.caption, rec.caption_source) == ("Sunset at Brighton pier", "person")
