"""The main window on a real catalogue of a few hundred tagged images (offscreen)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt

from autotagger.gui.tagtree import TagPathRole
from tests.gui.conftest import Demo, model_result


def _all_rows(win):  # type: ignore[no-untyped-def]
    return [win.model.hit(r) for r in range(win.model.rowCount())]


def _load_all(qtbot, win) -> None:  # type: ignore[no-untyped-def]
    def loaded() -> bool:
        if win.model.canFetchMore():
            win.model.fetchMore()
        return win.model.exhausted and not win.model.loading

    qtbot.waitUntil(loaded, timeout=10000)


def test_grid_lists_everything_lazily(qtbot, window, demo: Demo) -> None:
    window.model.page_size = 50
    window.model.set_query("")
    qtbot.waitUntil(lambda: window.model.rowCount() == 50 and not window.model.loading, timeout=5000)
    assert window.model.total == len(demo.paths)
    _load_all(qtbot, window)
    assert sorted(h.path for h in _all_rows(window)) == sorted(demo.paths)


def test_search_narrows_the_grid(qtbot, window, demo: Demo) -> None:
    dogs = sorted(p for p, s in demo.subjects.items() if s == "dog")
    qtbot.keyClicks(window.search, "dog")  # debounced live search, no Enter
    qtbot.waitUntil(lambda: window.model.query == "dog" and window.model.total == len(dogs), timeout=5000)
    _load_all(qtbot, window)
    assert sorted(h.path for h in _all_rows(window)) == dogs
    assert window.status.count.text().startswith(f"{len(dogs)} ")


def test_tag_tree_click_filters(qtbot, window, demo: Demo) -> None:
    tree = window.tags
    qtbot.waitUntil(lambda: tree.tag_model.find("subject|cat") is not None, timeout=5000)
    parent = tree.tag_model.find("subject")
    assert parent is not None
    # the parent's count sums its children; each child carries its own
    assert tree.tag_model.itemFromIndex(parent.index().siblingAtColumn(1)).text() == str(len(demo.paths))
    tree.expand(parent.index())
    item = tree.tag_model.find("subject|cat")
    assert item is not None and item.data(TagPathRole) == "subject|cat"
    rect = tree.visualRect(item.index())
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    cats = sorted(p for p, s in demo.subjects.items() if s == "cat")
    qtbot.waitUntil(lambda: window.model.total == len(cats), timeout=5000)
    assert "tag:subject|cat" in window.search.text()
    _load_all(qtbot, window)
    rows = _all_rows(window)
    assert sorted(h.path for h in rows) == cats
    assert all("subject|cat" in h.tags for h in rows)


def _select(qtbot, win, path: str) -> None:  # type: ignore[no-untyped-def]
    row = win.model.row_of(path)
    assert row >= 0
    win.grid.setCurrentIndex(win.model.index(row))
    qtbot.waitUntil(lambda: win.detail.record is not None and win.detail.record.path == path, timeout=5000)


def test_caption_edit_is_written_to_the_file_and_survives_a_retag(qtbot, window, demo: Demo) -> None:
    from autotagger.catalog import Catalog
    from autotagger.metadata import read_metadata

    path = demo.paths[7]
    _select(qtbot, window, path)
    assert window.detail.record.caption_source == "model"
    window.detail.caption.setPlainText("Grandma's dog on the porch")
    assert window.detail.save_caption.isEnabled()
    qtbot.mouseClick(window.detail.save_caption, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: read_metadata(Path(path)).caption == "Grandma's dog on the porch", timeout=10000)
    qtbot.waitUntil(lambda: window.detail.record.caption_source == "person", timeout=5000)
    assert window.model.hit(window.model.row_of(path)).caption == "Grandma's dog on the porch"
    # the model's tags are still there
    assert f"subject|{demo.subjects[path]}" in read_metadata(Path(path)).hierarchical

    # the model tags the file again: the person's caption stays in the catalogue and the file
    with Catalog(demo.catalog) as cat:
        cat.record_result(model_result(path, 7))
        rec = cat.get_image(path)
        assert rec.caption == "Grandma's dog on the porch"
        assert rec.caption_source == "person"
        from autotagger.gui.ops import metadata_record
        from autotagger.metadata import write_metadata

        write_metadata(Path(path), metadata_record(rec), mode="embed")  # what the worker writes after
    assert read_metadata(Path(path)).caption == "Grandma's dog on the porch"


def test_tag_edits_reach_the_file(qtbot, window, demo: Demo) -> None:
    from autotagger.metadata import read_metadata

    path = demo.paths[3]
    _select(qtbot, window, path)
    window.detail.new_tag.setText("people|family")
    qtbot.mouseClick(window.detail.add_tag, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "people|family" in read_metadata(Path(path)).hierarchical, timeout=10000)
    qtbot.waitUntil(lambda: "people|family" in window.detail.record.tag_paths, timeout=5000)
    # remove a model tag: it goes from the file too
    window.detail.tags.selectRow(window.detail.record.tag_paths.index("subject|boat"))
    qtbot.mouseClick(window.detail.remove_tag, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "subject|boat" not in read_metadata(Path(path)).hierarchical, timeout=10000)
    assert "people|family" in read_metadata(Path(path)).hierarchical


def test_thumbnails_arrive_off_the_gui_thread_and_are_cached(qtbot, window, demo: Demo, tmp_path: Path) -> None:
    path = demo.paths[0]
    window.thumbs.get(path)  # the first call queues the job
    qtbot.waitUntil(lambda: window.thumbs.get(path) is not None, timeout=10000)
    pm = window.thumbs.get(path)
    assert (pm.width(), pm.height()) == (48, 32)  # never enlarged
    assert list((tmp_path / "thumbs").rglob("*.jpg"))


def test_a_bad_file_gets_a_broken_thumbnail_and_an_error(qtbot, window, demo: Demo) -> None:
    Path(demo.paths[1]).write_bytes(b"not a jpeg")
    window.thumbs.forget(demo.paths[1])
    window.thumbs.get(demo.paths[1])
    qtbot.waitUntil(lambda: demo.paths[1] in window.thumbs.errors, timeout=10000)
    assert window.thumbs.get(demo.paths[1]) is window.thumbs.broken
    assert "\n" not in window.thumbs.errors[demo.paths[1]]
