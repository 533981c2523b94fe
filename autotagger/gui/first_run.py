"""First run: is the model there? If not, say what will be downloaded and how big, offer "Download now"
with a progress bar and Cancel, or, offline, say plainly that the hub cannot be reached and how to get
the model. ``model_notice`` is plain Python (tested without Qt); ``FirstRunPanel`` is the widget."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from autotagger.engine.download import ModelDownloadError, download_model, hub_offline, model_download_size

# Approximate download sizes of the safetensors weights (hub repos, Nov 2026): the estimate shown
# while the real size (asked of the hub) is not known, or offline.
KNOWN_SIZES_GB = {
    "Salesforce/blip2-opt-2.7b": 15.5,
    "Salesforce/blip2-opt-2.7b-coco": 15.5,
    "Salesforce/blip2-flan-t5-xl": 15.8,
    "Salesforce/blip2-opt-6.7b": 31.0,
    "Salesforce/blip2-flan-t5-xxl": 48.0,
}


@dataclass(frozen=True)
class ModelNotice:
    needed: bool  # False: the model is there, nothing to say
    offline: bool
    text: str
    can_download: bool = False  # a hub id, online: offer "Download now"


def _offline(environ: dict[str, str]) -> bool:
    return hub_offline(environ)


def is_cached(model: str) -> bool:
    """True when ``model`` is a local folder or its config is in the Hugging Face cache."""
    if Path(model).expanduser().is_dir():
        return True
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:  # pragma: no cover - a dependency
        return False
    try:
        found = try_to_load_from_cache(model, "config.json")
    except Exception:  # a malformed id: not cached
        return False
    return isinstance(found, str)


def size_text(model: str, size_bytes: int | None = None) -> str:
    """The real size when the hub told us, else the table's estimate, labelled "about"."""
    if size_bytes is not None:
        return _gb(size_bytes)
    size = KNOWN_SIZES_GB.get(model)
    return f"about {size:g} GB" if size else "size unknown, several GB"


def _gb(n: int) -> str:
    return f"{n / 1e9:.1f} GB" if n >= 1e8 else f"{n / 1e6:.0f} MB"


def offline_text(model: str, size_bytes: int | None = None) -> str:
    return (
        f"Offline: the Hugging Face hub cannot be reached, and the model {model} ({size_text(model, size_bytes)}) "
        "is not on this computer. Nothing can be tagged until it is; browsing and searching work. To get it, run "
        "`autotagger model download` on a connected machine and copy its Hugging Face cache here, or choose a "
        "local model folder in Settings."
    )


def model_notice(model: str, environ: dict[str, str] | None = None, size_bytes: int | None = None) -> ModelNotice:
    env = dict(os.environ if environ is None else environ)
    if is_cached(model):
        return ModelNotice(False, _offline(env), "")
    local_looking = model.startswith(("/", ".", "~")) or os.sep in model.replace("/", "", 1)
    if local_looking:
        return ModelNotice(True, _offline(env), f"The model folder {model} does not exist. Choose another in Settings.")
    if _offline(env):
        return ModelNotice(True, True, offline_text(model, size_bytes))
    return ModelNotice(
        True, False,
        f"First run: the model {model} ({size_text(model, size_bytes)}) is not on this computer yet. Download it "
        "now into the Hugging Face cache, or it will be fetched the first time a photo is tagged.",
        can_download=True,
    )


DownloadFn = Callable[..., str]  # download_model's shape: (model, *, progress, cancel) -> path
SizeFn = Callable[[str], "int | None"]


class _Bridge(QObject):
    """Carries plain values from the download and size threads to the GUI thread (queued signals)."""

    progress = Signal(int, object, object)  # run, bytes done, total (Python ints: may pass 2**31)
    finished = Signal(int, str)  # run, snapshot folder
    failed = Signal(int, str, str)  # run, reason, one-line message
    sized = Signal(str, object)  # model, bytes or None


