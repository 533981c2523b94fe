"""Browsing the catalogue in the window: the grid's cells and layout, missing photos, the tag tree,
the status bar, the detail pane and the first run (offscreen, on the demo catalogue)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from autotagger.gui.tagtree import build_tree
from tests.gui.conftest import Demo


def _wait_query(qtbot: Any, win: Any, query: str | None = None) -> None:
    qtbot.waitUntil(lambda: (query is None or win.model.query == query) and win.model.total >= 0
                    and not win.model.loading, timeout=10000)


def _select(qtbot: Any, win: Any, path: str) -> None:
    row = win.model.row_of(path)
    assert row >= 0
    win.grid.setCurrentIndex(win.model.index(row))
    qtbot.waitUntil(lambda: win.detail.record is not None and win.detail.record.path == path, timeout=5000)


def _settle(qtbot: Any, win: Any) -> None:
    """The thumbnails the grid asked for are made (none arrives late to undo what a test does)."""
    qtbot.waitUntil(lambda: win.thumbs.pending == 0 and win.previews.pending == 0, timeout=10000)


def _shape(path: str, size: tuple[int, int]) -> None:
    from PIL import Image

    Image.new("RGB", size, (90, 140, 200)).save(path, quality=80)


# -- 4: the grid's cells ---------------------------------------------------------------------------
def test_every_grid_cell_is_the_same_box_with_its_name_under_it(qtbot: Any, window: Any, demo: Demo) -> None:
    tall, wide = demo.paths[-1], demo.paths[-2]  # the newest: the first cells of the grid
    _settle(qtbot, window)
    _shape(tall, (300, 900))
    _shape(wide, (900, 200))
    window.thumbs.forget(tall)
    window.thumbs.forget(wide)
    window.model.refresh()
    _wait_query(qtbot, window)
    for r in range(12):
        window.thumbs.get(window.model.hit(r).path)
    qtbot.waitUntil(lambda: all(window.thumbs.get(window.model.hit(r).path) is not None for r in range(12)),
                    timeout=10000)
    assert window.thumbs.get(tall).height() == window.thumbs.edge  # really of another shape than the rest
    edge = window.thumbs.edge
    text_h = window.grid.fontMetrics().height()

    def cells() -> set[tuple[int, int]]:
        return {(window.grid.visualRect(window.model.index(r)).width(),
                 window.grid.visualRect(window.model.index(r)).height()) for r in range(12)}

    # a new query with the thumbnails in memory, then a resize: the same one cell size, room for the name
    for again in (lambda: window.search.setText("tag:subject"), lambda: window.resize(window.width() + 20, 800)):
        again()
        window.apply_search()
        _wait_query(qtbot, window)
        qtbot.waitUntil(lambda: len(cells()) == 1, timeout=5000)
        (w, h), = cells()
        assert h >= edge + text_h and w >= edge
        assert h <= window.grid.gridSize().height() and w <= window.grid.gridSize().width()
    # the thumbnail is drawn in the fixed box, centred, whatever its shape
    delegate = window.grid.itemDelegate()
    from PySide6.QtWidgets import QStyleOptionViewItem

    for path in (tall, wide):
        opt = QStyleOptionViewItem()
        opt.initFrom(window.grid)
        delegate.initStyleOption(opt, window.model.index(window.model.row_of(path)))
        assert (opt.decorationSize.width(), opt.decorationSize.height()) == (edge, edge)
        assert opt.decorationAlignment == Qt.AlignmentFlag.AlignCenter


# -- 5: a small window -----------------------------------------------------------------------------
def test_at_800x600_the_side_panels_give_way_and_whole_columns_show(qtbot: Any, window: Any) -> None:
    column = window.grid.gridSize().width()
    window.resize(800, 600)
    qtbot.waitUntil(lambda: window.grid.viewport().width() >= 2 * column, timeout=5000)
    left, _grid, detail = window.split.sizes()
    assert left >= window.left.minimumWidth() and detail >= window.detail.minimumWidth()
    assert left < 240 and detail < 360  # they gave way
    # the list lays itself out again a moment after a resize: then no sideways scrolling
    qtbot.waitUntil(lambda: not window.grid.horizontalScrollBar().isVisible(), timeout=5000)
    window.resize(1280, 800)  # room again: the panels get their width back
    qtbot.waitUntil(lambda: window.split.sizes()[0] == 240 and window.split.sizes()[2] == 360, timeout=5000)
    window.resize(500, 600)  # too small for everything: still one whole column
    qtbot.waitUntil(lambda: window.split.sizes()[1] >= window.grid_width(1) - 1, timeout=5000)
    assert window.grid.viewport().width() >= column


# -- 8, 9: a missing or unreadable photo -------------------------------------------------------------
def test_a_missing_photo_says_so_in_the_grid_and_the_preview(qtbot: Any, window: Any, demo: Demo) -> None:
    gone, bad = demo.paths[-1], demo.paths[-2]
    _settle(qtbot, window)
    os.rename(gone, gone + ".away")
    Path(bad).write_bytes(b"not a jpeg")
    for path in (gone, bad):  # the first cells: their thumbnails are in memory already
        window.thumbs.forget(path)
        window.previews.forget(path)
    window.model.refresh()
    _wait_query(qtbot, window)
    window.thumbs.get(gone)
    window.thumbs.get(bad)
    qtbot.waitUntil(lambda: gone in window.thumbs.errors and bad in window.thumbs.errors, timeout=10000)
    thumbs = window.thumbs
    assert thumbs.get(gone) is thumbs.gone and thumbs.get(bad) is thumbs.broken
    # three different pictures: loading, missing, cannot show
    images = [pm.toImage() for pm in (thumbs.placeholder, thumbs.gone, thumbs.broken)]
    assert images[0] != images[1] and images[0] != images[2] and images[1] != images[2]
    tip = window.model.data(window.model.index(window.model.row_of(gone)), Qt.ItemDataRole.ToolTipRole)
    assert f"File not found: {gone}" in tip

    _select(qtbot, window, gone)
    qtbot.waitUntil(lambda: window.detail.preview.text() == f"File not found: {gone}", timeout=10000)
    assert window.detail.preview.pixmap().isNull()
    _select(qtbot, window, bad)
    qtbot.waitUntil(lambda: window.detail.preview.text().startswith("Cannot show this photo: "), timeout=10000)


def test_a_photo_that_comes_back_gets_its_thumbnail_on_a_new_search_or_when_selected(
    qtbot: Any, window: Any, demo: Demo
) -> None:
    thumbs = window.thumbs
    first, second = demo.paths[-1], demo.paths[-2]
    _settle(qtbot, window)
    for path in (first, second):
        os.rename(path, path + ".away")
        thumbs.forget(path)  # in memory already (the first cells)
        thumbs.get(path)
    qtbot.waitUntil(lambda: first in thumbs.errors and second in thumbs.errors, timeout=10000)
    for path in (first, second):
        os.rename(path + ".away", path)
    assert thumbs.get(first) is thumbs.gone  # nothing asked again yet
    # a new search tries again
    window.search.setText("tag:subject")
    window.apply_search()
    _wait_query(qtbot, window, "tag:subject")
    thumbs.get(first)
    qtbot.waitUntil(lambda: first not in thumbs.errors and thumbs.get(first) not in (None, thumbs.gone), timeout=10000)
    # so does selecting it
    _settle(qtbot, window)
    os.rename(second, second + ".away")
    thumbs.forget(second)
    thumbs.get(second)
    qtbot.waitUntil(lambda: thumbs.get(second) is thumbs.gone, timeout=10000)
    os.rename(second + ".away", second)
    _select(qtbot, window, second)
    qtbot.waitUntil(lambda: thumbs.get(second) not in (None, thumbs.gone), timeout=10000)


# -- 10, 11, 12: the tag tree --------------------------------------------------------------------------
def _count_of(tree: Any, path: str) -> int | None:
    item = tree.tag_model.find(path)
    if item is None:
        return None
    return int(tree.tag_model.itemFromIndex(item.index().siblingAtColumn(1)).text())


def test_a_tag_nodes_count_is_what_clicking_it_shows(qtbot: Any, window: Any, demo: Demo) -> None:
    from autotagger.catalog import Catalog

    with Catalog(demo.catalog) as cat:
        cat.add_tags(demo.paths[0], ["people", "people|many"])  # both: one photo, counted once
        cat.add_tags(demo.paths[1], ["people"])  # the bare tag alone
        cat.add_tags(demo.paths[2], ["people|many"])
        truth = cat.count("tag:people")
    assert truth == 3
    window.refresh_side()
    tree = window.tags
    qtbot.waitUntil(lambda: _count_of(tree, "people|many") == 2, timeout=10000)
    assert _count_of(tree, "people") == 3  # not 2 + 2
    assert "2 tagged “people” itself" in tree.tag_model.find("people").toolTip()
    assert _count_of(tree, "subject") == len(demo.paths)
    window.filter_tag("people")
    qtbot.waitUntil(lambda: window.model.query == "tag:people" and window.model.total >= 0, timeout=5000)
    assert window.model.total == 3


def test_build_tree_takes_each_nodes_own_count() -> None:
    tree = build_tree([("people", 3), ("people|many", 2), ("setting|indoors", 2), ("setting|outdoors", 1)])
    assert tree["people"][0] == 3 and tree["people"][1]["many"][0] == 2
    assert tree["setting"][0] == 3  # no count of its own: its children's sum


def test_tree_click_switches_ctrl_click_adds_and_a_second_click_clears(qtbot: Any, window: Any) -> None:
    tree = window.tags
    qtbot.waitUntil(lambda: tree.tag_model.find("subject|cat") is not None, timeout=10000)
    tree.expandAll()

    def click(path: str, ctrl: bool = False) -> None:
        rect = tree.visualRect(tree.tag_model.find(path).index())
        mods = Qt.KeyboardModifier.ControlModifier if ctrl else Qt.KeyboardModifier.NoModifier
        qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, mods, rect.center())

    window.search.setText("green")
    window.apply_search()
    click("subject|cat")
    assert window.search.text() == "green tag:subject|cat"
    click("subject|dog")  # another tag: switches, the typed word stays
    assert window.search.text() == "green tag:subject|dog"
    click("setting|indoors", ctrl=True)  # Ctrl: both
    assert window.search.text() == "green tag:subject|dog tag:setting|indoors"
    click("setting|indoors", ctrl=True)  # Ctrl again: out
    assert window.search.text() == "green tag:subject|dog"
    click("subject|dog")  # the tag shown, clicked again: cleared
    assert window.search.text() == "green"
    _wait_query(qtbot, window, "green")


def test_tag_names_take_the_width_and_the_count_column_is_narrow(qtbot: Any, window: Any) -> None:
    tree = window.tags
    tree.set_counts([("a rather long tag name here", 3), ("subject", 240)])
    qtbot.waitUntil(lambda: tree.columnWidth(0) > 0, timeout=5000)
    assert tree.columnWidth(1) < tree.columnWidth(0)
    assert tree.columnWidth(1) <= tree.header().sectionSizeHint(1) + 20


# -- 13, 14: the status bar ----------------------------------------------------------------------------
def test_a_bad_query_shows_its_error_and_no_count_and_a_good_one_clears_it(qtbot: Any, window: Any) -> None:
    count = window.status.count
    assert count.text().startswith("240 images")
    window.search.setText("after:bad")
    window.apply_search()
    qtbot.waitUntil(lambda: count.text().startswith("search: "), timeout=5000)
    assert "images" not in count.text() and "after:bad" in count.text()
    window.search.setText("dog")
    window.apply_search()
    assert not count.text().startswith("search:")  # at once, before the new count comes
    qtbot.waitUntil(lambda: count.text().startswith("60 images"), timeout=5000)
    assert window.status.currentMessage() == ""


def test_one_image_is_singular(qtbot: Any) -> None:
    from autotagger.gui.status import StatusBar

    bar = StatusBar()
    qtbot.addWidget(bar)
    bar.set_count(1, 1)
    assert bar.count.text() == "1 image  |"
    bar.set_count(0, 0)
    assert bar.count.text() == "0 images  |"
    bar.set_count(1234, 1234)
    assert bar.count.text() == "1,234 images  |"


# -- 15, 16, 17: the detail pane -----------------------------------------------------------------------
def test_leaving_a_photo_saves_its_unsaved_caption_and_tag(qtbot: Any, window: Any, demo: Demo) -> None:
    from autotagger.catalog import Catalog

    first, second = demo.paths[-1], demo.paths[-2]
    _select(qtbot, window, first)
    window.detail.caption.setPlainText("typed, never saved")
    window.detail.new_tag.setText("people|family")
    _select(qtbot, window, second)

    def saved() -> bool:
        with Catalog(demo.catalog, readonly=True) as cat:
            rec = cat.get_image(first)
            return rec.caption == "typed, never saved" and "people|family" in rec.tag_paths

    qtbot.waitUntil(saved, timeout=10000)
    assert window.detail.record.path == second and window.detail.new_tag.text() == ""
    assert window.detail.caption.toPlainText() != "typed, never saved"
    _select(qtbot, window, first)
    qtbot.waitUntil(lambda: window.detail.caption.toPlainText() == "typed, never saved", timeout=5000)


def test_a_caption_being_typed_survives_another_edit_coming_back(qtbot: Any, window: Any, demo: Demo) -> None:
    path = demo.paths[-1]
    _select(qtbot, window, path)
    window.detail.caption.setPlainText("still typing")
    window.detail.new_tag.setText("people|me")
    window.detail.add_tag.click()
    qtbot.waitUntil(lambda: "people|me" in window.detail.record.tag_paths, timeout=10000)
    assert window.detail.caption.toPlainText() == "still typing"
    assert window.detail.save_caption.isEnabled()


def test_times_read_as_dates_and_the_tagging_time_is_local(monkeypatch: pytest.MonkeyPatch) -> None:
    from autotagger.gui.detail import _fmt_time

    assert _fmt_time("2024-06-01T18:30:05") == "2024-06-01 18:30"  # a camera's time: as it is
    assert _fmt_time("2024-06-01") == "2024-06-01"
    assert _fmt_time("not a date") == "not a date"
    assert _fmt_time(None) == ""
    if not hasattr(time, "tzset"):
        pytest.skip("no tzset here")
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        assert _fmt_time("2026-12-02T16:22:53Z") == "2026-12-02 11:22"  # UTC -> local (EST)
        assert _fmt_time("2026-06-02T16:22:53+00:00") == "2026-06-02 12:22"  # EDT
    finally:
        monkeypatch.undo()
        time.tzset()


def test_the_caption_box_grows_with_its_text_and_the_tag_hint_shows(qtbot: Any, window: Any, demo: Demo) -> None:
    _select(qtbot, window, demo.paths[-1])
    box = window.detail.caption
    line = box.fontMetrics().lineSpacing()
    short = box.height()
    assert short >= 3 * line
    box.setPlainText("\n".join(f"line {i}" for i in range(6)))
    qtbot.waitUntil(lambda: box.height() >= 6 * line and not box.verticalScrollBar().isVisible(),
                    timeout=5000)  # all of it shows
    box.setPlainText("word " * 2000)
    qtbot.waitUntil(lambda: box.height() > 6 * line, timeout=5000)
    assert box.height() <= 13 * line + 40  # a sensible most: then it scrolls
    entry = window.detail.new_tag
    assert entry.width() >= entry.fontMetrics().horizontalAdvance(entry.placeholderText())


# -- 21: the first run ---------------------------------------------------------------------------------
def test_an_empty_catalogue_says_what_to_do_and_add_folder_works(
    qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PySide6.QtWidgets import QFileDialog, QLabel

    from autotagger.config import Settings
    from autotagger.gui.app import catalog_opener
    from autotagger.gui.window import MainWindow

    cat = tmp_path / "empty.sqlite3"
    win = MainWindow(Settings(catalog=str(cat), model=str(tmp_path)), tmp_path / "config.toml",
                     catalog_opener(cat), tmp_path / "thumbs")
    qtbot.addWidget(win)
    win.show()
    try:
        qtbot.waitUntil(lambda: win.grid_stack.currentWidget() is win.empty, timeout=10000)
        texts = [lab.text() for lab in win.empty.findChildren(QLabel)]
        assert any(t.startswith("No photos yet") for t in texts)
        folder = tmp_path / "pictures"
        folder.mkdir()
        monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(lambda *a, **k: str(folder)))
        qtbot.mouseClick(win.empty_add, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: str(folder) in win.folders.folders(), timeout=10000)
        # a search that finds nothing is not the first run
        win.search.setText("nothing")
        win.apply_search()
        _wait_query(qtbot, win, "nothing")
        assert win.grid_stack.currentWidget() is win.grid
    finally:
        win.shutdown()


# -- after "Remove our tags" -------------------------------------------------------------------------------
def test_after_remove_our_tags_the_pane_shows_the_record_again(qtbot: Any, window: Any, demo: Demo) -> None:
    from autotagger.catalog import Catalog

    path = demo.paths[-1]
    _select(qtbot, window, path)
    with Catalog(demo.catalog) as cat:  # what the catalogue holds after the undo (the lead's part)
        cat.set_caption(path, "as the catalogue has it now")
    window._undone([])  # the undo op's callback
    qtbot.waitUntil(lambda: window.detail.record is not None
                    and window.detail.record.caption == "as the catalogue has it now", timeout=10000)
    assert window.detail.caption.toPlainText() == "as the catalogue has it now"
    _wait_query(qtbot, window)  # the grid asked the catalogue again
    assert window.model.total == len(demo.paths)
