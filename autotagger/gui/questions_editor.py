"""Edit a question set (questions, answers, tag templates) and try it on one image."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from PySide6.QtCore import QEvent, QObject, QRunnable, QThreadPool, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from autotagger.gui.worker import one_line
from autotagger.types import Question, QuestionSet

COLUMNS = ("id", "text", "kind", "answers", "tag", "when", "min_confidence")
HEADERS = ("Id", "Question", "Kind", "Answers", "Tag", "Only when", "Min conf.")
HEADER_TIPS = (
    "a short unique name for the question",
    "the question the model is asked",
    "closed: the model picks one of the answers; open: it writes a short answer",
    "closed questions: the answers to choose from, comma-separated",
    "tag template: the keyword written, {answer} is replaced by the answer (e.g. setting|{answer})",
    "tag only for these answers, comma-separated (empty: every answer)",
    "minimum confidence, 0 to 1, for a closed answer to become a tag",
)
#: Columns sized to their contents (up to a cap); the others share the rest of the width by weight,
#: so that every column of a question stays in view.
NARROW = {0: 0.16, 2: 0.09, 6: 0.1}  # column: its cap, as a share of the width
WEIGHTS = {1: 3.0, 3: 2.0, 4: 1.5, 5: 1.2}
MIN_WIDTH = 48
CUSTOM = re.compile(r"\+?custom-[0-9a-f]{8}$")

# (question set, image path) -> TagResult; runs on a pool thread
TryFn = Callable[[QuestionSet, str], Any]


def _split(text: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in text.split(",") if p.strip())


def _text(item: QTableWidgetItem | None) -> str:
    return item.text().strip() if item is not None else ""


def question_set_to_toml(qs: QuestionSet) -> str:
    import tomli_w

    doc: dict[str, Any] = {
        "version": qs.version,
        "prompt_template": qs.prompt_template,
        "caption_prompt": qs.caption_prompt,
        "caption_max_new_tokens": qs.caption_max_new_tokens,
        "question": [],
    }
    for q in qs.questions:
        entry: dict[str, Any] = {"id": q.id, "text": q.text, "kind": q.kind, "tag": q.tag}
        if q.answers:
            entry["answers"] = list(q.answers)
        if q.when:
            entry["when"] = list(q.when)
        if q.min_confidence:
            entry["min_confidence"] = q.min_confidence
        if q.max_new_tokens != 6:
            entry["max_new_tokens"] = q.max_new_tokens
        doc["question"].append(entry)
    return str(tomli_w.dumps(doc))


def _content_hash(qs: QuestionSet) -> str:
    return hashlib.sha256(question_set_to_toml(replace(qs, version="")).encode("utf-8")).hexdigest()[:8]


def edited_version(base: QuestionSet, edited: QuestionSet) -> str:
    """The version of an edited set: the base's when nothing changed (or the set is the shipped one
    again), else the base's own version + "+custom-<8 hex of the content>" ("custom-…" alone for a
    base without one), so photos tagged with it can be told apart (and twins are not mixed up)."""
    digest = _content_hash(edited)
    if digest == _content_hash(base):
        return base.version
    try:
        from autotagger.engine.questions import load_question_set

        shipped = load_question_set()
        if digest == _content_hash(shipped):
            return shipped.version
    except Exception:  # the shipped set is only a nicety here
        pass
    root = CUSTOM.sub("", base.version)
    return f"{root}+custom-{digest}" if root and root != "custom" else f"custom-{digest}"


class _TrySignals(QObject):
    done = Signal(object)
    failed = Signal(str)


class _TryJob(QRunnable):
    def __init__(self, fn: TryFn, qs: QuestionSet, path: str, signals: _TrySignals) -> None:
        super().__init__()
        self.fn, self.qs, self.path, self.signals = fn, qs, path, signals

    def run(self) -> None:
        try:
            result = self.fn(self.qs, self.path)
        except Exception as exc:  # shown in the dialog, never raised into Qt
            self.signals.failed.emit(one_line(exc))
            return
        self.signals.done.emit(result)


class QuestionsEditor(QWidget):
    def __init__(self, qs: QuestionSet, try_fn: TryFn | None = None, image_path: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._base = qs
        self._try_fn = try_fn
        self.image_path = image_path
        self.table = QTableWidget(0, len(COLUMNS))
        for c, (title, tip) in enumerate(zip(HEADERS, HEADER_TIPS, strict=True)):
            head = QTableWidgetItem(title)
            head.setToolTip(tip)
            self.table.setHorizontalHeaderItem(c, head)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(False)
        header.setMinimumSectionSize(MIN_WIDTH)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setWordWrap(False)
        self.table.viewport().installEventFilter(self)
        for q in qs.questions:
            self._append(q)
        add = QPushButton("Add question")
        add.clicked.connect(lambda: self._append(Question(f"q{self.table.rowCount() + 1}", "", "open", "")))
        remove = QPushButton("Remove")
        remove.clicked.connect(self._remove)
        self.try_button = QPushButton("Try on this image")
        self.try_button.setEnabled(bool(try_fn and image_path))
        self.try_button.setToolTip(image_path or "select an image in the grid first")
        self.try_button.clicked.connect(self.try_now)
        self.output = QPlainTextEdit()
        self.output.setReadOnly(True)
        self.output.setMaximumHeight(90)
        self.output.setPlaceholderText("Answers and tags for the selected image appear here.")
        self.error = QLabel()
        self.error.setStyleSheet("color:#c33;")
        buttons = QHBoxLayout()
        buttons.addWidget(add)
        buttons.addWidget(remove)
        buttons.addStretch(1)
        buttons.addWidget(self.try_button)
        lay = QVBoxLayout(self)
        lay.addWidget(self.table)
        lay.addLayout(buttons)
        lay.addWidget(self.error)
        lay.addWidget(self.output)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._signals = _TrySignals(self)  # owned by the editor: never freed by Python on another thread
        self._signals.done.connect(self._tried)
        self._signals.failed.connect(self._try_failed)
        self.changed = False
        self.table.itemChanged.connect(self._mark)

    def _mark(self, item: QTableWidgetItem | None = None) -> None:
        self.changed = True
        if item is not None and item.toolTip() != item.text():
            item.setToolTip(item.text())  # a cut-short cell is read whole in its tooltip

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if obj is self.table.viewport() and event.type() == QEvent.Type.Resize:
            self.fit_columns()
        return super().eventFilter(obj, event)

    def fit_columns(self) -> None:
        """Every column in the table's width: the narrow ones to their contents (capped), the others
        share what is left by weight. Long cells are cut short; their tooltip has the whole text."""
        width = self.table.viewport().width()
        if width <= 0:
            return
        header = self.table.horizontalHeader()
        sizes = {}
        for c, cap in NARROW.items():
            wanted = max(self.table.sizeHintForColumn(c), header.sectionSizeHint(c))
            sizes[c] = max(MIN_WIDTH, min(wanted, int(width * cap)))
        rest = max(0, width - sum(sizes.values()))
        total = sum(WEIGHTS.values())
        for c, weight in WEIGHTS.items():
            sizes[c] = max(MIN_WIDTH, int(rest * weight / total))
        last = max(WEIGHTS)  # what rounding left over
        sizes[last] = max(MIN_WIDTH, sizes[last] + width - sum(sizes.values()))
        for c, size in sizes.items():
            if header.sectionSize(c) != size:
                header.resizeSection(c, size)

    def _append(self, q: Question) -> None:
        r = self.table.rowCount()
        self.table.insertRow(r)
        values = (q.id, q.text, q.kind, ", ".join(q.answers), q.tag, ", ".join(q.when), f"{q.min_confidence:g}")
        for c, v in enumerate(values):
            item = QTableWidgetItem(v)
            item.setToolTip(v)
            self.table.setItem(r, c, item)
        self.changed = True
        self.fit_columns()

    def _remove(self) -> None:
        for r in sorted({i.row() for i in self.table.selectedIndexes()}, reverse=True):
            self.table.removeRow(r)
        self.changed = True

    def question_set(self) -> QuestionSet:
        """The edited set; raises ValueError with a one-line message for a bad row."""
        base = {q.id: q for q in self._base.questions}
        out = []
        seen = set()
        for r in range(self.table.rowCount()):
            cell = {name: _text(self.table.item(r, c)) for c, name in enumerate(COLUMNS)}
            qid = cell["id"]
            if not qid or not cell["text"]:
                raise ValueError(f"row {r + 1}: a question needs an id and a text")
            if qid in seen:
                raise ValueError(f"row {r + 1}: the id {qid!r} is used twice")
            seen.add(qid)
            kind = cell["kind"].lower()
            if kind not in ("closed", "open"):
                raise ValueError(f"row {r + 1}: kind must be closed or open, not {kind!r}")
            answers = _split(cell["answers"])
            if kind == "closed" and len(answers) < 2:
                raise ValueError(f"row {r + 1}: a closed question needs at least two answers")
            try:
                min_conf = float(cell["min_confidence"] or 0)
            except ValueError:
                raise ValueError(f"row {r + 1}: min confidence must be a number") from None
            old = base.get(qid)
            out.append(Question(
                id=qid, text=cell["text"], kind=kind,  # type: ignore[arg-type]
                tag=cell["tag"], answers=answers, when=_split(cell["when"]), min_confidence=min_conf,
                max_new_tokens=old.max_new_tokens if old else 6,
            ))
        qs = replace(self._base, questions=tuple(out))
        qs = replace(qs, version=edited_version(self._base, qs))
        try:  # let the engine's own parser judge it, when it is there
            from autotagger.engine.questions import parse_question_set

            parse_question_set(question_set_to_toml(qs), "the question editor")
        except ImportError:
            pass
        except Exception as exc:
            raise ValueError(one_line(exc)) from None
        return qs

    def try_now(self) -> None:
        self.error.clear()
        try:
            qs = self.question_set()
        except ValueError as exc:
            self.error.setText(str(exc))
            return
        if not (self._try_fn and self.image_path):
            return
        self.try_button.setEnabled(False)
        self.output.setPlainText("running the model on the image… (the first time loads the model)")
        self._pool.start(_TryJob(self._try_fn, qs, self.image_path, self._signals))

    def _tried(self, result: Any) -> None:
        self.try_button.setEnabled(True)
        if getattr(result, "error", None):
            self.output.setPlainText(f"failed: {result.error}")
            return
        lines = [f"caption: {result.caption}"]
        for a in result.answers:
            conf = "" if a.confidence is None else f" ({a.confidence:.0%})"
            lines.append(f"{a.question_id}: {a.answer}{conf}")
        lines.append("tags: " + ", ".join(t.path for t in result.tags))
        self.output.setPlainText("\n".join(lines))

    def _try_failed(self, message: str) -> None:
        self.try_button.setEnabled(True)
        self.output.setPlainText(f"failed: {message}")

    def wait(self) -> None:
        self._pool.waitForDone()
