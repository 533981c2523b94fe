"""The tag tree: hierarchical keywords ("setting|outdoors") with counts; a click filters the grid."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QTreeView, QWidget

TagPathRole = Qt.ItemDataRole.UserRole + 10


def build_tree(counts: Iterable[tuple[str, int]]) -> dict[str, tuple[int, dict]]:  # type: ignore[type-arg]
    """Nested ``{name: (count, children)}``. A parent's count is its own plus its children's
    (an image tagged with two children of one parent may be counted twice: the catalogue gives
    per-path counts only)."""
    root: dict[str, list] = {}  # type: ignore[type-arg]
    for path, n in counts:
        node = root
        for part in [p for p in path.split("|") if p]:
            entry = node.setdefault(part, [0, {}])
            entry[0] += n
            node = entry[1]

    def freeze(d: dict[str, list]) -> dict[str, tuple[int, dict]]:  # type: ignore[type-arg]
        return {k: (v[0], freeze(v[1])) for k, v in sorted(d.items(), key=lambda kv: kv[0].lower())}

    return freeze(root)


class TagTreeModel(QStandardItemModel):
    def __init__(self) -> None:
        super().__init__()
        self.setHorizontalHeaderLabels(["Tag", "Images"])

    def set_counts(self, counts: Iterable[tuple[str, int]]) -> None:
        self.removeRows(0, self.rowCount())
        tree = build_tree(counts)

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
                parent.appendRow([item, num])
                add(item, children, path)

        add(self.invisibleRootItem(), tree, "")

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
    """The query term for a tag path, quoted when it has spaces."""
    return f'tag:"{path}"' if any(c.isspace() for c in path) else f"tag:{path}"


class TagTreeView(QTreeView):
    tagActivated = Signal(str)  # the tag path clicked

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tag_model = TagTreeModel()
        self.setModel(self.tag_model)
        self.setUniformRowHeights(True)
        self.setHeaderHidden(False)
        self.clicked.connect(lambda idx: self.tagActivated.emit(idx.data(TagPathRole)))

    def set_counts(self, counts: Iterable[tuple[str, int]]) -> None:
        expanded = self._expanded_paths()
        self.tag_model.set_counts(counts)
        for path in expanded:
            item = self.tag_model.find(path)
            if item is not None:
                self.setExpanded(item.index(), True)
        self.resizeColumnToContents(1)

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
