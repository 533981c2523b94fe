"""Settings dialog: saved to the same config file the CLI reads (config.save_settings)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from PySide6.QtCore import Qt
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
    QListWidget,
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
    save_settings,
)
from autotagger.gui.questions_editor import QuestionsEditor, TryFn, question_set_to_toml
from autotagger.types import QuestionSet

WRITE_LABELS = {
    "auto": "auto: embed where possible, sidecar for RAW and read-only files",
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


class SettingsDialog(QDialog):
    def __init__(self, settings: Settings, config_path: Path, try_fn: TryFn | None = None,
                 image_path: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("autotagger settings")
        self.resize(760, 520)
        self.original = settings
        self.config_path = config_path
        self.saved: Settings | None = None

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
        note = QLabel("The model is downloaded once into the Hugging Face cache the first time it is used.")
        note.setWordWrap(True)
        note.setStyleSheet("color:#777;")
        f.addRow(note)

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

        # watching
        self.folders = QListWidget()
        self.folders.addItems(settings.folders)
        add = QPushButton("Add folder…")
        add.clicked.connect(self._add_folder)
        rem = QPushButton("Remove")
        rem.clicked.connect(lambda: [self.folders.takeItem(self.folders.row(i)) for i in self.folders.selectedItems()])
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
        wl.addWidget(QLabel("Watched folders:"))
        wl.addWidget(self.folders)
        row = QHBoxLayout()
        row.addWidget(add)
        row.addWidget(rem)
        row.addStretch(1)
        wl.addLayout(row)
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

    def _browse_model(self) -> None:
        d = QFileDialog.getExistingDirectory(self, "Model folder (with config.json and safetensors)")
        if d:
            self.model.setCurrentText(d)

    def _add_folder(self) -> None:
        d = QFileDialog.getExistingDirectory(self, "Watch a folder")
        if d and not self.folders.findItems(d, Qt.MatchFlag.MatchExactly):
            self.folders.addItem(d)

    def settings(self) -> Settings:
        """The settings as edited; raises ConfigError (one line) if a value is bad."""
        model = self.model.currentText().strip()
        if not model:
            raise ConfigError("the model must be a hub id or a folder")
        return dataclasses.replace(
            self.original,
            model=model,
            device=self.device.currentData(),
            dtype=self.dtype.currentData(),
            quantize=self.quantize.currentData(),
            batch_size=self.batch.value(),
            write=self.write.currentData(),
            sidecar_name=self.sidecar.currentData(),
            keep_backup=self.backup.isChecked(),
            settle_seconds=float(self.settle.value()),
            recursive=self.recursive.isChecked(),
            poll=self.poll.isChecked(),
            folders=[self.folders.item(i).text() for i in range(self.folders.count())],
        ).validate()

    def questions_path(self) -> Path:
        return Path(self.original.questions) if self.original.questions else config_dir() / "questions.toml"

    def save(self) -> None:
        try:
            new = self.settings()
            if self.questions.changed:
                qs = self.questions.question_set()
                path = self.questions_path()
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_name(path.name + ".tmp")
                tmp.write_text(question_set_to_toml(qs), encoding="utf-8")
                tmp.replace(path)
                new = dataclasses.replace(new, questions=str(path))
            save_settings(new, self.config_path)
        except (ConfigError, ValueError, OSError) as exc:
            self.error.setText(" ".join(str(exc).split()))
            return
        self.saved = new
        self.accept()
