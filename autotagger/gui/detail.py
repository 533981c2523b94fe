"""Detail pane: preview, editable caption, tags with confidence, question answers, file metadata.

The pane only shows a record (a plain value) and emits what the person asked for; the window
runs the edit on the catalogue thread and calls :meth:`show_record` with the result.

An edit not yet saved (a changed caption, a tag typed but not added) is saved, as its button
would, when the pane leaves the photo (another photo shown, or none): moving on never throws
typing away, and no question stops someone going through photos with the arrow keys.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from PySide6.QtCore import QItemSelectionModel, Qt, QTimer, Signal
from PySide6.QtGui import QFont, QPixmap, QResizeEvent, QTextLayout, QTextOption
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)


def _fmt_size(n: int | None) -> str:
    if not n:
        return ""
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return ""


TIME_FORMAT = "%Y-%m-%d %H:%M"
CAPTION_MIN_LINES, CAPTION_MAX_LINES = 3, 12


def _fmt_time(value: Any) -> str:
    """A time as ``2024-06-01 18:30``: an epoch number or a zoned ISO stamp (the tagging time,
    "…Z") in local time; a plain ISO stamp (a camera's capture time) as it is."""
    if value in (None, "", 0):
        return ""
    if isinstance(value, (int, float)):
        return _dt.datetime.fromtimestamp(value).strftime(TIME_FORMAT)
    text = str(value).strip()
    if len(text) == 10:  # a date alone
        try:
            return _dt.date.fromisoformat(text).isoformat()
        except ValueError:
            return text
    iso = text[:-1] + "+00:00" if text[-1:] in ("Z", "z") else text
    try:
        when = _dt.datetime.fromisoformat(iso)
    except ValueError:
        return text
    if when.tzinfo is not None:
        when = when.astimezone()  # local time
    return when.strftime(TIME_FORMAT)


def _wrapped_lines(text: str, font: QFont, width: int, most: int) -> int:
    """How many lines ``text`` takes wrapped at ``width`` pixels as a text box wraps it (no more than ``most``)."""
    option = QTextOption()
    option.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
    n = 0
    for para in text.split("\n"):
        layout = QTextLayout(para, font)
        layout.setTextOption(option)
        layout.beginLayout()
        while n <= most:
            line = layout.createLine()
            if not line.isValid():
                break
            line.setLineWidth(width)
            n += 1
        layout.endLayout()
        if n > most:
            break
    return n


def _fmt_conf(value: float | None) -> str:
    return "" if value is None else f"{value:.0%}"


class DetailPane(QWidget):
    captionEdited = Signal(int, str)  # image id, new caption
    tagsAdded = Signal(int, list)
    tagsRemoved = Signal(int, list)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.record: Any = None
        self._caption_dirty = False  # the caption box differs from the record's, not saved yet
        self.preview = QLabel("No image selected")
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setWordWrap(True)
        self.preview.setMinimumHeight(220)
        self.preview.setStyleSheet("background:#222; color:#aaa;")
        self.name = QLabel()
        self.name.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.name.setWordWrap(True)
        self.source = QLabel()
        self.source.setStyleSheet("color:#777;")

        self.caption = QPlainTextEdit()
        self.caption.setPlaceholderText("No caption yet")
        self.caption.textChanged.connect(self._caption_changed)
        self.caption.textChanged.connect(self._fit_caption)
        self.caption.installEventFilter(self)  # a new width re-wraps the text: fit it again
        self.save_caption = QPushButton("Save caption")
        self.save_caption.setEnabled(False)
        self.save_caption.clicked.connect(self._save_caption)

        self.tags = QTableWidget(0, 3)
        self.tags.setHorizontalHeaderLabels(["Tag", "Confidence", "By"])
        self.tags.verticalHeader().setVisible(False)
        self.tags.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.tags.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.tags.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.new_tag = QLineEdit()
        self.new_tag.setPlaceholderText("add a tag, e.g. people|family")
        hint = self.new_tag.fontMetrics().horizontalAdvance(self.new_tag.placeholderText())
        self.new_tag.setMinimumWidth(hint + 24)  # the whole hint shows
        self.new_tag.returnPressed.connect(self._add_tag)
        self.add_tag = QPushButton("Add")
        self.add_tag.clicked.connect(self._add_tag)
        self.remove_tag = QPushButton("Remove selected")
        self.remove_tag.clicked.connect(self._remove_tags)

        self.answers = QTableWidget(0, 3)
        self.answers.setHorizontalHeaderLabels(["Question", "Answer", "Confidence"])
        self.answers.verticalHeader().setVisible(False)
        self.answers.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.answers.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)

        self.meta = QFormLayout()
        self.meta_labels: dict[str, QLabel] = {}
        for key in ("Folder", "Size", "Dimensions", "Captured", "Camera", "Status", "Model", "Tagged"):
            lab = QLabel()
            lab.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            lab.setWordWrap(True)
            self.meta_labels[key] = lab
            self.meta.addRow(key + ":", lab)

        self._fit_table(self.tags, 0)
        self._fit_table(self.answers, 0)
        body = self.body = QWidget()
        lay = QVBoxLayout(body)
        lay.addWidget(self.preview)
        lay.addWidget(self.name)
        cap_box = QGroupBox("Caption")
        cl = QVBoxLayout(cap_box)
        cl.addWidget(self.caption)
        row = QHBoxLayout()
        row.addWidget(self.source, 1)
        row.addWidget(self.save_caption)
        cl.addLayout(row)
        lay.addWidget(cap_box)
        tag_box = QGroupBox("Tags")
        tl = QVBoxLayout(tag_box)
        tl.addWidget(self.tags)
        tl.addWidget(self.new_tag)  # a row of its own: the whole hint shows in a narrow pane
        row = QHBoxLayout()
        row.addWidget(self.add_tag)
        row.addStretch(1)
        row.addWidget(self.remove_tag)
        tl.addLayout(row)
        lay.addWidget(tag_box)
        ans_box = QGroupBox("Answers")
        QVBoxLayout(ans_box).addWidget(self.answers)
        lay.addWidget(ans_box)
        meta_box = QGroupBox("File")
        meta_box.setLayout(self.meta)
        lay.addWidget(meta_box)
        lay.addStretch(1)

        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(body)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        self.setMinimumWidth(270)  # the window's splitter gives the grid room first, see MainWindow
        self._set_enabled(False)
        self._fit_caption()

    @staticmethod
    def _fit_table(table: QTableWidget, rows: int, least: int = 3, most: int = 8) -> None:
        """The table as tall as its rows (``least`` to ``most`` of them; more scroll)."""
        shown = min(max(rows, least), most)
        height = table.horizontalHeader().sizeHint().height() + shown * table.verticalHeader().defaultSectionSize()
        table.setFixedHeight(int(height + 2 * table.frameWidth() + 2))

    def eventFilter(self, obj: Any, event: Any) -> bool:
        if obj is self.caption and isinstance(event, QResizeEvent) and event.oldSize().width() != event.size().width():
            QTimer.singleShot(0, self._fit_caption)  # once the box has laid out its new width
        return super().eventFilter(obj, event)

    def _fit_caption(self) -> None:
        """The caption box is as tall as its text (wrapped at its width), from 3 lines up to 12;
        longer text scrolls."""
        box = self.caption
        fm = box.fontMetrics()
        width = max(1, box.viewport().width() - 2 * int(box.document().documentMargin()))
        lines = min(max(_wrapped_lines(box.toPlainText(), box.font(), width, CAPTION_MAX_LINES), CAPTION_MIN_LINES),
                    CAPTION_MAX_LINES)
        margins = box.contentsMargins()
        height = int(lines * fm.lineSpacing() + 2 * box.document().documentMargin() + margins.top() + margins.bottom()
                     + 2 * box.frameWidth())
        if box.height() != height:
            box.setFixedHeight(height)

    def _set_enabled(self, on: bool) -> None:
        for w in (self.caption, self.tags, self.new_tag, self.add_tag, self.remove_tag):
            w.setEnabled(on)

    # -- showing ---------------------------------------------------------------------------------
    def caption_pending(self) -> bool:
        """The caption box holds an edit not saved yet."""
        return self.record is not None and self._caption_dirty

    def save_pending(self) -> None:
        """Save what was typed and not saved yet (the caption, a tag not added), as the buttons would."""
        if self.record is None:
            return
        if self.caption_pending():
            self._save_caption()
        if self.new_tag.text().strip():
            self._add_tag()

    def clear(self) -> None:
        self.save_pending()
        self.record = None
        self.preview.setPixmap(QPixmap())
        self.preview.setText("No image selected")
        self.name.clear()
        self.caption.blockSignals(True)
        self.caption.setPlainText("")
        self.caption.blockSignals(False)
        self._caption_dirty = False
        self.save_caption.setEnabled(False)
        self.tags.setRowCount(0)
        self.answers.setRowCount(0)
        for lab in self.meta_labels.values():
            lab.clear()
        self._set_enabled(False)

    def show_record(self, rec: Any) -> None:
        if rec is None:
            self.clear()
            return
        same = self.record is not None and self.record.id == rec.id
        if not same:
            self.save_pending()  # leaving a photo saves its edit, never drops it
        draft = same and self.caption_pending()  # another edit came back (a tag): keep the caption typed
        self.record = rec
        self._set_enabled(True)
        self.name.setText(f"<b>{rec.name}</b>")
        if not draft:
            self.caption.blockSignals(True)
            self.caption.setPlainText(rec.caption or "")
            self.caption.blockSignals(False)
            self._fit_caption()
        self._caption_changed()
        src = rec.caption_source or ""
        self.source.setText({"person": "written by a person", "": ""}.get(src, f"by {src}"))
        chosen = set(self._selected_tags()) if same else set()  # the same photo again: its tags selected stay
        self.tags.clearSelection()
        self.tags.setRowCount(len(rec.tags))
        for r, t in enumerate(rec.tags):
            self.tags.setItem(r, 0, QTableWidgetItem(t.path))
            self.tags.setItem(r, 1, QTableWidgetItem(_fmt_conf(t.confidence)))
            self.tags.setItem(r, 2, QTableWidgetItem(t.source or ""))
            if t.path in chosen:
                self.tags.selectionModel().select(
                    self.tags.model().index(r, 0),
                    QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows)
        self.tags.resizeColumnsToContents()
        self.tags.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self._fit_table(self.tags, len(rec.tags))
        self.answers.setRowCount(len(rec.answers))
        for r, a in enumerate(rec.answers):
            q = QTableWidgetItem(a.question_id.replace("_", " "))
            q.setToolTip(a.prompt)
            self.answers.setItem(r, 0, q)
            self.answers.setItem(r, 1, QTableWidgetItem(a.answer))
            self.answers.setItem(r, 2, QTableWidgetItem(_fmt_conf(a.confidence)))
        self._fit_table(self.answers, len(rec.answers))
        m = self.meta_labels
        m["Folder"].setText(rec.folder or "")
        m["Size"].setText(_fmt_size(rec.size))
        m["Dimensions"].setText(f"{rec.width} × {rec.height}" if rec.width and rec.height else "")
        m["Captured"].setText(_fmt_time(rec.captured_at))
        m["Camera"].setText(rec.camera or "")
        status = rec.status or ""
        m["Status"].setText(f"{status}: {rec.error}" if rec.error else status)
        m["Model"].setText(rec.model_id or "")
        m["Tagged"].setText(_fmt_time(rec.tagged_at))
        if not same:
            self.preview.setPixmap(QPixmap())
            self.preview.setText("loading…")

    def set_preview(self, path: str, pm: QPixmap | None, error: str = "") -> None:
        """The preview of the photo shown; ``error`` (one line: "File not found: …", "Cannot show
        this photo: …") instead when it cannot come."""
        if self.record is None or self.record.path != path:
            return
        if error or pm is None or pm.isNull():
            self.preview.setPixmap(QPixmap())
            self.preview.setText(error or "loading…")
            self.preview.setToolTip(error)
            return
        self.preview.setToolTip("")
        w, h = max(1, self.preview.width() - 8), 320
        self.preview.setPixmap(pm.scaled(w, h, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation))

    # -- editing ---------------------------------------------------------------------------------
    def _caption_changed(self) -> None:
        if self.record is not None:
            self._caption_dirty = self.caption.toPlainText().strip() != (self.record.caption or "")
            self.save_caption.setEnabled(self._caption_dirty)

    def _save_caption(self) -> None:
        if self.record is not None:
            self._caption_dirty = False
            self.save_caption.setEnabled(False)
            self.captionEdited.emit(self.record.id, self.caption.toPlainText().strip())

    def _add_tag(self) -> None:
        text = self.new_tag.text().strip()
        if self.record is not None and text:
            tags = [t.strip() for t in text.split(",") if t.strip()]
            self.new_tag.clear()
            self.tagsAdded.emit(self.record.id, tags)

    def _selected_tags(self) -> list[str]:
        rows = sorted({i.row() for i in self.tags.selectedIndexes()})
        return [it.text() for it in (self.tags.item(r, 0) for r in rows) if it is not None]

    def _remove_tags(self) -> None:
        if self.record is None:
            return
        tags = self._selected_tags()
        if tags:
            self.tagsRemoved.emit(self.record.id, tags)
