"""The window over this release's core: a v4 catalogue's twin spellings of a tag, photos the service
moved or brought back, and what a caption or a tag typed with odd characters becomes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PIL import Image
from PySide6.QtCore import Signal

from autotagger.catalog import Catalog, FileInfo
from autotagger.config import Settings
from autotagger.gui.status import ServiceLink
from autotagger.service.events import FileMoved, FileRestored
from tests.catalog.helpers import result


class EventLink(ServiceLink):
    """A service in this process as the window sees it (InProcessLink): its events, emitted by the test."""

    serviceEvent = Signal(object)


def photo(path: Path, colour: tuple[int, int, int] = (40, 90, 200)) -> tuple[Any, FileInfo]:
    Image.new("RGB", (40, 30), colour).save(path)
    st = path.stat()
    return result(str(path)), FileInfo(size=st.st_size, mtime=st.st_mtime, width=40, height=30)


def open_window(qtbot: Any, catalog: Path, tmp_path: Path, write: str = "none", link: ServiceLink | None = None) -> Any:
    from autotagger.gui.app import catalog_opener
    from autotagger.gui.window import MainWindow

    settings = Settings(catalog=str(catalog), write=write, model=str(tmp_path))  # model: a folder, no notice
    win = MainWindow(settings, tmp_path / "config.toml", catalog_opener(catalog), tmp_path / "thumbs",
                     link_factory=(lambda _c: link) if link is not None else None)
    qtbot.addWidget(win)
    win.show()
    return win


def tree_rows(win: Any) -> list[tuple[str, str]]:
    """(indented name, count) of every node of the tag tree, in order."""
    rows: list[tuple[str, str]] = []

    def walk(item: Any, depth: int) -> None:
        for r in range(item.rowCount()):
            rows.append(("  " * depth + item.child(r, 0).text(), item.child(r, 1).text()))
            walk(item.child(r, 0), depth + 1)

    walk(win.tags.tag_model.invisibleRootItem(), 0)
    return rows


def test_a_v4_catalogues_two_spellings_of_a_tag_are_one_node(qtbot, tmp_path: Path) -> None:
    """Migration 5 keeps both spellings a v4 catalogue held (place|Église, place|église) and tag:
    matches them all: the tree shows the tag once, with the count its click finds, not twice."""
    from tests.catalog.test_migrations import build_v4_with_two_spellings

    path = tmp_path / "catalog.sqlite3"
    build_v4_with_two_spellings(path)
    win = open_window(qtbot, path, tmp_path)
    try:
        qtbot.waitUntil(lambda: win.model.total == 5 and win.tags.tag_model.rowCount() > 0, timeout=10000)
        assert tree_rows(win) == [
            ("place", "5"), ("  coast", "1"), ("  Église", "4"), ("weather", "1"), ("  fog", "1"),
        ]
        item = win.tags.tag_model.find("place|Église")
        assert item is not None
        win.filter_tag("place|Église")
        qtbot.waitUntil(lambda: win.model.total == 4, timeout=5000)
        assert win.search.text() == "tag:place|Église"
    finally:
        win.shutdown()


def test_a_photo_the_service_moved_shows_its_new_path_without_a_refresh(qtbot, tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    items = [photo(photos / "a.jpg"), photo(photos / "b.jpg", (200, 40, 40))]
    path = tmp_path / "catalog.sqlite3"
    with Catalog(path) as cat:
        cat.bulk_record(items)
    link = EventLink()
    win = open_window(qtbot, path, tmp_path, link=link)
    try:
        qtbot.waitUntil(lambda: win.model.rowCount() == 2, timeout=10000)
        old = str(photos / "a.jpg")
        row = win.model.row_of(old)
        win.grid.setCurrentIndex(win.model.index(row))
        qtbot.waitUntil(lambda: win.detail.record is not None and win.detail.record.path == old, timeout=5000)

        new = str(photos / "renamed.jpg")
        Path(old).rename(new)
        with Catalog(path) as cat:  # what the service does before it says FileMoved
            cat.move_image(old, new)
        link.serviceEvent.emit(FileMoved(old, new))

        qtbot.waitUntil(lambda: win.model.row_of(new) == row, timeout=5000)
        assert win.model.row_of(old) == -1
        assert win.selected_paths() == [new]  # Reveal, Tag again act on the file where it is
        assert win.model.index(row).data() == "renamed.jpg"
        qtbot.waitUntil(lambda: win.detail.record.path == new, timeout=5000)
    finally:
        win.shutdown()


def test_a_photo_the_service_brought_back_appears_in_the_grid(qtbot, tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    path = tmp_path / "catalog.sqlite3"
    with Catalog(path) as cat:
        cat.bulk_record([photo(photos / "a.jpg")])
    link = EventLink()
    win = open_window(qtbot, path, tmp_path, link=link)
    try:
        qtbot.waitUntil(lambda: win.model.total == 1 and win.model.rowCount() == 1, timeout=10000)
        back = photos / "back.jpg"
        with Catalog(path) as cat:  # restored from its tombstone: a record again, no model run
            cat.bulk_record([photo(back, (10, 200, 10))])
        link.serviceEvent.emit(FileRestored(str(back), "/elsewhere/back.jpg"))
        qtbot.waitUntil(lambda: win.model.row_of(str(back)) >= 0, timeout=5000)
        assert win.model.total == 2
    finally:
        win.shutdown()


def one_photo_window(qtbot: Any, tmp_path: Path) -> tuple[Any, Path]:
    img = tmp_path / "a.jpg"
    path = tmp_path / "catalog.sqlite3"
    with Catalog(path) as cat:
        cat.bulk_record([photo(img)])
    win = open_window(qtbot, path, tmp_path, write="embed")
    qtbot.waitUntil(lambda: win.model.rowCount() == 1, timeout=10000)
    win.grid.setCurrentIndex(win.model.index(0))
    qtbot.waitUntil(lambda: win.detail.record is not None, timeout=5000)
    return win, img


def test_a_caption_with_control_characters_is_saved_as_the_file_holds_it(qtbot, tmp_path: Path) -> None:
    """The file cannot hold a bell or an escape (XMP is XML): the window, the catalogue and the file
    agree on the caption saved, tabs and line breaks kept."""
    from autotagger.metadata import read_metadata

    win, img = one_photo_window(qtbot, tmp_path)
    try:
        win.detail.caption.setPlainText("night\tview \x07of the\x1b[31m tower\nline two")
        win.detail._save_caption()
        qtbot.waitUntil(lambda: win.detail.record.caption_source == "person", timeout=5000)
        wanted = "night\tview of the[31m tower\nline two"
        assert win.detail.record.caption == wanted
        assert win.detail.caption.toPlainText() == wanted
        assert not win.detail.save_caption.isEnabled()
        assert read_metadata(img).caption == wanted
        with Catalog(tmp_path / "catalog.sqlite3", readonly=True) as cat:
            assert cat.get_image(str(img)).caption == wanted
    finally:
        win.shutdown()


def test_a_tag_refused_stays_typed_with_the_reason(qtbot, tmp_path: Path) -> None:
    """A tag the catalogue refuses (a control character pasted in) is not thrown away: it stays in
    the box to be corrected, and the status bar says why in one line."""
    win, _img = one_photo_window(qtbot, tmp_path)
    try:
        win.detail.new_tag.setText("tab\there")
        win.detail._add_tag()
        qtbot.waitUntil(lambda: "could not save" in win.status.currentMessage(), timeout=5000)
        assert "control characters" in win.status.currentMessage()
        assert win.detail.new_tag.text() == "tab\there"
        assert "tab\there" not in win.detail.record.tag_paths
    finally:
        win.shutdown()