class FirstRunPanel(QFrame):
    """The yellow first-run notice: text, "Download now", a progress bar with MB done/total, Cancel."""

    modelReady = Signal(str)  # the model's folder, once downloaded

    def __init__(self, download_fn: DownloadFn = download_model, size_fn: SizeFn = model_download_size,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.download_fn, self.size_fn = download_fn, size_fn
        self.model = ""
        self.size_bytes: int | None = None
        self._cancel: threading.Event | None = None
        self._thread: threading.Thread | None = None
        self._last_mb = -1
        self._run = 0  # which download the signals belong to (a cancelled one may still report)
        self.setObjectName("firstRunPanel")
        self.setStyleSheet("#firstRunPanel {background:#fff3cd; border:1px solid #e0c36b;}"
                           " QLabel {color:#5c4400;}")
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(self.label.textInteractionFlags() | _selectable())
        self.download_btn = QPushButton("Download now")
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(True)
        self.cancel_btn = QPushButton("Cancel")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        top = QHBoxLayout()
        top.addWidget(self.label, 1)
        top.addWidget(self.download_btn)
        lay.addLayout(top)
        row = QHBoxLayout()
        row.addWidget(self.bar, 1)
        row.addWidget(self.cancel_btn)
        lay.addLayout(row)
        self.bridge = _Bridge(self)
        self.bridge.progress.connect(self._on_progress)
        self.bridge.finished.connect(self._on_finished)
        self.bridge.failed.connect(self._on_failed)
        self.bridge.sized.connect(self._on_sized)
        self.download_btn.clicked.connect(self.start_download)
        self.cancel_btn.clicked.connect(self.cancel)
        self._show_progress(False)
        self.setVisible(False)

    # -- state ------------------------------------------------------------------------------------
    @property
    def downloading(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def set_model(self, model: str, environ: dict[str, str] | None = None) -> None:
        """Show the notice for ``model`` (hidden when it is there); online, ask the hub for its real size."""
        if self.downloading and model == self.model:
            return
        if self.downloading:
            self.cancel()
            self._run += 1  # what the cancelled download still reports is ignored
            self._thread = None
        if model != self.model:
            self.size_bytes = None
        self.model = model
        notice = model_notice(model, environ, self.size_bytes)
        self.label.setText(notice.text)
        self.download_btn.setText("Download now")
        self.download_btn.setVisible(notice.can_download)
        self.download_btn.setEnabled(True)
        self._show_progress(False)
        self.setVisible(notice.needed)
        if notice.can_download and self.size_bytes is None:
            threading.Thread(target=self._size_worker, args=(model,), name="model-size", daemon=True).start()

    def _size_worker(self, model: str) -> None:
        try:
            size = self.size_fn(model)
        except Exception:
            size = None
        _emit(self.bridge.sized, model, size)

    def _on_sized(self, model: str, size: Any) -> None:
        if model != self.model or size is None or self.downloading:
            return
        self.size_bytes = int(size)
        notice = model_notice(model, size_bytes=self.size_bytes)
        if notice.needed and self.download_btn.isEnabled():
            self.label.setText(notice.text)

    def _show_progress(self, on: bool) -> None:
        self.bar.setVisible(on)
        self.cancel_btn.setVisible(on)

    # -- download ---------------------------------------------------------------------------------
    def start_download(self) -> None:
        if self.downloading or not self.model:
            return
        model = self.model
        self._cancel = threading.Event()
        self._last_mb = -1
        self._run += 1
        self.download_btn.setEnabled(False)
        self.cancel_btn.setEnabled(True)
        self.bar.setValue(0)
        total = self.size_bytes
        self.bar.setFormat(f"0 / {total / 1e6:,.0f} MB" if total else "starting…")
        self._show_progress(True)
        self.label.setText(f"Downloading {model} ({size_text(model, self.size_bytes)}) into the Hugging Face cache…")
        self._thread = threading.Thread(target=self._download_worker, args=(self._run, model, self._cancel),
                                        name="model-download", daemon=True)
        self._thread.start()

    def _download_worker(self, run: int, model: str, cancel: threading.Event) -> None:
        def progress(done: int, total: int) -> None:
            mb = done // 1_000_000
            if mb != self._last_mb or done >= total:  # at most one signal per MB
                self._last_mb = mb
                _emit(self.bridge.progress, run, int(done), int(total))

        try:
            path = self.download_fn(model, progress=progress, cancel=cancel)
        except ModelDownloadError as exc:
            _emit(self.bridge.failed, run, exc.reason, str(exc))
        except Exception as exc:  # a last guard: the thread must always report back
            _emit(self.bridge.failed, run, "failed", " ".join(f"{type(exc).__name__}: {exc}".split()))
        else:
            _emit(self.bridge.finished, run, str(path))

    def _on_progress(self, run: int, done: Any, total: Any) -> None:
        if run != self._run:
            return
        done, total = int(done), int(total)
        self.bar.setValue(int(1000 * done / total) if total > 0 else 0)
        self.bar.setFormat(f"{done / 1e6:,.0f} / {total / 1e6:,.0f} MB")

    def _on_finished(self, run: int, path: str) -> None:
        if run != self._run:
            return
        self._thread = None
        self._show_progress(False)
        self.download_btn.setVisible(False)
        self.label.setText(f"The model {self.model} is ready ({path}). Tagging can start.")
        self.modelReady.emit(path)

    def _on_failed(self, run: int, reason: str, message: str) -> None:
        if run != self._run:
            return
        self._thread = None
        self._show_progress(False)
        self.download_btn.setEnabled(True)
        if reason == "offline":
            self.label.setText(offline_text(self.model, self.size_bytes))
            self.download_btn.setText("Try again")
        elif reason == "cancelled":
            self.label.setText(f"Download of {self.model} cancelled. What was fetched stays in the cache; "
                               "the next download goes on from there.")
            self.download_btn.setText("Download now")
        else:
            self.label.setText(f"The download failed: {message}")
            self.download_btn.setText("Try again")

    def cancel(self) -> None:
        if self._cancel is not None:
            self._cancel.set()
            self.cancel_btn.setEnabled(False)
            self.bar.setFormat("cancelling…")

    def shutdown(self, wait_s: float = 5.0) -> None:
        """Stop a download in flight (the window is closing); what was fetched stays in the cache."""
        if self._cancel is not None:
            self._cancel.set()
        if self._thread is not None:
            self._thread.join(wait_s)


def _emit(signal: Any, *args: Any) -> None:
    with contextlib.suppress(RuntimeError):  # the panel was deleted while a thread ran: nobody to tell
        signal.emit(*args)


def _selectable() -> Any:
    from PySide6.QtCore import Qt

    return Qt.TextInteractionFlag.TextSelectableByMouse
