"""The main window: search box, tag tree and folders, the thumbnail grid, the detail pane,
the status bar. All catalogue work runs on two catalogue threads (one reads, one edits)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QItemSelection, QSize, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDesktopServices, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QStyle,
    QTabWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from autotagger.config import Settings
from autotagger.gui import ops
from autotagger.gui.detail import DetailPane
from autotagger.gui.first_run import FirstRunPanel
from autotagger.gui.model import IdRole, ImageListModel, PathRole, ThumbnailDelegate
from autotagger.gui.panels import FailedDialog, FoldersPanel
from autotagger.gui.status import ServiceLink, ServiceState, StatusBar
from autotagger.gui.tagtree import NodeCounts, TagTreeView, node_counts, tag_term
from autotagger.gui.thumbs import ThumbnailProvider
from autotagger.gui.worker import CatalogClient

SEARCH_DEBOUNCE_MS = 250
#: The side panels' narrowest (px): the splitter shrinks them to this before the grid loses its columns.
LEFT_MIN_WIDTH, DETAIL_MIN_WIDTH = 140, 270
#: Below this many whole thumbnail columns the side panels give way to the grid.
GRID_COLUMNS_WANTED = 2
EMPTY_TEXT = "No photos yet — add a folder to watch or tag a folder"


def _drop_term(text: str, term: str) -> str:
    """``text`` without the search term ``term`` (a whole term, wherever it is)."""
    return re.sub(r"(^|\s+)" + re.escape(term) + r"(?=\s|$)", "", text).strip()


def _has_term(text: str, term: str) -> bool:
    return re.search(r"(^|\s)" + re.escape(term) + r"(?=\s|$)", text) is not None


class MainWindow(QMainWindow):
    firstPaint = Signal()  # the grid painted for the first time (benchmarks)
    settingsSaved = Signal(object)
    hideToTray = Signal()

    def __init__(
        self,
        settings: Settings,
        config_path: Path,
        open_catalog: Callable[[bool], Any],
        thumb_dir: Path,
        link_factory: Callable[[CatalogClient], ServiceLink] | None = None,
        try_fn: Any = None,
        keep_running_in_tray: bool = False,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.config_path = config_path
        self.try_fn = try_fn
        self.keep_running_in_tray = keep_running_in_tray
        self.setWindowTitle("autotagger")
        self.resize(1280, 800)
        self.status = StatusBar()
        self.search = QLineEdit()
        self.reader = CatalogClient(lambda: open_catalog(True), "catalog-read", self)
        self.writer = CatalogClient(lambda: open_catalog(False), "catalog-edit", self)
        # the tag tree's counts (one catalogue count per node) on their own thread: never in the
        # way of the grid's pages
        self.tag_reader = CatalogClient(lambda: open_catalog(True), "catalog-tags", self)
        self.reader.error.connect(self.show_message)
        self.writer.error.connect(self.show_message)
        self.thumbs = ThumbnailProvider(thumb_dir, parent=self)
        self.previews = ThumbnailProvider(thumb_dir, edge=640, memory_items=50, parent=self)

        # grid
        self.model = ImageListModel(self.reader, self.thumbs, parent=self)
        self.grid = QListView()
        self.grid.setViewMode(QListView.ViewMode.IconMode)
        self.grid.setResizeMode(QListView.ResizeMode.Adjust)
        self.grid.setMovement(QListView.Movement.Static)
        # every cell the same fixed box (ThumbnailDelegate): uniform sizes are then true
        self.grid.setUniformItemSizes(True)
        self.grid.setItemDelegate(ThumbnailDelegate(self.thumbs.edge, self.grid))
        self.grid.setLayoutMode(QListView.LayoutMode.Batched)
        self.grid.setBatchSize(200)
        self.grid.setIconSize(self.thumbs.size())
        self.grid.setGridSize(QSize(self.thumbs.edge + 12, self.thumbs.edge + self.grid.fontMetrics().height() + 18))
        self.grid.setSpacing(4)
        self.grid.setWordWrap(False)
        self.grid.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.grid.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.grid.setModel(self.model)
        self.grid.selectionModel().selectionChanged.connect(self._selection_changed)
        self.grid.viewport().installEventFilter(self)
        self._painted = False
        self.model.totalChanged.connect(self._total_changed)
        self.model.queryFailed.connect(self._query_failed)
        self.grid_stack = QStackedWidget()
        self.grid_stack.addWidget(self.grid)
        self.empty = self._empty_state()
        self.grid_stack.addWidget(self.empty)
        self.grid_stack.setMinimumWidth(self.grid_width(1))  # one whole column, whatever the panels do

        # left: tag tree and folders
        self.tags = TagTreeView()
        self.tags.tagActivated.connect(self.filter_tag)
        self._tree_terms: list[str] = []  # the tag: terms the tree put in the search box
        self._tags_busy = self._tags_again = False
        self.folders = FoldersPanel()
        self.folders.addRequested.connect(lambda d: self.writer.call(ops.add_folder, d, on_done=self.folders.set_folders))
        self.folders.removeRequested.connect(
            lambda d: self.writer.call(ops.remove_folder, d, on_done=self.folders.set_folders))
        self.folders.tagNowRequested.connect(self.tag_folder)
        self.folders.folderActivated.connect(lambda d: self.search.setText(f'folder:"{d}"'))
        folders_box = QScrollArea()  # narrow, the panel's buttons scroll rather than squeeze
        folders_box.setWidgetResizable(True)
        folders_box.setFrameShape(QFrame.Shape.NoFrame)
        folders_box.setWidget(self.folders)
        left = self.left = QTabWidget()
        left.addTab(self.tags, "Tags")
        left.addTab(folders_box, "Folders")
        left.setMinimumWidth(LEFT_MIN_WIDTH)

        # right: detail
        self.detail = DetailPane()
        self.detail.captionEdited.connect(self.edit_caption)
        self.detail.tagsAdded.connect(lambda i, t: self._edit(ops.add_tags, i, t))
        self.detail.tagsRemoved.connect(lambda i, t: self._edit(ops.remove_tags, i, t))
        self.previews.ready.connect(self._preview_ready)

        self.detail.setMinimumWidth(DETAIL_MIN_WIDTH)
        split = self.split = QSplitter()
        split.setChildrenCollapsible(False)
        split.addWidget(left)
        split.addWidget(self.grid_stack)
        split.addWidget(self.detail)
        split.setStretchFactor(0, 0)
        split.setStretchFactor(1, 1)
        split.setStretchFactor(2, 0)
        self._side_widths = (240, 360)  # what the side panels get when there is room (a drag sets them)
        split.setSizes([240, 700, 360])
        split.splitterMoved.connect(self._splitter_moved)
        split.installEventFilter(self)
        self.notice = FirstRunPanel()
        self.notice.modelReady.connect(lambda path: self.show_message(f"model ready: {path}"))
        central = QWidget()
        lay = QVBoxLayout(central)
        lay.setContentsMargins(4, 4, 4, 0)
        lay.addWidget(self.notice)
        lay.addWidget(split, 1)
        self.setCentralWidget(central)

        # toolbar and search
        self.search.setPlaceholderText('Search: words, tag:setting|outdoors, folder:…, after:2024-01-01, camera:…')
        self.search.setClearButtonEnabled(True)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(SEARCH_DEBOUNCE_MS)
        self._debounce.timeout.connect(self.apply_search)
        self.search.textChanged.connect(lambda _t: self._debounce.start())
        self.search.returnPressed.connect(self.apply_search)
        tb = QToolBar("Main")
        tb.setMovable(False)
        self.addToolBar(tb)
        tb.addWidget(self.search)
        self.actions_: dict[str, QAction] = {}
        for key, text, slot, shortcut in (
            ("retag", "Tag again", self.retag_selected, "Ctrl+T"),
            ("folder", "Tag folder…", self.choose_folder_to_tag, ""),
            ("undo", "Remove our tags", self.undo_selected, ""),
            ("reveal", "Reveal", self.reveal_selected, ""),
            ("copy", "Copy caption", self.copy_caption, "Ctrl+Shift+C"),
            ("settings", "Settings…", self.open_settings, "Ctrl+,"),
        ):
            act = QAction(text, self)
            act.triggered.connect(slot)
            if shortcut:
                act.setShortcut(QKeySequence(shortcut))
            tb.addAction(act)
            self.actions_[key] = act

        self.setStatusBar(self.status)
        self.status.failedClicked.connect(self.show_failed)
        self._last_done = -1
        self._warnings_source, self._warnings_seen = "", 0
        self.link: ServiceLink | None = link_factory(self.reader) if link_factory else None
        if self.link is not None:
            self.link.changed.connect(self._service_changed)
            self.status.pauseToggled.connect(lambda on: self.link.pause() if on else self.link.resume())
            self._service_changed(self.link.state)

        self.show_model_notice()
        self.model.set_query("")
        self.refresh_side()

    # -- painting ---------------------------------------------------------------------------------
    def eventFilter(self, obj: Any, event: Any) -> bool:
        from PySide6.QtCore import QEvent

        if not self._painted and obj is self.grid.viewport() and event.type() == QEvent.Type.Paint \
                and self.model.rowCount() > 0:
            self._painted = True
            QTimer.singleShot(0, self.firstPaint.emit)
        if obj is getattr(self, "split", None) and event.type() == QEvent.Type.Resize:
            QTimer.singleShot(0, self._fit_panels)  # once the splitter has shared out its new width
        return super().eventFilter(obj, event)

    # -- layout -----------------------------------------------------------------------------------
    def grid_width(self, columns: int) -> int:
        """The grid's width (px) that shows ``columns`` whole thumbnail columns, scroll bar included."""
        bar = self.grid.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        inner = columns * self.grid.gridSize().width() + 2 * self.grid.spacing() + 2  # the icon-mode layout's own margins
        return int(inner + bar + 2 * self.grid.frameWidth())

    def _splitter_moved(self, _pos: int, _index: int) -> None:
        sizes = self.split.sizes()
        self._side_widths = (sizes[0], sizes[2])

    def _fit_panels(self) -> None:
        """The side panels take the width they had (or were dragged to) while the grid keeps
        ``GRID_COLUMNS_WANTED`` columns; in a narrower window they give way first, down to their
        minimum, and only then does the grid (never below one column, its minimum width)."""
        sizes = self.split.sizes()
        total = sum(sizes)
        if len(sizes) != 3 or total <= 0:
            return
        mins = (self.left.minimumWidth(), self.detail.minimumWidth())
        want = list(self._side_widths)
        room = total - self.grid_width(GRID_COLUMNS_WANTED)
        if want[0] + want[1] > room:  # share what is left above their minimums in proportion
            spare = [max(0, w - m) for w, m in zip(want, mins, strict=True)]
            give = max(0, room - mins[0] - mins[1])
            if sum(spare) > 0:
                want = [m + min(sp, give * sp // sum(spare)) for m, sp in zip(mins, spare, strict=True)]
            else:
                want = list(mins)
        new = [want[0], total - want[0] - want[1], want[1]]
        if new != sizes:
            self.split.setSizes(new)

    def _empty_state(self) -> QWidget:
        """What the grid area shows while the catalogue has no photos at all (the first run)."""
        page = QWidget()
        text = QLabel(EMPTY_TEXT)
        text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        text.setWordWrap(True)
        font = text.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        text.setFont(font)
        hint = QLabel("A watched folder is tagged by the tagger service as photos arrive; "
                      "“Tag folder…” tags every photo in a folder now.")
        hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        hint.setWordWrap(True)
        hint.setStyleSheet("color:#777;")
        self.empty_add = QPushButton("Add folder…")
        self.empty_add.setToolTip("watch a folder (Folders tab)")
        self.empty_add.clicked.connect(self.add_folder)
        self.empty_tag = QPushButton("Tag folder…")
        self.empty_tag.setToolTip("tag every photo in a folder now")
        self.empty_tag.clicked.connect(self.choose_folder_to_tag)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.empty_add)
        buttons.addWidget(self.empty_tag)
        buttons.addStretch(1)
        lay = QVBoxLayout(page)
        lay.addStretch(1)
        lay.addWidget(text)
        lay.addWidget(hint)
        lay.addSpacing(8)
        lay.addLayout(buttons)
        lay.addStretch(2)
        return page

    def add_folder(self) -> None:
        """The Folders tab's "Add…": choose a folder to watch (shown in the Folders tab)."""
        self.left.setCurrentIndex(1)
        self.folders._add()  # the panel's own dialog and addRequested, wired above

    def show_message(self, text: str, msecs: int = 8000) -> None:
        self.status.showMessage(" ".join(text.split()), msecs)

    def show_model_notice(self) -> None:
        self.notice.set_model(self.settings.model)

    # -- search and filters -----------------------------------------------------------------------
    def apply_search(self) -> None:
        self._debounce.stop()
        query = self.search.text().strip()
        if query != self.model.query:
            self.model.set_query(query)  # the count says "searching…" at once: an old error goes
            self.detail.clear()

    def _total_changed(self, n: int) -> None:
        self.status.set_count(self.model.rowCount(), n)
        if n >= 0:  # a catalogue with no photos at all: say what to do instead of an empty grid
            first_run = n == 0 and not self.model.query
            self.grid_stack.setCurrentWidget(self.empty if first_run else self.grid)

    def _query_failed(self, message: str) -> None:
        self.status.clearMessage()  # the error shows where the count was, until the next search
        self.status.set_query_error(message)

    def filter_tag(self, path: str, add: bool = False) -> None:
        """A click on a tag in the tree shows that tag: it replaces the tags the tree put in the
        search before (words and terms typed stay); a click on the one tag shown clears it. With
        ``add`` (Ctrl-click) the tag is added to those shown (all must match), or taken out."""
        term = tag_term(path)
        text = self.search.text().strip()
        shown = _has_term(text, term)
        others = [t for t in self._tree_terms if t != term and _has_term(text, t)]  # still there
        if add:
            if shown:
                text = _drop_term(text, term)
                self._tree_terms = others
            else:
                text = f"{text} {term}".strip()
                self._tree_terms = [*others, term]
        else:
            for t in others:
                text = _drop_term(text, t)
            if shown and not others:  # the tag shown, clicked again: show all
                text = _drop_term(text, term)
                self._tree_terms = []
            else:
                text = text if shown else f"{text} {term}".strip()
                self._tree_terms = [term]
        if not self._tree_terms:
            self.tags.clearSelection()
        self.search.setText(text)
        self.apply_search()

    def refresh_side(self) -> None:
        self.refresh_tags()
        self.reader.call(ops.list_folders, on_done=self.folders.set_folders)

    def refresh_tags(self) -> None:
        """The tag tree's counts again, off the GUI thread; asked again while counting: once more after."""
        if self._tags_busy:
            self._tags_again = True
            return
        self._tags_busy, self._tags_again = True, False
        self.tag_reader.call(node_counts, on_done=self._got_tag_counts, on_error=self._tag_counts_failed)

    def _got_tag_counts(self, counts: NodeCounts) -> None:
        self._tags_busy = False
        self.tags.set_counts(counts)
        if self._tags_again:
            self.refresh_tags()

    def _tag_counts_failed(self, message: str) -> None:
        self._tags_busy = False
        self.show_message(f"tags: {message}")
        if self._tags_again:
            self.refresh_tags()

    # -- selection and detail ---------------------------------------------------------------------
    def selected_paths(self) -> list[str]:
        return [i.data(PathRole) for i in self.grid.selectionModel().selectedIndexes()]

    def _selection_changed(self, _sel: QItemSelection, _desel: QItemSelection) -> None:
        idx = self.grid.currentIndex()
        if not idx.isValid() or not self.grid.selectionModel().isSelected(idx):
            rows = self.grid.selectionModel().selectedIndexes()
            idx = rows[0] if rows else idx
        if not idx.isValid():
            self.detail.clear()
            return
        image_id, path = idx.data(IdRole), idx.data(PathRole)
        for provider in (self.thumbs, self.previews):  # a photo that failed before: try it again
            if path in provider.errors:
                provider.retry(path)
        self.reader.call(ops.get_image, image_id, on_done=self._show_record)
        pm = self.previews.get(path)
        if pm is not None:
            QTimer.singleShot(0, lambda: self._preview_ready(path))

    def _show_record(self, rec: Any) -> None:
        cur = self.grid.currentIndex()
        if rec is not None and cur.isValid() and cur.data(IdRole) != rec.id and self.detail.record is None:
            return
        self.detail.show_record(rec)
        if rec is not None and self.previews.get(rec.path) is not None:
            self._preview_ready(rec.path)

    def _preview_ready(self, path: str) -> None:
        """The preview came (or cannot: then why, "File not found: …", in its place)."""
        error = self.previews.describe_error(path)
        self.detail.set_preview(path, None if error else self.previews.get(path), error)

    # -- edits ------------------------------------------------------------------------------------
    def edit_caption(self, image_id: int, text: str) -> None:
        self._edit(ops.set_caption, image_id, text)

    def _edit(self, fn: Callable[..., ops.EditResult], image_id: int, value: Any) -> None:
        self.writer.call(fn, image_id, value, self.settings, on_done=self._edited,
                         on_error=lambda m: self.show_message(f"could not save: {m}"))

    def _edited(self, result: ops.EditResult) -> None:
        rec = result.record
        if self.detail.record is not None and self.detail.record.id == rec.id:
            self.detail.show_record(rec)
        self.model.update_hit(rec.path, caption=rec.caption, tags=rec.tag_paths)
        self.show_message(result.warning or (f"saved to {result.written}" if result.written else "saved"))
        self.refresh_tags()

    # -- actions ----------------------------------------------------------------------------------
    def retag_selected(self) -> None:
        paths = self.selected_paths()
        if paths:
            self.writer.call(ops.retag, paths, on_done=lambda n: self.show_message(f"{n} image(s) queued"))

    def choose_folder_to_tag(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        d = QFileDialog.getExistingDirectory(self, "Tag every photo in a folder now")
        if d:
            self.tag_folder(d)

    def tag_folder(self, folder: str) -> None:
        self.writer.call(ops.tag_folder, folder, self.settings.recursive,
                         on_done=lambda n: self.show_message(f"{n} photo(s) in {folder} queued"))

    def undo_selected(self) -> None:
        paths = self.selected_paths()
        if not paths:
            return
        answer = QMessageBox.question(
            self, "Remove our tags",
            f"Remove the tags and caption the tagger wrote from {len(paths)} file(s)? A person's own stay.")
        if answer == QMessageBox.StandardButton.Yes:
            self.writer.call(ops.undo, paths, self.settings.sidecar_name, on_done=self._undone)

    def _undone(self, failures: list[tuple[str, str]]) -> None:
        self.show_message("; ".join(f"{os.path.basename(p)}: {e}" for p, e in failures) or "our tags removed")
        self.model.refresh()
        self.refresh_side()
        if self.detail.record is not None:  # the pane shows the record as the catalogue has it now
            self.reader.call(ops.get_image, self.detail.record.id, on_done=self._reload_record)

    def _reload_record(self, rec: Any) -> None:
        shown = self.detail.record
        if rec is not None and shown is not None and shown.id == rec.id:
            self.detail.show_record(rec)

    def reveal_selected(self) -> None:
        paths = self.selected_paths()
        if paths:
            reveal_in_file_manager(paths[0])

    def copy_caption(self) -> None:
        rec = self.detail.record
        if rec is not None:
            QGuiApplication.clipboard().setText(rec.caption or "")
            self.show_message("caption copied")

    def open_settings(self) -> None:
        from autotagger.gui.settings_dialog import SettingsDialog

        path = self.detail.record.path if self.detail.record is not None else ""
        dlg = SettingsDialog(self.settings, self.config_path, self.try_fn, path, self)
        if dlg.exec() and dlg.saved is not None:
            self.settings = dlg.saved
            self.show_model_notice()
            self.settingsSaved.emit(dlg.saved)
            self.show_message(f"settings saved to {self.config_path}")

    def show_failed(self) -> None:
        def show(failures: list[tuple[str, str]]) -> None:
            dlg = FailedDialog(failures, self)
            dlg.retryRequested.connect(
                lambda paths: self.writer.call(ops.retry_failed, paths,
                                               on_done=lambda n: self.show_message(f"{n} file(s) queued again")))
            dlg.exec()

        self.reader.call(ops.failed_files, on_done=show)

    # -- service ----------------------------------------------------------------------------------
    def _service_changed(self, state: ServiceState) -> None:
        self.status.set_state(state, bool(self.link and self.link.can_pause))
        if state.done != self._last_done and self._last_done >= 0:
            self.refresh_side()  # new tags came in
            if self.grid_stack.currentWidget() is self.empty:
                self.model.refresh()  # the first photos: the grid instead of the first-run hint
        self._last_done = state.done
        self._show_new_warnings(state)

    def _show_new_warnings(self, state: ServiceState) -> None:
        """The service's warnings, in this process or elsewhere (its state file): those not shown yet."""
        if state.source == "catalogue":  # no service running: nothing said
            return
        if state.source != self._warnings_source or state.warnings_said < self._warnings_seen:
            self._warnings_source, self._warnings_seen = state.source, 0  # another service, or another run
        new = state.warnings_said - self._warnings_seen
        for message in state.warnings[-new:] if new > 0 else ():  # more than it keeps: all it keeps
            self.status.add_warning(message)
        self._warnings_seen = state.warnings_said

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.keep_running_in_tray:
            event.ignore()
            self.hide()
            self.hideToTray.emit()
            return
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        if self.link is not None:
            self.link.stop()
        self.thumbs.shutdown()
        self.previews.shutdown()
        self.notice.shutdown()
        self.reader.shutdown()
        self.tag_reader.shutdown()
        self.writer.shutdown()


def reveal_in_file_manager(path: str) -> None:
    """Show the file selected in the platform's file manager (its folder, where that is all we can do)."""
    if sys.platform == "darwin":
        subprocess.Popen(["open", "-R", path])
    elif sys.platform == "win32":
        subprocess.Popen(["explorer", "/select,", os.path.normpath(path)])
    else:
        try:
            from PySide6.QtDBus import QDBusConnection, QDBusInterface

            iface = QDBusInterface("org.freedesktop.FileManager1", "/org/freedesktop/FileManager1",
                                   "org.freedesktop.FileManager1", QDBusConnection.sessionBus())
            if iface.isValid():
                iface.call("ShowItems", [QUrl.fromLocalFile(path).toString()], "")
                return
        except ImportError:
            pass
        QDesktopServices.openUrl(QUrl.fromLocalFile(os.path.dirname(path)))
