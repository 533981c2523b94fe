"""What the main window's parts (search, selection, actions, service_view, changes) may use of it: the
widgets and clients MainWindow builds, and the methods one part offers the others. Declared once,
here, so that each part is type-checked against the same window."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QItemSelection, QModelIndex
from PySide6.QtWidgets import QLineEdit, QMainWindow, QStackedWidget

from autotagger.config import Settings
from autotagger.gui.detail import DetailPane
from autotagger.gui.grid import EmptyState, ThumbnailGrid
from autotagger.gui.model import ImageListModel
from autotagger.gui.panels import FoldersPanel
from autotagger.gui.status import StatusBar
from autotagger.gui.tagtree import TagTreeView
from autotagger.gui.thumbs import ThumbnailProvider
from autotagger.gui.worker import CatalogClient

if TYPE_CHECKING:
    from autotagger.gui.changes import CatalogWatch


class WindowParts(QMainWindow):
    """The base of MainWindow's parts; MainWindow builds every attribute named here."""

    settings: Settings
    config_path: Path
    try_fn: Any
    search: QLineEdit
    model: ImageListModel
    grid: ThumbnailGrid
    grid_stack: QStackedWidget
    empty: EmptyState
    detail: DetailPane
    tags: TagTreeView
    folders: FoldersPanel
    status: StatusBar
    thumbs: ThumbnailProvider
    previews: ThumbnailProvider
    reader: CatalogClient
    writer: CatalogClient
    tag_reader: CatalogClient
    # offered by one part (or the window) to the others
    show_message: Callable[[str], None]
    show_model_notice: Callable[[], None]
    selected_paths: Callable[[], list[str]]
    refresh_side: Callable[[], None]
    refresh_tags: Callable[[], None]
    detail_index: Callable[[], QModelIndex]
    said_already: Callable[[str], bool]
    watch: CatalogWatch
    view_held: Callable[[], bool]
    _selection_changed: Callable[[QItemSelection, QItemSelection], None]
