"""Small side widgets: the watched-folders panel and the failed-files dialog."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)


class FoldersPanel(QWidget):
    addRequested = Signal(str)
    removeRequested = Signal(str)
    tagNowRequested = Signal(str)
    folderActivated = Signal(str)  # filter the grid on this folder

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.list = QListWidget()
        self.list.itemDoubleClicked.connect(lambda it: self.folderActivated.emit(it.text()))
        add = QPushButton("Add…")
        add.clicked.connect(self._add)
        self.remove = QPushButton("Remove")
        self.remove.clicked.connect(self._remove)
        self.tag_now = QPushButton("Tag now")
        self.tag_now.setToolTip("queue every photo in the selected folder")
        self.tag_now.clicked.connect(self._tag_now)
        row = QHBoxLayout()
        for b in (add, self.remove, self.tag_now):
            row.addWidget(b)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.list)
        lay.addLayout(row)

    def set_folders(self, folders: list[str]) -> None:
        self.list.clear()
        self.list.addItems(folders)

    def folders(self) -> list[str]:
        return [self.list.item(i).text() for i in range(self.list.count())]

    def _selected(self) -> str:
        item = self.list.currentItem()
        return item.text() if item else ""

    def _add(self) -> None:
        d = QFileDialog.getExistingDirectory(self, "Watch a folder")
        if d:
            self.addRequested.emit(d)

    def _remove(self) -> None:
        if self._selected():
            self.removeRequested.emit(self._selected())

    def _tag_now(self) -> None:
        if self._selected():
            self.tagNowRequested.emit(self._selected())


class FailedDialog(QDialog):
    retryRequested = Signal(list)  # paths; [] = all

    def __init__(self, failures: list[tuple[str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Files that could not be tagged")
        self.resize(760, 360)
        self.table = QTableWidget(len(failures), 2)
        self.table.setHorizontalHeaderLabels(["File", "Error"])
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        for r, (path, err) in enumerate(failures):
            self.table.setItem(r, 0, QTableWidgetItem(path))
            item = QTableWidgetItem(err)
            item.setToolTip(err)
            self.table.setItem(r, 1, item)
        self.table.resizeColumnToContents(0)
        retry_sel = QPushButton("Retry selected")
        retry_sel.clicked.connect(self._retry_selected)
        retry_all = QPushButton("Retry all")
        retry_all.clicked.connect(self._retry_all)
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        box.rejected.connect(self.reject)
        box.addButton(retry_sel, QDialogButtonBox.ButtonRole.ActionRole)
        box.addButton(retry_all, QDialogButtonBox.ButtonRole.ActionRole)
        lay = QVBoxLayout(self)
        msg = QLabel(f"{len(failures)} file(s) failed." if failures else "No failed files.")
        msg.setAlignment(Qt.AlignmentFlag.AlignLeft)
        lay.addWidget(msg)
        lay.addWidget(self.table)
        lay.addWidget(box)

    def _retry_all(self) -> None:
        self.retryRequested.emit([])
        self.accept()

    def _retry_selected(self) -> None:
        rows = sorted({i.row() for i in self.table.selectedIndexes()})
        paths = [it.text() for it in (self.table.item(r, 0) for r in rows) if it is not None]
        if paths:
            self.retryRequested.emit(paths)
            self.accept()
