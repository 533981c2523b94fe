"""Changes another process makes to the catalogue (the service run headless, `autotagger tag` in a
terminal, another window) reach the window by themselves: a second Catalog on the same file stands in
for that process. The grid, the tag tree and the detail pane follow; what the person is doing (the
photos selected, the scroll position, a caption or tag being typed) stays. And a damaged catalogue is
said once in the status bar, not once per catalogue call that met it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PIL import Image

from autotagger.catalog import Catalog, FileInfo
from tests.catalog.helpers import result
from tests.gui.conftest import Demo

WAIT = 10000


def _select(qtbot: Any, win: Any, path: str) -> int:
    row = win.model.row_of(path)
    assert row >= 0
    win.grid.setCurrentIndex(win.model.index(row))
    qtbot.waitUntil(lambda: win.detail.record is not None and win.detail.record.path == path, timeout=WAIT)
    return row


def _new_photo(folder: Path, name: str, caption: str, tags: tuple[str, ...]) -> tuple[Any, FileInfo]:
    path = folder / name
    Image.new("RGB", (48, 32), (30, 160, 90)).save(path, quality=80)
    st = path.stat()
    return (result(str(path), caption=caption, tags=tags),
            FileInfo(size=st.st_size, mtime=st.st_mtime, width=48, height=32, content_hash=f"j-{name}"))


def _node_count(win: Any, path: str) -> str:
    item = win.tags.tag_model.find(path)
    if item is None:
        return ""
    parent = item.parent() or win.tags.tag_model.invisibleRootItem()
    return str(parent.child(item.row(), 1).text())


def _top(win: Any) -> Any:
    """The photo at the top left of the grid."""
    from PySide6.QtCore import QPoint

    cell = win.grid.gridSize()
    hits = (win.grid.indexAt(QPoint(cell.width() // 2, y)) for y in range(1, cell.height(), 4))
    return next(idx for idx in hits if idx.isValid())


def _typing(win: Any, caption: str, tag: str) -> None:
    """A caption and a tag being typed in the detail pane, neither saved."""
    win.detail.caption.setPlainText(caption)
    win.detail.new_tag.setText(tag)
    assert win.detail.caption_pending()


def _still_typing(win: Any, caption: str, tag: str) -> None:
    assert win.detail.caption.toPlainText() == caption
    assert win.detail.save_caption.isEnabled()
    assert win.detail.new_tag.text() == tag


def test_a_photo_moved_by_another_process_follows_where_it_is(qtbot: Any, window: Any, demo: Demo) -> None:
    old = demo.paths[-3]
    row = _select(qtbot, window, old)
    _typing(window, "half a thought", "trip|")
    new = str(Path(old).with_name("renamed.jpg"))
    Path(old).rename(new)
    with Catalog(demo.catalog) as cat:  # the service, in its own process
        cat.move_image(old, new)

    qtbot.waitUntil(lambda: window.model.row_of(new) == row, timeout=WAIT)
    assert window.model.row_of(old) == -1 and window.model.total == len(demo.paths)
    assert window.selected_paths() == [new]  # Reveal, Tag again act on the file where it is
    assert window.model.index(row).data() == "renamed.jpg"
    qtbot.waitUntil(lambda: window.detail.record.path == new, timeout=WAIT)
    qtbot.waitUntil(lambda: window.detail.preview.pixmap() is not None and not window.detail.preview.pixmap().isNull(),
                    timeout=WAIT)  # its preview, loaded where it is now
    assert "renamed.jpg" in window.detail.name.text()
    _still_typing(window, "half a thought", "trip|")


def test_a_photo_forgotten_and_brought_back_elsewhere_goes_and_comes_back(qtbot: Any, window: Any, demo: Demo) -> None:
    folder = Path(demo.paths[0]).parent
    item = _new_photo(folder, "lighthouse.jpg", "a lighthouse on a cliff", ("place|coast",))
    path = item[0].path
    with Catalog(demo.catalog) as cat:
        cat.bulk_record([item])
    qtbot.waitUntil(lambda: window.model.row_of(path) == 0, timeout=WAIT)  # the newest: first

    with Catalog(demo.catalog) as cat:  # moved out of the watched folders: forgotten, its record kept
        cat.remove_image(path)
    qtbot.waitUntil(lambda: window.model.row_of(path) == -1 and window.model.total == len(demo.paths), timeout=WAIT)
    qtbot.waitUntil(lambda: _node_count(window, "place|coast") == "", timeout=WAIT)

    back = str(folder / "lighthouse-again.jpg")
    Path(path).rename(back)
    with Catalog(demo.catalog) as cat:  # ... and back (the FileRestored of a service elsewhere)
        assert cat.restore_forgotten("j-lighthouse.jpg", back) is not None
    qtbot.waitUntil(lambda: window.model.row_of(back) >= 0, timeout=WAIT)
    assert window.model.total == len(demo.paths) + 1
    assert window.model.hit(window.model.row_of(back)).caption == "a lighthouse on a cliff"
    qtbot.waitUntil(lambda: _node_count(window, "place|coast") == "1", timeout=WAIT)
    qtbot.waitUntil(lambda: window.status.count.text().startswith(f"{len(demo.paths) + 1} images"), timeout=WAIT)


def test_photos_tagged_by_another_process_come_in_and_the_view_stays(qtbot: Any, window: Any, demo: Demo) -> None:
    """New photos are the newest: they come in at the top of the grid. Scrolled down, the person
    keeps looking at the photos they were looking at, the one selected stays selected and shown,
    and the caption and tag they are typing stay typed."""
    grid, bar = window.grid, window.grid.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0, timeout=WAIT)
    bar.setValue(bar.maximum() // 2)
    chosen = window.model.hit(_top(window).row() + 1).path
    _select(qtbot, window, chosen)
    _typing(window, "the blue one, at dusk", "mood|calm")
    before = bar.value()
    top = _top(window)
    assert top.isValid() and top.row() > 0
    top_path, top_y = window.model.hit(top.row()).path, grid.visualRect(top).top()
    assert _node_count(window, "subject|zebra") == ""

    folder = Path(demo.paths[0]).parent
    new = [_new_photo(folder, f"new_{i}.jpg", "a zebra in the grass", ("subject|zebra",)) for i in range(7)]
    with Catalog(demo.catalog) as cat:  # `autotagger tag` in a terminal
        cat.bulk_record(new)

    qtbot.waitUntil(lambda: window.model.total == len(demo.paths) + 7 and window.model.rowCount() == window.model.total,
                    timeout=WAIT)
    assert {window.model.hit(r).path for r in range(7)} == {p.path for p, _ in new}
    assert window.selected_paths() == [chosen]
    assert window.grid.currentIndex().data() == Path(chosen).name
    assert window.detail.record.path == chosen
    _still_typing(window, "the blue one, at dusk", "mood|calm")
    # the photo at the top is still there, at the same height (a column on, maybe: the rows flow)
    assert grid.visualRect(window.model.index(window.model.row_of(top_path))).top() == top_y
    assert bar.value() > before
    qtbot.waitUntil(lambda: _node_count(window, "subject|zebra") == "7", timeout=WAIT)
    assert window.status.count.text().startswith(f"{len(demo.paths) + 7} images")


def test_at_the_top_of_the_grid_new_photos_show_at_once(qtbot: Any, window: Any, demo: Demo) -> None:
    assert window.grid.verticalScrollBar().value() == 0
    item = _new_photo(Path(demo.paths[0]).parent, "fresh.jpg", "a fresh one", ("subject|fresh",))
    with Catalog(demo.catalog) as cat:
        cat.bulk_record([item])
    qtbot.waitUntil(lambda: window.model.row_of(item[0].path) == 0, timeout=WAIT)
    assert window.grid.verticalScrollBar().value() == 0


def test_a_tag_added_elsewhere_shows_in_the_pane_the_grid_and_the_tree(qtbot: Any, window: Any, demo: Demo) -> None:
    path = demo.paths[-5]
    row = _select(qtbot, window, path)
    _typing(window, "my own words", "family|")
    with Catalog(demo.catalog) as cat:  # another window, or `autotagger` on the command line
        cat.add_tags(path, ["people|grandma"])

    qtbot.waitUntil(lambda: "people|grandma" in window.detail.record.tag_paths, timeout=WAIT)
    tags = [window.detail.tags.item(r, 0).text() for r in range(window.detail.tags.rowCount())]
    assert "people|grandma" in tags
    _still_typing(window, "my own words", "family|")
    assert "people|grandma" in window.model.hit(row).tags
    assert window.selected_paths() == [path]
    qtbot.waitUntil(lambda: _node_count(window, "people|grandma") == "1", timeout=WAIT)

    with Catalog(demo.catalog) as cat:  # and a caption written there, while nothing is typed here
        window.detail.caption.setPlainText(window.detail.record.caption)
        cat.set_caption(path, "Grandma in the garden")
    qtbot.waitUntil(lambda: window.detail.caption.toPlainText() == "Grandma in the garden", timeout=WAIT)
    assert window.model.hit(row).caption == "Grandma in the garden"
    assert not window.detail.save_caption.isEnabled()


def test_a_damaged_catalogue_is_said_once(qtbot: Any, tmp_path: Path) -> None:
    """Every catalogue call fails alike on a damaged file: the grid's query, the tag tree's counts,
    the folders, the status of the service (none runs). The status bar says it once, where the
    count was; no other label, nor a message, repeats it."""
    from autotagger.config import Settings
    from autotagger.gui.app import catalog_opener
    from autotagger.gui.status import PollingLink, remote_reader
    from autotagger.gui.window import MainWindow
    from tests.catalog.helpers import damaged_catalogue

    path = damaged_catalogue(tmp_path / "catalog.sqlite3")
    said = f"catalogue {path} is damaged (database disk image is malformed); restore a backup or move it away"

    states: list[Any] = []
    win = MainWindow(Settings(catalog=str(path), model=str(tmp_path)), tmp_path / "config.toml",
                     catalog_opener(path), tmp_path / "thumbs",
                     link_factory=lambda client: PollingLink(client, remote_reader(path), interval_ms=50))
    win.link.changed.connect(states.append)
    messages: list[str] = []
    win.status.messageChanged.connect(messages.append)
    qtbot.addWidget(win)
    win.show()
    try:
        # the grid's query, the tree's counts and the service's status have all failed, the last twice
        qtbot.waitUntil(lambda: win.model.error != "" and not win._tags_busy and len(states) >= 2
                        and win.reader.pending == 0 and win.tag_reader.pending == 0, timeout=WAIT)
        shown = [win.status.count.text(), win.status.current.text(), win.status.currentMessage(), *messages]
        assert sum(text.count(said) for text in shown) == 1, shown
        assert win.status.count.text() == f"{said}  |"  # where the count was, as it is: no "search:"
        assert win.status.count.toolTip() == said
        assert win.status.current.text() == "no tagger running"
    finally:
        win.shutdown()
