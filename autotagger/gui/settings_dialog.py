"""Settings dialog: saved to the same config file the CLI reads (config.update_config_file).

Save writes what the person changed here into the file as it is on disk; what came from flags or
AUTOTAGGER_* variables for this run (``--catalog``, ``AUTOTAGGER_DEVICE``…) stays for this run, and
defaults are not written out. The Watching tab shows the one list of watched folders, the catalogue's
(the same as the window's Folders tab; add and remove apply at once), plus the settings' extras.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from autotagger.config import (
    DEFAULT_MODEL,
    DEVICES,
    DTYPES,
    QUANTIZE,
    SIDECAR_NAMES,
    WRITE_MODES,
    ConfigError,
    Settings,
    config_dir,
    environment_overrides,
    read_config_file,
    update_config_file,
)
from autotagger.gui import ops
from autotagger.gui.panels import FoldersPanel, extra_folders_source
from autotagger.gui.questions_editor import QuestionsEditor, TryFn, question_set_to_toml
from autotagger.gui.worker import one_line
from autotagger.types import QuestionSet

WRITE_LABELS = {
    "auto": "auto: embed where possible (DNG too), sidecar for other RAW and read-only files",
    "embed": "embed in the file",
    "sidecar": "sidecar .xmp only",
    "both": "embed and sidecar",
    "none": "catalogue only (files untouched)",
}
SIDECAR_LABELS = {"ext": "NAME.EXT.xmp (darktable, digiKam)", "base": "NAME.xmp (Lightroom, Capture One)"}
DTYPE_LABELS = {"auto": "auto (bf16/fp16 on GPU, fp32 on CPU)"}
QUANT_LABELS = {"none": "none", "8bit": "8-bit (bitsandbytes, CUDA)", "4bit": "4-bit (bitsandbytes, CUDA)"}


def _combo(values: tuple[str, ...], labels: dict[str, str], current: str) -> QComboBox:
    box = QComboBox()
    for v in values:
        box.addItem(labels.get(v, v), v)
    box.setCurrentIndex(max(0, values.index(current) if current in values else 0))
    return box


def load_questions(settings: Settings) -> QuestionSet:
    from autotagger.engine.questions import load_question_set

    return load_question_set(settings.questions or None)


class _JobSignals(QObject):
    done = Signal(int, object)
    failed = Signal(int, str)


class _Job(QRunnable):
    def __init__(self, open_catalog: Callable[[], Any], token: int, fn: Callable[..., Any], args: tuple[Any, ...],
                 signals: _JobSignals) -> None:
        super().__init__()
        self.open_catalog, self.token, self.fn, self.args, self.signals = open_catalog, token, fn, args, signals

    def run(self) -> None:
        try:
            cat = self.open_catalog()
            try:
                result = self.fn(cat, *self.args)
            finally:
                cat.close()
        except Exception as exc:  # said in the dialog, never raised into Qt
            self.signals.failed.emit(self.token, one_line(exc))
            return
        self.signals.done.emit(self.token, result)


class PoolCatalog(QObject):
    """``call(fn, *args, on_done=, on_error=)`` as CatalogClient has it: ``fn(catalog, *args)`` on a pool
    thread, one call at a time, each with its own short-lived catalogue; results come back on the GUI
    thread. The dialog's own, when it is not handed the window's catalogue client."""

    def __init__(self, catalog_path: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        from autotagger.gui.app import catalog_opener

        opener = catalog_opener(catalog_path)
        self._open: Callable[[], Any] = lambda: opener(False)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._signals = _JobSignals(self)
        self._signals.done.connect(self._done)
        self._signals.failed.connect(self._failed)
        self._tokens = itertools.count(1)
        self._pending: dict[int, tuple[Callable[[Any], None] | None, Callable[[str], None] | None]] = {}

    def call(self, fn: Callable[..., Any], *args: Any, on_done: Callable[[Any], None] | None = None,
             on_error: Callable[[str], None] | None = None) -> int:
        token = next(self._tokens)
        self._pending[token] = (on_done, on_error)
        self._pool.start(_Job(self._open, token, fn, args, self._signals))
        return token

    @property
    def pending(self) -> int:
        return len(self._pending)

    def _done(self, token: int, result: object) -> None:
        on_done, _ = self._pending.pop(token, (None, None))
        if on_done is not None:
            on_done(result)

    def _failed(self, token: int, message: str) -> None:
        _, on_error = self._pending.pop(token, (None, None))
        if on_error is not None:
            on_error(message)

    def wait(self) -> None:
        self._pool.waitForDone()


def model_note(model: str) -> str:
    """What happens to the model named in the Model box: a folder is read as it is, a hub id is
    downloaded (said wrongly of a folder, a photographer went looking for a download)."""
    from autotagger.engine.download import looks_like_a_path

    if looks_like_a_path(model.strip()) or Path(model.strip()).expanduser().is_dir():
        return "The model is read from this folder; nothing is downloaded."
    return "A hub id is downloaded once into the Hugging Face cache, the first time it is used."


class SettingsDialog(QDialog):
    foldersChanged = Signal(list)  # the catalogue's watched folders, after an add or remove here

    def __init__(self, settings: Settings, config_path: Path, try_fn: TryFn | None = None,
                 image_path: str = "", parent: QWidget | None = None, catalog: Any = None) -> None:
        """``settings``: this run's (flags and environment included); ``catalog``: something with
        CatalogClient's ``call`` for the watched folders (the window's editor), else the dialog's own."""
        super().__init__(parent)
        self.setWindowTitle("autotagger settings")
        self.resize(940, 620)
        self.original = settings
        self.config_path = config_path
        self.saved: Settings | None = None
        self.catalog = catalog if catalog is not None else PoolCatalog(settings.catalog_path, self)
        self.extras = list(settings.folders)  # the settings' extra folders, for this run
        self.folders_changed = False

        # model
        self.model = QComboBox()
        self.model.setEditable(True)
        for m in (DEFAULT_MODEL, "Salesforce/blip2-flan-t5-xl", "Salesforce/blip2-opt-6.7b"):
            self.model.addItem(m)
        self.model.setCurrentText(settings.model)
        browse = QPushButton("Folder…")
        browse.clicked.connect(self._browse_model)
        model_row = QHBoxLayout()
        model_row.addWidget(self.model, 1)
        model_row.addWidget(browse)
        self.device = _combo(DEVICES, {}, settings.device)
        self.dtype = _combo(DTYPES, DTYPE_LABELS, settings.dtype)
        self.quantize = _combo(QUANTIZE, QUANT_LABELS, settings.quantize)
        self.batch = QSpinBox()
        self.batch.setRange(0, 256)
        self.batch.setSpecialValueText("auto")
        self.batch.setValue(settings.batch_size)
        model_tab = QWidget()
        f = QFormLayout(model_tab)
        f.addRow("Model (hub id or folder):", model_row)
        f.addRow("Device:", self.device)
        f.addRow("Precision:", self.dtype)
        f.addRow("Quantisation:", self.quantize)
        f.addRow("Batch size:", self.batch)
        self.model_note = QLabel(model_note(settings.model))
        self.model_note.setWordWrap(True)
        self.model_note.setStyleSheet("color:#777;")
        self.model.currentTextChanged.connect(lambda text: self.model_note.setText(model_note(text)))
        f.addRow(self.model_note)

        # writing
        self.write = _combo(WRITE_MODES, WRITE_LABELS, settings.write)
        self.sidecar = _combo(SIDECAR_NAMES, SIDECAR_LABELS, settings.sidecar_name)
        self.backup = QCheckBox("keep a backup copy of each file before the first write")
        self.backup.setChecked(settings.keep_backup)
        write_tab = QWidget()
        f = QFormLayout(write_tab)
        f.addRow("Write mode:", self.write)
        f.addRow("Sidecar naming:", self.sidecar)
        f.addRow("", self.backup)

        # watching: the one list (the catalogue's folders, then the settings' extras)
        self.folders = FoldersPanel(tag_now=False)
        self.folders.extras_removable = "folders" not in environment_overrides()
        self.folders.set_extra_folders(self.extras, extra_folders_source())
        self.folders.addRequested.connect(self._add_folder)
        self.folders.removeRequested.connect(self._remove_folder)
        self.folders.removeExtraRequested.connect(self._remove_extra_folder)
        self.catalog.call(ops.list_folders, on_done=self.folders.set_folders, on_error=self._folders_failed)
        self.settle = QDoubleSpinBox()
        self.settle.setRange(0, 600)
        self.settle.setDecimals(1)
        self.settle.setSuffix(" s")
        self.settle.setValue(settings.settle_seconds)
        self.recursive = QCheckBox("include sub-folders")
        self.recursive.setChecked(settings.recursive)
        self.poll = QCheckBox("poll instead of file-system events (network shares)")
        self.poll.setChecked(settings.poll)
        watch_tab = QWidget()
        wl = QVBoxLayout(watch_tab)
        wl.addWidget(QLabel("Watched folders (the same list as the Folders tab; adding or removing applies at once):"))
        wl.addWidget(self.folders)
        f = QFormLayout()
        f.addRow("Settle time (a file must stay unchanged this long):", self.settle)
        f.addRow("", self.recursive)
        f.addRow("", self.poll)
        wl.addLayout(f)

        # questions
        self.questions_error = ""
        try:
            qs = load_questions(settings)
        except Exception as exc:  # a broken question file: start from an empty set and say why
            self.questions_error = " ".join(str(exc).split())
            qs = QuestionSet(version="custom", questions=())
        self.questions = QuestionsEditor(qs, try_fn, image_path)
        self.questions.changed = False

        self.tabs = QTabWidget()
        self.tabs.addTab(model_tab, "Model")
        self.tabs.addTab(write_tab, "Writing")
        self.tabs.addTab(watch_tab, "Watching")
        self.tabs.addTab(self.questions, "Questions")
        self.error = QLabel(self.questions_error)
        self.error.setStyleSheet("color:#c33;")
        self.error.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(self.tabs)
        lay.addWidget(self.error)
        lay.addWidget(buttons)
        self._shown = self._values()

    def _browse_model(self) -> None:
        d = QFileDialog.getExistingDirectory(self, "Model folder (with config.json and safetensors)")
        if d:
            self.model.setCurrentText(d)

    # -- watched folders ----------------------------------------------------------------------------
    def _add_folder(self, folder: str) -> None:
        self.catalog.call(ops.add_folder, folder, on_done=self._folders_edited, on_error=self._folders_failed)

    def _remove_folder(self, folder: str) -> None:
        self.catalog.call(ops.remove_folder, folder, on_done=self._folders_edited, on_error=self._folders_failed)

    def _folders_edited(self, folders: list[str]) -> None:
        self.folders.set_folders(folders)
        self.folders_changed = True
        self.foldersChanged.emit(list(folders))

    def _folders_failed(self, message: str) -> None:
        self.error.setText(f"watched folders: {message}")

    def _remove_extra_folder(self, folder: str) -> None:
        """An extra folder from the config file's ``folders``: out of the file now, as the list's
        other edits apply at once."""

        def other(f: str) -> bool:
            return os.path.abspath(os.path.expanduser(f)) != folder

        try:
            in_file = read_config_file(self.config_path).get("folders", [])
            kept = [f for f in in_file if other(f)]
            if kept != in_file:
                update_config_file({"folders": kept}, self.config_path)
        except ConfigError as exc:
            self.error.setText(" ".join(str(exc).split()))
            return
        self.extras = [f for f in self.extras if other(f)]
        self.folders.set_extra_folders(self.extras, extra_folders_source())
        self.folders_changed = True

    def done(self, result: int) -> None:
        super().done(result)
        if self.folders_changed:  # the window's Folders tab shows the same list
            refresh = getattr(self.parent(), "refresh_side", None)
            if callable(refresh):
                refresh()

    # -- the rest ------------------------------------------------------------------------------------
    def _values(self) -> dict[str, Any]:
        """What the widgets show, by setting name."""
        return {
            "model": self.model.currentText().strip(),
            "device": self.device.currentData(),
            "dtype": self.dtype.currentData(),
            "quantize": self.quantize.currentData(),
            "batch_size": self.batch.value(),
            "write": self.write.currentData(),
            "sidecar_name": self.sidecar.currentData(),
            "keep_backup": self.backup.isChecked(),
            "settle_seconds": float(self.settle.value()),
            "recursive": self.recursive.isChecked(),
            "poll": self.poll.isChecked(),
        }

    def changes(self) -> dict[str, Any]:
        """The settings the person changed in the dialog (what Save writes); raises ConfigError."""
        values = self._values()
        if not values["model"]:
            raise ConfigError("the model must be a hub id or a folder")
        return {k: v for k, v in values.items() if v != self._shown[k]}

    def settings(self) -> Settings:
        """This run's settings as edited: the ones given, with the person's changes; raises ConfigError
        (one line) if a value is bad."""
        return dataclasses.replace(self.original, folders=list(self.extras), **self.changes()).validate()

    def questions_path(self) -> Path:
        return Path(self.original.questions) if self.original.questions else config_dir() / "questions.toml"

    def save(self) -> None:
        try:
            changes = self.changes()
            new = self.settings()
            if self.questions.changed:
                qs = self.questions.question_set()
                path = self.questions_path()
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_name(path.name + ".tmp")
                tmp.write_text(question_set_to_toml(qs), encoding="utf-8")
                tmp.replace(path)
                changes["questions"] = str(path)
                new = dataclasses.replace(new, questions=str(path))
            if changes:
                update_config_file(changes, self.config_path)
        except (ConfigError, ValueError, OSError) as exc:
            self.error.setText(" ".join(str(exc).split()))
            return
        self.saved = new
        self.accept()
