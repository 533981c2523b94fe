"""What a photographer met going round the window: a search that finds nothing left a blank white
grid, an edit that could not be saved did not say which photo, and a change made elsewhere took the
tag tree's and the tag table's selection away."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QItemSelectionModel
from PySide6.QtGui import QImage

from autotagger.catalog import Catalog
from tests.gui.conftest import Demo

WAIT = 10000


def _select(qtbot: Any, win: Any, path: str) -> int:
    row = win.model.row_of(path)
    win.grid.setCurrentIndex(win.model.index(row))
    qtbot.waitUntil(lambda: win.detail.record is not None and win.detail.record.path == path, timeout=WAIT)
    return row


def _selected_tags(table: Any) -> list[str]:
    return [table.item(r, 0).text() for r in sorted({i.row() for i in table.selectedIndexes()})]


def _painted_text_pixels(widget: Any) -> int:
    """How many pixels of the grid's viewport differ from its background."""
    image: QImage = widget.grab().toImage()
    background = image.pixelColor(2, 2)
    return sum(image.pixelColor(x, y) != background
               for x in range(0, image.width(), 2) for y in range(0, image.height(), 2))


def test_a_search_that_finds_nothing_says_so_in_the_grid(qtbot: Any, window: Any) -> None:
    window.search.setText("zebra")
    window.apply_search()
    qtbot.waitUntil(lambda: window.model.query == "zebra" and window.model.total == 0, timeout=WAIT)
    assert window.grid_stack.currentWidget() is window.grid  # not the first-run page
    assert window.grid.empty_text() == "No photos match \u201czebra\u201d.\nClear the search to see every photo."
    assert _painted_text_pixels(window.grid.viewport()) > 0  # the line is drawn, not only set

    window.search.setText("")  # photos again: nothing said over them
    window.apply_search()
    qtbot.waitUntil(lambda: window.model.total > 0, timeout=WAIT)
    assert window.grid.empty_text() == ""


def test_an_edit_that_cannot_be_saved_names_the_photo(qtbot: Any, window: Any, demo: Demo) -> None:
    path = demo.paths[-1]
    _select(qtbot, window, path)
    window.detail.new_tag.setText("tab\there")
    window.detail._add_tag()
    qtbot.waitUntil(lambda: "could not save" in window.status.currentMessage(), timeout=WAIT)
    assert window.status.currentMessage().startswith(f"could not save {path.rsplit('/', 1)[-1]}: ")


def test_a_change_elsewhere_keeps_the_tag_selected_in_the_tree_and_in_the_pane(
    qtbot: Any, window: Any, demo: Demo
) -> None:
    qtbot.waitUntil(lambda: window.tags.tag_model.find("subject|dog") is not None, timeout=WAIT)
    window.tags.expandAll()
    dog = window.tags.tag_model.find("subject|dog")
    window.tags.selectionModel().setCurrentIndex(
        dog.index(), QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
    path = demo.paths[-2]
    _select(qtbot, window, path)
    row = window.detail.record.tag_paths.index("setting|indoors" if "setting|indoors" in
                                               window.detail.record.tag_paths else "setting|outdoors")
    window.detail.tags.selectRow(row)
    kept = _selected_tags(window.detail.tags)
    assert len(kept) == 1

    with Catalog(demo.catalog) as cat:  # another process tags it and changes the counts
        cat.add_tags(path, ["subject|dog", "people|grandma"])
    qtbot.waitUntil(lambda: "people|grandma" in window.detail.record.tag_paths
                    and window.tags.tag_model.find("people|grandma") is not None, timeout=WAIT)
    assert _selected_tags(window.detail.tags) == kept  # the tag chosen in the pane (to remove it, say)
    current = window.tags.currentIndex()
    assert window.tags.selectionModel().isSelected(current)
    assert current.data() == "dog" and current.parent().data() == "subject"
    assert window.tags.isExpanded(window.tags.tag_model.find("subject").index())


def test_scrolling_down_the_next_page_comes_without_throwing_the_grid_back_up(qtbot: Any, tmp_path: Any) -> None:
    """The grid was laid out in batches of 200 cells from the first row again whenever a page came
    in: scrolled to the bottom of the first 300 photos, the person was thrown back to the 200th."""
    from autotagger.gui.app import catalog_opener
    from autotagger.gui.window import MainWindow
    from tests.gui.conftest import make_demo

    demo = make_demo(tmp_path, 700)
    win = MainWindow(demo.settings, demo.config, catalog_opener(demo.catalog), tmp_path / "thumbs")
    qtbot.addWidget(win)
    win.show()
    try:
        bar = win.grid.verticalScrollBar()
        qtbot.waitUntil(lambda: win.model.rowCount() == win.model.page_size and bar.maximum() > 0, timeout=WAIT)
        def next_page(rows: int) -> None:
            bar.setValue(bar.maximum())  # the bottom: the view asks for the next page
            at = bar.value()
            qtbot.waitUntil(lambda: win.model.rowCount() == rows and not win.model.loading, timeout=WAIT)
            qtbot.waitUntil(lambda: bar.maximum() > at, timeout=WAIT)
            assert bar.value() == at  # still looking at the same photos

        next_page(600)
        next_page(700)
    finally:
        win.shutdown()


def test_the_settings_say_a_model_folder_is_read_not_downloaded(qtbot: Any, tmp_path: Any) -> None:
    from autotagger.config import Settings
    from autotagger.gui.settings_dialog import SettingsDialog

    folder = tmp_path / "my-blip2"
    folder.mkdir()
    dlg = SettingsDialog(Settings(catalog=str(tmp_path / "catalog.sqlite3"), model=str(folder)),
                         tmp_path / "config.toml")
    qtbot.addWidget(dlg)
    assert dlg.model_note.text() == "The model is read from this folder; nothing is downloaded."
    dlg.model.setCurrentText("Salesforce/blip2-flan-t5-xl")
    assert "downloaded once into the Hugging Face cache" in dlg.model_note.text()
    dlg.model.setCurrentText("~/models/blip2")  # a folder typed, not there yet: still not a download
    assert dlg.model_note.text() == "The model is read from this folder; nothing is downloaded."
