"""The main window's selection: the detail pane shows the photo selected in the grid (its record
and preview), and saves what is edited there (caption, tags)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QItemSelection, QModelIndex, QTimer

from autotagger.gui import ops
from autotagger.gui.model import IdRole, PathRole
from autotagger.gui.window_parts import WindowParts


class SelectionMixin(WindowParts):
    """Selection, detail and edits, a part of MainWindow (see WindowParts)."""

    def selected_paths(self) -> list[str]:
        return [i.data(PathRole) for i in self.grid.selectionModel().selectedIndexes()]

    def detail_index(self) -> QModelIndex:
        """The grid's photo the detail pane is for: the current one when selected, else the first
        selected (invalid: none)."""
        idx = self.grid.currentIndex()
        if not idx.isValid() or not self.grid.selectionModel().isSelected(idx):
            rows = self.grid.selectionModel().selectedIndexes()
            idx = rows[0] if rows else QModelIndex()
        return idx

    def _selection_changed(self, _sel: QItemSelection, _desel: QItemSelection) -> None:
        if self.view_held():  # the rows changing in place (changes.py), not the person
            return
        idx = self.detail_index()
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

    def edit_caption(self, image_id: int, text: str) -> None:
        self._edit(ops.set_caption, image_id, text)

    def add_tags(self, image_id: int, tags: list[str]) -> None:
        self._edit(ops.add_tags, image_id, tags, on_error=lambda: self._tags_refused(image_id, tags))

    def _tags_refused(self, image_id: int, tags: list[str]) -> None:
        """Tags the catalogue refused (a control character pasted in) go back in the box, to be
        corrected rather than typed again; unless the pane moved on or something else was typed."""
        shown = self.detail.record
        if shown is not None and shown.id == image_id and not self.detail.new_tag.text():
            self.detail.new_tag.setText(", ".join(tags))

    def _edit(self, fn: Callable[..., ops.EditResult], image_id: int, value: Any,
              on_error: Callable[[], None] | None = None) -> None:
        shown = self.detail.record  # the photo edited (leaving it saves its edit before the next is shown)
        name = shown.name if shown is not None and shown.id == image_id else f"photo {image_id}"

        def failed(message: str) -> None:
            self.show_message(f"could not save {name}: {message}")
            if on_error is not None:
                on_error()

        self.writer.call(fn, image_id, value, self.settings, on_done=self._edited, on_error=failed)

    def _edited(self, result: ops.EditResult) -> None:
        rec = result.record
        if self.detail.record is not None and self.detail.record.id == rec.id:
            self.detail.show_record(rec)
        self.model.update_hit(rec.path, caption=rec.caption, tags=rec.tag_paths)
        self.show_message(result.warning or (f"saved to {result.written}" if result.written else "saved"))
        self.refresh_tags()
