"""What the main window's parts (search, selection, actions, service_view) may use of it: the
widgets and clients MainWindow builds, and the methods one part offers the others. Declared once,
here, so that each part is type-checked against the same window."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QLineEdit, QListView, QMainWindow, QStackedWidget

from autotagger.config import Settings
from autotagger.gui.detail import DetailPane
from autotagger.gui.grid import EmptyState
from autotagger.gui.model import ImageListModel
from autotagger.gui.panels import FoldersPanel
from autotagger.gui.status import StatusBar
from autotagger.gui.tagtree import TagTreeView
from autotagger.gui.thumbs import ThumbnailProvider
from autotagger.gui.worker import CatalogClient


class WindowParts(QMainWindow):
    """The base of MainWindow's parts; MainWindow builds every attribute named here."""

    settings: Settings
    config_path: Path
    try_fn: Any
    search: QLineEdit
    model: ImageListModel
    grid: QListView
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
