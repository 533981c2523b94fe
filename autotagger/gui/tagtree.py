"""The tag tree: hierarchical keywords ("setting|outdoors") with counts; a click filters the grid.

A node's count is what a click on it shows: the catalogue's count for its ``tag:`` term
(:func:`node_counts`, run on a catalogue thread), not a sum of its children's counts, which counts
a photo tagged "people" and "people|many" twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QItemSelectionModel, Qt, Signal
from PySide6.QtGui import QMouseEvent, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QHeaderView, QTreeView, QWidget

from autotagger.catalog.query import fold_tag, normalise_tag, quote_value

TagPathRole = Qt.ItemDataRole.UserRole + 10


@dataclass(frozen=True)
class NodeCounts:
    """What the tree shows: ``nodes`` the count of every node (prefix) path, as its click finds;
    ``exact`` how many photos carry exactly that tag (the catalogue's per-path counts)."""

    nodes: list[tuple[str, int]] = field(default_factory=list)
    exact: dict[str, int] = field(default_factory=dict)


def node_paths(paths: Iterable[str]) -> list[str]:
    """Every node of the tree for these tag paths: each path and all its prefixes, in tree order."""
    out: dict[str, None] = {}
    for path in paths:
        parts = [p for p in path.split("|") if p]
        for k in range(1, len(parts) + 1):
            out.setdefault("|".join(parts[:k]), None)
    return list(out)


def spellings(paths: Iterable[str]) -> dict[str, str]:
    """Each tag path's spelling in the tree: ``tag:`` matches regardless of case (beyond ASCII), so
    the spellings an older catalogue kept apart (place|Église, place|église; migration 5 keeps both)
    are one node, named as the first path given (the most used: tag_counts' order) spells it, at
    every level."""
    first: dict[str, str] = {}  # folded node path (fold_tag) -> the node path shown
    out: dict[str, str] = {}
    for path in paths:
        parts = [p for p in path.split("|") if p]
        shown = ""
        for k in range(1, len(parts) + 1):
            key = fold_tag("|".join(parts[:k]))  # the catalogue's own key for one tag
            shown = first.setdefault(key, f"{shown}|{parts[k - 1]}" if shown else parts[k - 1])
        out[path] = shown
    return out


def node_counts(catalog: Any) -> NodeCounts:
    """Run on a catalogue thread: each node's count is what ``catalog.count(tag_term(node))`` gives,
    exactly the photos a click on it lists (a tag used bare and as a parent counts each photo once).
    The catalogue is asked only for the nodes whose term matches more than one tag path (a parent,
    a name used under several parents, twin spellings); a node matching one path has that path's
    count from ``tag_counts``, already read. On 100,000 photos with 2,000 tags that is a few hundred
    counts instead of one query per node, every refresh while the service tags (benchmarks/gui_refresh.py).
    """
    counts = [(str(p), int(n)) for p, n in catalog.tag_counts()]
    shown = spellings(p for p, _n in counts)
    exact: dict[str, int] = {}
    for p, n in counts:  # twin spellings summed: an upper bound (a photo may carry both)
        exact[shown[p]] = exact.get(shown[p], 0) + n
    matching = _matching_paths(counts)
    nodes: list[tuple[str, int]] = []
    asked: list[str] = []  # the nodes matching several paths: counted by the catalogue, in one read
    for path in node_paths(exact):
        hits = matching.get((fold_tag(normalise_tag(path)), "|" in path), [])
        if len(hits) == 1:  # one tag path: its photos are its count
            nodes.append((path, hits[0]))
        else:
            nodes.append((path, -1))
            asked.append(path)
    if asked:
        answers = dict(zip(asked, catalog.tag_term_counts(asked), strict=True))
        nodes = [(p, answers[p] if n < 0 else n) for p, n in nodes]
    return NodeCounts(nodes, exact)


def _matching_paths(counts: Iterable[tuple[str, int]]) -> dict[tuple[str, bool], list[int]]:
    """The counts of the tag paths each ``tag:`` term matches, by (folded term, has a "|"), as the
    catalogue matches them (Catalog._tag_ids_matching): ``tag:a|b`` that path and the paths below
    it, ``tag:b`` every path with ``b`` at any level."""
    out: dict[tuple[str, bool], list[int]] = {}
    for path, n in counts:
        parts = fold_tag(path).split("|")
        for k in range(2, len(parts) + 1):
            out.setdefault(("|".join(parts[:k]), True), []).append(n)
        for part in dict.fromkeys(parts):
            out.setdefault((part, False), []).append(n)
    return out


def build_tree(counts: Iterable[tuple[str, int]]) -> dict[str, tuple[int, dict]]:  # type: ignore[type-arg]
    """Nested ``{name: (count, children)}`` from ``(path, count)`` pairs, where a path's count is
    that node's own (what its ``tag:`` term matches, :func:`node_counts`). A node given no count of
    its own (only a child's path was given) shows the sum of its children's counts, an upper bound."""
    given: dict[str, int] = {}
    root: dict[str, list] = {}  # type: ignore[type-arg]
    for path, n in counts:
        parts = [p for p in path.split("|") if p]
        if not parts:
            continue
        given["|".join(parts)] = given.get("|".join(parts), 0) + n
        node = root
        for part in parts:
            node = node.setdefault(part, [0, {}])[1]

    def freeze(d: dict[str, list], prefix: str) -> dict[str, tuple[int, dict]]:  # type: ignore[type-arg]
        out: dict[str, tuple[int, dict]] = {}  # type: ignore[type-arg]
        for name, (_n, kids) in sorted(d.items(), key=lambda kv: kv[0].lower()):
            path = f"{prefix}|{name}" if prefix else name
            children = freeze(kids, path)
            n = given[path] if path in given else sum(c[0] for c in children.values())
            out[name] = (n, children)
        return out

    return freeze(root, "")


def _shape(tree: dict[str, tuple[int, dict]]) -> tuple[tuple[str, object], ...]:  # type: ignore[type-arg]
    """The tree's names, nested, without the counts."""
    return tuple((name, _shape(children)) for name, (_n, children) in tree.items())


def _tip(path: str, name: str, n: int, has_children: bool, own: int) -> str:
    tip = f"{path}: {n} photo{'s' if n != 1 else ''}"
    if has_children and own:
        tip += f" ({own} tagged \u201c{name}\u201d itself)"
    return tip


class TagTreeModel(QStandardItemModel):
    def __init__(self) -> None:
        super().__init__()
        self.setHorizontalHeaderLabels(["Tag", "Images"])
        self._shape: object = None  # the tree's names, nested (set_counts: same shape, update in place)
        self._items: dict[str, tuple[QStandardItem, QStandardItem]] = {}  # path -> (name, count)

    def set_counts(self, counts: Iterable[tuple[str, int]], exact: Mapping[str, int] | None = None) -> bool:
        """The tree for these counts; True when it was built anew. When it has the same nodes as now
        (the service tagging changes numbers, seldom names) only the numbers and tips that changed are
        set: rebuilding 2,000 nodes held the GUI thread for tens of ms on every refresh."""
        tree = build_tree(counts)
        exact = exact or {}
        shape = _shape(tree)
        if shape == self._shape:
            self._update(tree, exact)
            return False
        self._shape = shape
        self._items = {}
        self.removeRows(0, self.rowCount())

        def add(parent: QStandardItem, nodes: dict, prefix: str) -> None:  # type: ignore[type-arg]
            for name, (n, children) in nodes.items():
                path = f"{prefix}|{name}" if prefix else name
                item = QStandardItem(name)
                item.setData(path, TagPathRole)
                item.setEditable(False)
                num = QStandardItem(str(n))
                num.setEditable(False)
                num.setData(path, TagPathRole)
                num.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                tip = _tip(path, name, n, bool(children), exact.get(path, 0))
                item.setToolTip(tip)
                num.setToolTip(tip)
                parent.appendRow([item, num])
                self._items[path] = (item, num)
                add(item, children, path)

        add(self.invisibleRootItem(), tree, "")
        return True

    def _update(self, tree: dict[str, tuple[int, dict]], exact: Mapping[str, int]) -> None:  # type: ignore[type-arg]
        def walk(nodes: dict, prefix: str) -> None:  # type: ignore[type-arg]
            for name, (n, children) in nodes.items():
                path = f"{prefix}|{name}" if prefix else name
                item, num = self._items[path]
                if num.text() != str(n):
                    num.setText(str(n))
                tip = _tip(path, name, n, bool(children), exact.get(path, 0))
                if item.toolTip() != tip:
                    item.setToolTip(tip)
                    num.setToolTip(tip)
                walk(children, path)

        walk(tree, "")

    def find(self, path: str) -> QStandardItem | None:
        parent = self.invisibleRootItem()
        item = None
        for part in path.split("|"):
            item = None
            for r in range(parent.rowCount()):
                child = parent.child(r, 0)
                if child.text() == part:
                    item = child
                    break
            if item is None:
                return None
            parent = item
        return item


def tag_term(path: str) -> str:
    """The query term for a tag path: quoted when it has spaces or quotes (``quote_value``), so that
    a name such as ``nickname|"Bear"`` finds its photos, not another name's or a query error."""
    return f"tag:{quote_value(path)}"


class TagTreeView(QTreeView):
    tagActivated = Signal(str, bool)  # the tag path clicked; True: Ctrl-click (add to the filter)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tag_model = TagTreeModel()
        self.setModel(self.tag_model)
        self.setUniformRowHeights(True)
        self.setHeaderHidden(False)
        # the names take the width; the count column is as narrow as its numbers
        header = self.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.setToolTip("Click: show this tag. Ctrl-click: add it to the search. Click again: show all.")
        self._add_modifier = False
        self._shown: tuple[list[tuple[str, int]], dict[str, int]] | None = None  # set_counts
        self.clicked.connect(lambda idx: self.tagActivated.emit(idx.data(TagPathRole), self._add_modifier))

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        mods = event.modifiers()
        self._add_modifier = bool(mods & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.MetaModifier))
        super().mouseReleaseEvent(event)

    def set_counts(self, counts: Iterable[tuple[str, int]] | NodeCounts, exact: Mapping[str, int] | None = None) -> None:
        """The tree for these counts. Counted again after every change to the catalogue (changes.py):
        the same counts leave the tree alone, new ones keep the nodes open, the tag selected and the
        scroll position as they were."""
        if isinstance(counts, NodeCounts):
            exact = counts.exact
            counts = counts.nodes
        shown = (list(counts), dict(exact or {}))
        if shown == self._shown:
            return
        self._shown = shown
        expanded = self._expanded_paths()
        current = self.currentIndex().data(TagPathRole) if self.selectionModel().hasSelection() else None
        scroll = self.verticalScrollBar().value()
        if not self.tag_model.set_counts(*shown):
            return  # the same nodes, their numbers updated in place: nothing open or selected moved
        for path in expanded:
            item = self.tag_model.find(path)
            if item is not None:
                self.setExpanded(item.index(), True)
        item = self.tag_model.find(current) if current else None
        if item is not None:
            flags = QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
            self.selectionModel().setCurrentIndex(item.index(), flags)
        self.verticalScrollBar().setValue(scroll)

    def _expanded_paths(self) -> list[str]:
        out: list[str] = []

        def walk(item: QStandardItem) -> None:
            for r in range(item.rowCount()):
                child = item.child(r, 0)
                if self.isExpanded(child.index()):
                    out.append(child.data(TagPathRole))
                    walk(child)

        walk(self.tag_model.invisibleRootItem())
        return out
