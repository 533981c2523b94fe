"""A tag or folder whose name holds a double quote, clicked in the window, finds its photo: the
term put in the search box is quoted through ``quote_value`` (the quotes were taken for quoting,
and ``nickname|"Bear"`` searched ``nickname|Bear``: another photo, or a query error)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from autotagger.gui.panels import PathRole
from autotagger.gui.tagtree import TagPathRole
from tests.gui.conftest import Demo, make_demo, model_result

BEAR = 'nickname|"Bear"'
PARTY = "Mike's \"Party\""


@pytest.fixture
def demo(tmp_path: Path) -> Demo:
    """A small demo, plus bear.jpg in ``Mike's "Party"`` (a watched folder) tagged ``nickname|"Bear"``
    and other.jpg in ``Mike's Party`` tagged ``nickname|Bear``: what the old terms found instead."""
    from PIL import Image

    from autotagger.catalog import Catalog, FileInfo
    from autotagger.types import Tag

    base = make_demo(tmp_path, 8)
    items, paths = [], []
    for folder, name, tag in ((PARTY, "bear.jpg", BEAR), ("Mike's Party", "other.jpg", "nickname|Bear")):
        p = base.root / folder / name
        p.parent.mkdir()
        Image.new("RGB", (48, 32), (90, 60, 30)).save(p)
        st = p.stat()
        res = dataclasses.replace(model_result(str(p), 0), tags=(Tag(tag, 0.9, "nickname"),))
        items.append((res, FileInfo(size=st.st_size, mtime=st.st_mtime, width=48, height=32)))
        paths.append(str(p))
    with Catalog(base.catalog) as cat:
        cat.bulk_record(items)
        cat.add_folder(str(base.root / PARTY))
    return dataclasses.replace(base, paths=[*base.paths, *paths])


def _shows_only(window, path: str) -> bool:  # type: ignore[no-untyped-def]
    return (window.model.total == 1 and not window.model.loading and window.model.rowCount() == 1
            and window.model.hit(0).path == path)


def test_clicking_a_tag_with_quotes_finds_its_photo(qtbot, window, demo: Demo) -> None:
    tree = window.tags
    qtbot.waitUntil(lambda: tree.tag_model.find(BEAR) is not None, timeout=5000)
    parent = tree.tag_model.find("nickname")
    assert parent is not None
    tree.expand(parent.index())
    item = tree.tag_model.find(BEAR)
    assert item is not None and item.data(TagPathRole) == BEAR
    # the node's count is its own term's count (1), not nickname|Bear's
    assert tree.tag_model.itemFromIndex(item.index().siblingAtColumn(1)).text() == "1"
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=tree.visualRect(item.index()).center())
    bear = str(demo.root / PARTY / "bear.jpg")
    qtbot.waitUntil(lambda: _shows_only(window, bear), timeout=5000)
    assert window.search.text() == 'tag:"nickname|\\"Bear\\""'
    assert window.status.count.text().startswith("1 image")


def test_double_clicking_a_folder_with_quotes_finds_its_photo(qtbot, window, demo: Demo) -> None:
    folder = str(demo.root / PARTY)
    panel = window.folders
    window.left.setCurrentIndex(1)  # the Folders tab
    window.refresh_side()

    def item():  # type: ignore[no-untyped-def]
        found = [panel.list.item(r) for r in range(panel.list.count()) if panel.list.item(r).data(PathRole) == folder]
        return found[0] if found else None

    qtbot.waitUntil(lambda: item() is not None, timeout=5000)
    rect = panel.list.visualItemRect(item())
    # Qt's item views take a double-click as the second press of a click: press, release, then it
    qtbot.mouseClick(panel.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(panel.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.search.text() == f'folder:"{demo.root}/Mike\'s \\"Party\\""'
    qtbot.waitUntil(lambda: _shows_only(window, str(demo.root / PARTY / "bear.jpg")), timeout=5000)
    assert window.status.count.text().startswith("1 image")
