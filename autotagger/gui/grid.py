"""The main window's grid area: the thumbnail grid (saying so when a search finds nothing), its
width in whole columns, and the page shown in its place while the catalogue has no photos at all."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QListView,
    QPushButton,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from autotagger.gui.model import ImageListModel, ThumbnailDelegate
from autotagger.gui.thumbs import ThumbnailProvider

EMPTY_TEXT = "No photos yet — add a folder to watch or tag a folder"


def no_match_text(query: str) -> str:
    """What the grid says when a search finds nothing (rather than an empty white page)."""
    return f"No photos match \u201c{query}\u201d.\nClear the search to see every photo."


class ThumbnailGrid(QListView):
    """The thumbnail grid; with no photo in it, a line in its middle says why (set_empty_text)."""

    def __init__(self) -> None:
        super().__init__()
        self._empty_text = ""

    def empty_text(self) -> str:
        return self._empty_text

    def set_empty_text(self, text: str) -> None:
        """Shown while the grid has no rows ("" for nothing)."""
        if text != self._empty_text:
            self._empty_text = text
            self.viewport().update()

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        model = self.model()
        if self._empty_text and model is not None and model.rowCount() == 0:
            painter = QPainter(self.viewport())
            painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(self.viewport().rect().adjusted(16, 16, -16, -16),
                             Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self._empty_text)
            painter.end()


def thumbnail_grid(model: ImageListModel, thumbs: ThumbnailProvider) -> ThumbnailGrid:
    """The grid of ``model``'s photos, a fixed cell per thumbnail of ``thumbs``."""
    grid = ThumbnailGrid()
    grid.setViewMode(QListView.ViewMode.IconMode)
    grid.setResizeMode(QListView.ResizeMode.Adjust)
    grid.setMovement(QListView.Movement.Static)
    # every cell the same fixed box (ThumbnailDelegate): uniform sizes are then true
    grid.setUniformItemSizes(True)
    grid.setItemDelegate(ThumbnailDelegate(thumbs.edge, grid))
    # laid out in one pass, not in batches: a batched layout starts again from the first row whenever
    # rows come in (the next page, a photo tagged elsewhere), and the scroll range shrinks meanwhile,
    # which threw someone scrolled far down back up; the cells being uniform, one pass over the rows
    # loaded is cheap (about 11 ms for 100,000)
    grid.setLayoutMode(QListView.LayoutMode.SinglePass)
    grid.setIconSize(thumbs.size())
    grid.setGridSize(QSize(thumbs.edge + 12, thumbs.edge + grid.fontMetrics().height() + 18))
    grid.setSpacing(4)
    grid.setWordWrap(False)
    grid.setTextElideMode(Qt.TextElideMode.ElideMiddle)
    grid.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
    grid.setModel(model)
    return grid


def grid_width(grid: QListView, columns: int) -> int:
    """The grid's width (px) that shows ``columns`` whole thumbnail columns, scroll bar included."""
    bar = grid.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
    inner = columns * grid.gridSize().width() + 2 * grid.spacing() + 2  # the icon-mode layout's own margins
    return int(inner + bar + 2 * grid.frameWidth())


class EmptyState(QWidget):
    """What the grid area shows while the catalogue has no photos at all (the first run)."""

    def __init__(self, add_folder: Callable[[], None], tag_folder: Callable[[], None]) -> None:
        super().__init__()
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
        self.add_button = QPushButton("Add folder…")
        self.add_button.setToolTip("watch a folder (Folders tab)")
        self.add_button.clicked.connect(add_folder)
        self.tag_button = QPushButton("Tag folder…")
        self.tag_button.setToolTip("tag every photo in a folder now")
        self.tag_button.clicked.connect(tag_folder)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.tag_button)
        buttons.addStretch(1)
        lay = QVBoxLayout(self)
        lay.addStretch(1)
        lay.addWidget(text)
        lay.addWidget(hint)
        lay.addSpacing(8)
        lay.addLayout(buttons)
        lay.addStretch(2)
