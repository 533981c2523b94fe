"""Changes made to the catalogue by anyone else, shown in the window as they happen: the tagger
service (in another process or in this one), ``autotagger tag`` in a terminal, another window.

One mechanism for them all: SQLite's ``PRAGMA data_version`` on the reader's own connection
(Catalog.data_version) changes whenever another connection commits, and costs nothing to ask. It is
polled every second (and at once when the service in this process says it did something); when it
moved, the grid's rows are brought up to date in place (ImageListModel.reload), the tag tree's
counts and the folders are read again, and the detail pane gets the photo's record as it is now.
What the person is doing stays as it was: the photos selected and current, the photo at the top of
the grid, and a caption or tag being typed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QItemSelection, QItemSelectionModel, QModelIndex, QObject, QPoint, QTimer, Signal

from autotagger.gui import ops
from autotagger.gui.model import IdRole
from autotagger.gui.window_parts import WindowParts
from autotagger.gui.worker import CatalogClient

#: How often the window asks the catalogue whether someone changed it (ms).
CHANGES_POLL_MS = 1000


def data_version(catalog: Any) -> int:
    return int(catalog.data_version())


class CatalogWatch(QObject):
    """Emits ``changed`` when another connection committed to the catalogue since the last poll.
    Polls on ``client``'s thread every ``interval_ms`` while ``active()`` (the window is shown), and
    at once on ``poll()``. A poll that fails says nothing: the catalogue's own failure is said once
    by the window (CatalogClient.catalogError), and any other is met again by the next poll."""

    changed = Signal()

    def __init__(self, client: CatalogClient, interval_ms: int = CHANGES_POLL_MS,
                 active: Callable[[], bool] = lambda: True, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._client = client
        self._active = active
        self._seen: int | None = None
        self._busy = self._again = False
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)
        self._timer.start()
        self.poll()  # the first answer is where changes count from

    def _tick(self) -> None:
        if self._active():
            self.poll()

    def poll(self) -> None:
        if self._busy:
            self._again = True  # asked while asking: once more after, a change may have come between
            return
        self._busy, self._again = True, False
        self._client.call(data_version, on_done=self._got, on_error=self._failed)

    def _got(self, version: int) -> None:
        self._busy = False
        seen, self._seen = self._seen, version
        if seen is not None and version != seen:
            self.changed.emit()
        if self._again:
            self.poll()

    def _failed(self, _message: str) -> None:
        self._busy = False

    def stop(self) -> None:
        self._timer.stop()


@dataclass(frozen=True)
class HeldView:
    """What the person had in the grid before its rows changed: the photos selected and current,
    and whether it was scrolled to the very top (where new photos come in, and it stays), else the
    photo at its top with that photo's distance from the top."""

    selected: tuple[int, ...]
    current: int | None
    at_top: bool
    top: tuple[int, int] | None


class ChangesMixin(WindowParts):
    """Changes made elsewhere, a part of MainWindow (see WindowParts)."""

    def _watch_catalog(self) -> None:
        self._held: HeldView | None = None
        # hidden or minimised: no refresh (the next poll once shown sees the change still)
        self.watch = CatalogWatch(self.reader, active=lambda: self.isVisible() and not self.isMinimized(),
                                  parent=self)
        self.watch.changed.connect(self.catalog_changed)
        self.model.rowsAboutToReload.connect(self._hold_view)
        self.model.rowsReloaded.connect(self._restore_view)

    def catalog_changed(self) -> None:
        """The catalogue changed: the grid, the tag tree and folders, and the detail pane as it is now."""
        self.model.reload()
        self.refresh_side()
        shown = self.detail.record
        if shown is not None:
            image_id = shown.id
            self.reader.call(ops.get_image, image_id, on_done=lambda rec: self._record_changed(image_id, rec))

    def view_held(self) -> bool:
        """The grid's rows are being changed in place: its selection signals are not the person's."""
        return self._held is not None

    # -- the detail pane -------------------------------------------------------------------------
    def _record_changed(self, image_id: int, rec: Any) -> None:
        """The photo shown, as the catalogue has it now: shown again when it changed (a caption
        being typed stays, see DetailPane.show_record), its preview loaded again where it moved."""
        shown = self.detail.record
        if rec is None or shown is None or shown.id != image_id or rec == shown:
            return
        if self.writer.pending:  # an edit of ours is on its way: its record comes, and a reload after it
            return
        self.detail.show_record(rec)
        if rec.path != shown.path and self.previews.get(rec.path) is not None:  # else previews.ready brings it
            self.detail.set_preview(rec.path, self.previews.get(rec.path))

    # -- the grid --------------------------------------------------------------------------------
    def _top_photo(self) -> QModelIndex:
        """The photo in the grid's top row, at its left."""
        step = max(4, self.grid.gridSize().height() // 8)
        x = self.grid.gridSize().width() // 2
        for y in range(1, self.grid.gridSize().height() + step, step):
            idx = self.grid.indexAt(QPoint(x, y))
            if idx.isValid():
                return idx
        return QModelIndex()

    def _hold_view(self) -> None:
        sel = self.grid.selectionModel()
        current = self.grid.currentIndex()
        at_top = self.grid.verticalScrollBar().value() == 0
        idx = QModelIndex() if at_top else self._top_photo()
        self._held = HeldView(
            tuple(int(i.data(IdRole)) for i in sel.selectedIndexes()),
            int(current.data(IdRole)) if current.isValid() else None,
            at_top,
            (int(idx.data(IdRole)), self.grid.visualRect(idx).top()) if idx.isValid() else None,
        )

    def _restore_view(self) -> None:
        """After the rows changed: the same photos selected and current (a photo whose place in the
        order changed is selected again where it is now), the same photo at the top, and the detail
        pane on the photo current now (it changes only when that photo went)."""
        held = self._held
        if held is None:
            return
        rows = {int(self.model.hit(r).id): r for r in range(self.model.rowCount())}
        sel = self.grid.selectionModel()
        wanted = QItemSelection()
        for image_id in held.selected:
            if image_id in rows:
                idx = self.model.index(rows[image_id])
                wanted.select(idx, idx)
        if {i.row() for i in sel.selectedIndexes()} != {i.row() for i in wanted.indexes()}:
            sel.select(wanted, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        current = self.grid.currentIndex()
        if held.current in rows and (not current.isValid() or current.data(IdRole) != held.current):
            sel.setCurrentIndex(self.model.index(rows[held.current]), QItemSelectionModel.SelectionFlag.NoUpdate)
        bar = self.grid.verticalScrollBar()
        if held.at_top:
            bar.setValue(0)
        elif held.top is not None and held.top[0] in rows:
            self.grid.doItemsLayout()  # the rows' places now (one pass, see grid.py), not at the next layout
            rect = self.grid.visualRect(self.model.index(rows[held.top[0]]))
            bar.setValue(bar.value() + rect.top() - held.top[1])
        self._held = None
        idx, shown = self.detail_index(), self.detail.record
        if (idx.data(IdRole) if idx.isValid() else None) != (shown.id if shown is not None else None):
            self._selection_changed(QItemSelection(), QItemSelection())  # the photo shown went
