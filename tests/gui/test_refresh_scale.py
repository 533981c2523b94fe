"""The live refresh at scale (changes.py): while the service tags, the tag tree is counted again
every second for hours, so its counts must not cost a catalogue query per node, and a refresh that
only changes numbers must not rebuild the tree on the GUI thread."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from autotagger.catalog import Catalog, FileInfo
from autotagger.gui.tagtree import TagTreeView, node_counts, tag_term
from tests.catalog.helpers import result

PHOTOS = {
    "a.jpg": ("color|red", "object|car|red", "setting|outdoors"),
    "b.jpg": ("color|red", "setting|indoors", "people"),
    "c.jpg": ("object|car", "object|car|blue", "people|many"),
    "d.jpg": ("color|Blue", "object|car|blue", "setting|outdoors"),
}


class CountingCatalog:
    """The catalogue, with its ``count`` calls counted."""

    def __init__(self, cat: Catalog) -> None:
        self.cat, self.counts = cat, 0

    def count(self, query: str) -> int:
        self.counts += 1
        return self.cat.count(query)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.cat, name)


def _catalog(tmp_path: Path) -> Path:
    path = tmp_path / "cat.sqlite3"
    with Catalog(path) as cat:
        for i, (name, tags) in enumerate(PHOTOS.items()):
            cat.bulk_record([(result(str(tmp_path / name), tags=tags), FileInfo(size=100 + i, mtime=1.0 + i))])
    return path


def test_node_counts_are_what_a_click_finds_without_a_query_per_node(tmp_path: Path) -> None:
    """Every node's count is the photos its tag: term finds (a name at any level: tag:red counts
    color|red and object|car|red, each photo once; a parent counts its children's photos once),
    and the catalogue's general search is not run once per node (it was: 2,000 queries, seconds,
    each refresh on 100,000 photos)."""
    with Catalog(_catalog(tmp_path), readonly=True) as cat:
        counting = CountingCatalog(cat)
        got = node_counts(counting)
        assert counting.counts == 0
        assert got.nodes, "the tree has nodes"
        for path, n in got.nodes:
            assert n == cat.count(tag_term(path)), path
        nodes = dict(got.nodes)
        assert nodes["object"] == 3 and nodes["object|car"] == 3 and nodes["people"] == 2


def test_tag_term_counts_match_count(tmp_path: Path) -> None:
    with Catalog(_catalog(tmp_path), readonly=True) as cat:
        terms = ["red", "blue", "object|car", "people", "setting", "nothing|here", "Object|CAR|Blue"]
        assert cat.tag_term_counts(terms) == [cat.count(tag_term(t)) for t in terms]


def test_new_numbers_update_the_tree_in_place(qtbot: Any) -> None:
    """The same nodes with new numbers (what the service tagging does, every second): the items stay
    the same items, only the numbers change, the open nodes stay open and the selected one selected."""
    tree = TagTreeView()
    qtbot.addWidget(tree)
    tree.set_counts([("subject", 3), ("subject|dog", 2), ("subject|cat", 1)], {"subject|dog": 2, "subject|cat": 1})
    parent, dog = tree.tag_model.find("subject"), tree.tag_model.find("subject|dog")
    assert parent is not None and dog is not None
    tree.setExpanded(parent.index(), True)
    tree.setCurrentIndex(dog.index())
    tree.set_counts([("subject", 4), ("subject|dog", 3), ("subject|cat", 1)], {"subject|dog": 3, "subject|cat": 1})
    assert tree.tag_model.find("subject|dog") is dog
    assert tree.tag_model.itemFromIndex(dog.index().siblingAtColumn(1)).text() == "3"
    assert tree.tag_model.itemFromIndex(parent.index().siblingAtColumn(1)).text() == "4"
    assert dog.toolTip() == "subject|dog: 3 photos"
    assert tree.isExpanded(parent.index()) and tree.currentIndex() == dog.index()
    tree.set_counts([("subject", 4), ("subject|dog", 3), ("subject|bird", 1)], {})  # a new name: built anew
    assert tree.tag_model.find("subject|bird") is not None and tree.tag_model.find("subject|cat") is None
