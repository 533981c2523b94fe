"""The main window's three panes side by side (tag tree and folders, the grid, the detail pane):
how the splitter shares out its width among them."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QListView, QSplitter, QWidget

from autotagger.gui.grid import grid_width

#: The side panels' narrowest (px): the splitter shrinks them to this before the grid loses its columns.
LEFT_MIN_WIDTH, DETAIL_MIN_WIDTH = 140, 270
#: Below this many whole thumbnail columns the side panels give way to the grid.
GRID_COLUMNS_WANTED = 2


class SidePanelWidths(QObject):
    """Keeps the side panels of ``split`` (``left`` and ``detail``, the grid between them) at the
    width they had, or were dragged to, as the splitter is resized."""

    def __init__(self, split: QSplitter, left: QWidget, grid: QListView, detail: QWidget,
                 widths: tuple[int, int]) -> None:
        super().__init__(split)
        self.split, self.left, self.grid, self.detail = split, left, grid, detail
        self.widths = widths  # what the side panels get when there is room (a drag sets them)
        split.splitterMoved.connect(self._splitter_moved)
        split.installEventFilter(self)

    def eventFilter(self, obj: Any, event: Any) -> bool:
        if obj is self.split and event.type() == QEvent.Type.Resize:
            QTimer.singleShot(0, self.fit)  # once the splitter has shared out its new width
        return super().eventFilter(obj, event)

    def _splitter_moved(self, _pos: int, _index: int) -> None:
        sizes = self.split.sizes()
        self.widths = (sizes[0], sizes[2])

    def fit(self) -> None:
        """The side panels take the width they had (or were dragged to) while the grid keeps
        ``GRID_COLUMNS_WANTED`` columns; in a narrower window they give way first, down to their
        minimum, and only then does the grid (never below one column, its minimum width)."""
        sizes = self.split.sizes()
        total = sum(sizes)
        if len(sizes) != 3 or total <= 0:
            return
        mins = (self.left.minimumWidth(), self.detail.minimumWidth())
        want = list(self.widths)
        room = total - grid_width(self.grid, GRID_COLUMNS_WANTED)
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
