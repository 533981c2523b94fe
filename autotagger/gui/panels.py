"""Small side widgets: the watched-folders panel and the failed-files dialog."""

from __future__ import annotations

from collections.abc import Mapping

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
    QListWidgetItem,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

PathRole = Qt.ItemDataRole.UserRole
SourceRole = Qt.ItemDataRole.UserRole + 1  # "" = the catalogue's; else where an extra folder comes from


def extra_folders_source(environ: Mapping[str, str] | None = None) -> str:
    """Where the settings' extra ``folders`` come from, in words for a label."""
    from autotagger.config import environment_overrides

    return "AUTOTAGGER_FOLDERS" if "folders" in environment_overrides(environ) else "settings file"


class FoldersPanel(QWidget):
    """The one list of watched folders: the catalogue's (add and remove go there), then the extra
    ``folders`` of the settings (config file or AUTOTAGGER_FOLDERS), marked, which are edited there.
    The main window's Folders tab and Settings > Watching both show it."""

    addRequested = Signal(str)
    removeRequested = Signal(str)  # a catalogue folder
    removeExtraRequested = Signal(str)  # an extra folder from the settings file (only with extras_removable)
    tagNowRequested = Signal(str)
    folderActivated = Signal(str)  # filter the grid on this folder

    def __init__(self, parent: QWidget | None = None, tag_now: bool = True) -> None:
        super().__init__(parent)
        self._catalog: list[str] = []
        self._extras: list[str] | None = None  # None: not handed over, see extra_folders()
        self._source = ""
        self.extras_removable = False
        self.list = QListWidget()
        self.list.itemDoubleClicked.connect(lambda it: self.folderActivated.emit(it.data(PathRole)))
        self.list.currentItemChanged.connect(lambda *_: self._update_buttons())
        add = QPushButton("Add…")
        add.clicked.connect(self._add)
        self.remove = QPushButton("Remove")
        self.remove.clicked.connect(self._remove)
        self.tag_now = QPushButton("Tag now")
        self.tag_now.setToolTip("queue every photo in the selected folder")
        self.tag_now.clicked.connect(self._tag_now)
        self.tag_now.setVisible(tag_now)
        row = QHBoxLayout()
        for b in (add, self.remove, self.tag_now):
            row.addWidget(b)
        if not tag_now:
            row.addStretch(1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.list)
        lay.addLayout(row)

    def set_folders(self, folders: list[str]) -> None:
        """The catalogue's folders (what ops.list_folders gives)."""
        self._catalog = [str(f) for f in folders]
        self._fill()

    def set_extra_folders(self, folders: list[str], source: str = "") -> None:
        """The settings' extra folders and where they come from (extra_folders_source())."""
        self._extras = list(folders)
        self._source = source or extra_folders_source()
        self._fill()

    def extra_folders(self) -> list[str]:
        """The extras shown. Until set_extra_folders is called, those of the window's settings."""
        if self._extras is not None:
            return self._extras
        settings = getattr(self.window(), "settings", None)
        return list(getattr(settings, "folders", None) or [])

    def _fill(self) -> None:
        from autotagger.config import union_folders

        current = self._selected()
        self.list.clear()
        source = self._source or extra_folders_source()
        for path in union_folders(self._catalog, self.extra_folders()):
            extra = path not in self._catalog
            item = QListWidgetItem(f"{path}  ({source})" if extra else path)
            item.setData(PathRole, path)
            item.setData(SourceRole, source if extra else "")
            if extra:
                font = item.font()
                font.setItalic(True)
                item.setFont(font)
                item.setToolTip(f"{path}\nan extra folder from the {source} (folders); it is edited there")
            else:
                item.setToolTip(path)
            self.list.addItem(item)
            if path == current:
                self.list.setCurrentItem(item)
        self._update_buttons()

    def folders(self) -> list[str]:
        """Every folder shown: the catalogue's, then the extras."""
        return [self.list.item(i).data(PathRole) for i in range(self.list.count())]

    def catalog_folders(self) -> list[str]:
        return list(self._catalog)

    def _selected(self) -> str:
        item = self.list.currentItem()
        return str(item.data(PathRole)) if item else ""

    def _selected_is_extra(self) -> bool:
        item = self.list.currentItem()
        return bool(item is not None and item.data(SourceRole))

    def _removable(self) -> bool:
        item = self.list.currentItem()
        if item is None:
            return False
        source = item.data(SourceRole)
        return not source or (self.extras_removable and source == "settings file")

    def _update_buttons(self) -> None:
        self.remove.setEnabled(self._removable())
        self.remove.setToolTip(
            "" if self._removable() or not self._selected_is_extra()
            else "this folder comes from AUTOTAGGER_FOLDERS or the settings file: edit it there")

    def _add(self) -> None:
        d = QFileDialog.getExistingDirectory(self, "Watch a folder")
        if d:
            self.addRequested.emit(d)

    def _remove(self) -> None:
        if not (self._selected() and self._removable()):
            return
        if self._selected_is_extra():
            self.removeExtraRequested.emit(self._selected())
        else:
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
