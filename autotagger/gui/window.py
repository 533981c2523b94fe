"""The main window: search box, tag tree and folders, the thumbnail grid, the detail pane,
the status bar. All catalogue work runs on two catalogue threads (one reads, one edits).

The window builds and wires the widgets; its parts hold the behaviour: search and filters
(search), the detail pane and its edits (selection), the actions (actions), the service's
state (service_view), changes made elsewhere (changes); the grid area (grid) and the panes' widths
(panes) are their own.

A catalogue that fails as a whole (damaged, cannot be opened) fails every call on every catalogue
thread, the service's status included: the window says it once, in the status bar where the count
was (catalog_problem), and drops the other messages that would only repeat it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QShowEvent
from PySide6.QtWidgets import (
    QFrame,
    QLineEdit,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from autotagger.config import Settings
from autotagger.gui import ops
from autotagger.gui.actions import ActionsMixin, reveal_in_file_manager
from autotagger.gui.changes import ChangesMixin
from autotagger.gui.detail import DetailPane
from autotagger.gui.first_run import FirstRunPanel
from autotagger.gui.grid import EMPTY_TEXT, EmptyState, grid_width, thumbnail_grid
from autotagger.gui.model import ImageListModel
from autotagger.gui.panels import FoldersPanel
from autotagger.gui.panes import DETAIL_MIN_WIDTH, GRID_COLUMNS_WANTED, LEFT_MIN_WIDTH, SidePanelWidths
from autotagger.gui.search import SEARCH_DEBOUNCE_MS, SearchMixin
from autotagger.gui.selection import SelectionMixin
from autotagger.gui.service_view import ServiceMixin
from autotagger.gui.status import ServiceLink, StatusBar
from autotagger.gui.tagtree import TagTreeView
from autotagger.gui.thumbs import ThumbnailProvider
from autotagger.gui.worker import CatalogClient

__all__ = [
    "DETAIL_MIN_WIDTH",
    "EMPTY_TEXT",
    "GRID_COLUMNS_WANTED",
    "LEFT_MIN_WIDTH",
    "SEARCH_DEBOUNCE_MS",
    "MainWindow",
    "reveal_in_file_manager",
]


class MainWindow(SearchMixin, SelectionMixin, ActionsMixin, ServiceMixin, ChangesMixin):
    firstPaint = Signal()  # the grid painted for the first time (benchmarks)
    hideToTray = Signal()
    # settingsSaved(Settings): ActionsMixin's, after Settings… saved them

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
        self._problems: set[str] = set()  # the catalogue's own failures, said once (catalog_problem)
        for client in (self.reader, self.writer, self.tag_reader):
            client.error.connect(self.show_message)
            client.catalogError.connect(self.catalog_problem)
        self.thumbs = ThumbnailProvider(thumb_dir, parent=self)
        self.previews = ThumbnailProvider(thumb_dir, edge=640, memory_items=50, parent=self)

        # grid
        self.model = ImageListModel(self.reader, self.thumbs, parent=self)
        self.grid = thumbnail_grid(self.model, self.thumbs)
        self.grid.selectionModel().selectionChanged.connect(self._selection_changed)
        self.grid.viewport().installEventFilter(self)
        self._painted = False
        self.model.totalChanged.connect(self._total_changed)
        self.model.queryFailed.connect(self._query_failed)
        self.grid_stack = QStackedWidget()
        self.grid_stack.addWidget(self.grid)
        self.empty = EmptyState(self.add_folder, self.choose_folder_to_tag)
        self.empty_add, self.empty_tag = self.empty.add_button, self.empty.tag_button
        self.grid_stack.addWidget(self.empty)
        self.grid_stack.setMinimumWidth(self.grid_width(1))  # one whole column, whatever the panels do

        # left: tag tree and folders
        self.tags = TagTreeView()
        self.tags.tagActivated.connect(self.filter_tag)
        self.folders = FoldersPanel()
        self.folders.addRequested.connect(lambda d: self.writer.call(ops.add_folder, d, on_done=self.folders.set_folders))
        self.folders.removeRequested.connect(
            lambda d: self.writer.call(ops.remove_folder, d, on_done=self.folders.set_folders))
        self.folders.tagNowRequested.connect(self.tag_folder)
        self.folders.folderActivated.connect(self.filter_folder)
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
        self.detail.tagsAdded.connect(self.add_tags)
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
        split.setSizes([240, 700, 360])
        self.side_widths = SidePanelWidths(split, left, self.grid, self.detail, (240, 360))
        self.notice = FirstRunPanel()
        self.notice.modelReady.connect(lambda path: self.show_message(f"model ready: {path}"))
        central = QWidget()
        lay = QVBoxLayout(central)
        lay.setContentsMargins(4, 4, 4, 0)
        lay.addWidget(self.notice)
        lay.addWidget(split, 1)
        self.setCentralWidget(central)

        # toolbar and search
        self._setup_search()
        tb = QToolBar("Main")
        tb.setMovable(False)
        self.addToolBar(tb)
        tb.addWidget(self.search)
        self.actions_ = self._add_actions(tb)

        self.setStatusBar(self.status)
        self.status.failedClicked.connect(self.show_failed)
        self._watch_catalog()  # before the first query: changes count from before it reads
        self._connect_service(link_factory(self.reader) if link_factory else None)

        self.show_model_notice()
        self.model.set_query("")
        self.refresh_side()

    def eventFilter(self, obj: Any, event: Any) -> bool:
        if not self._painted and obj is self.grid.viewport() and event.type() == QEvent.Type.Paint \
                and self.model.rowCount() > 0:
            self._painted = True
            QTimer.singleShot(0, self.firstPaint.emit)
        return super().eventFilter(obj, event)

    def grid_width(self, columns: int) -> int:
        """The grid's width (px) that shows ``columns`` whole thumbnail columns, scroll bar included."""
        return grid_width(self.grid, columns)

    def add_folder(self) -> None:
        """The Folders tab's "Add…": choose a folder to watch (shown in the Folders tab)."""
        self.left.setCurrentIndex(1)
        self.folders._add()  # the panel's own dialog and addRequested, wired above

    def show_message(self, text: str, msecs: int = 8000) -> None:
        if not self.said_already(text):
            self.status.showMessage(" ".join(text.split()), msecs)

    def catalog_problem(self, message: str) -> None:
        """The catalogue failed as a whole (CatalogClient.catalogError): said in the status bar, once."""
        self._problems.add(message)
        self.status.set_catalog_error(message)

    def said_already(self, text: str) -> bool:
        """``text`` only repeats the catalogue's failure, which the status bar says already
        (whatever a caller put before it: "tags: ", "could not save NAME: ")."""
        return any(problem in text for problem in self._problems)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.watch.poll()  # hidden (in the tray), the catalogue was not watched

    def show_model_notice(self) -> None:
        self.notice.set_model(self.settings.model)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.keep_running_in_tray:
            event.ignore()
            self.hide()
            self.hideToTray.emit()
            return
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        self.watch.stop()
        if self.link is not None:
            self.link.stop()
        self.thumbs.shutdown()
        self.previews.shutdown()
        self.notice.shutdown()
        self.reader.shutdown()
        self.tag_reader.shutdown()
        self.writer.shutdown()
