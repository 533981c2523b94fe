"""Thumbnails made on a QThreadPool, cached on disk (keyed by path + mtime + size) and in memory.

The worker stats the file, looks in the disk cache, otherwise decodes (EXIF orientation applied)
and writes the cache atomically. It hands back a QImage (not a QPixmap, which is GUI-thread only)
through a signal; the GUI thread turns it into a pixmap.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections import OrderedDict
from pathlib import Path

from PySide6.QtCore import QObject, QRect, QRunnable, QSize, Qt, QThreadPool, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPen, QPixmap

from autotagger.gui.worker import one_line

log = logging.getLogger(__name__)

THUMB_SIZE = 160


def cache_key(path: str, mtime: float, size: int, edge: int) -> str:
    return hashlib.sha1(f"{path}\0{mtime:.6f}\0{size}\0{edge}".encode()).hexdigest()


def load_or_make(path: str, edge: int, cache_root: Path) -> QImage:
    """The thumbnail of ``path`` as a QImage; raises OSError/ValueError for a bad file."""
    st = os.stat(path)
    key = cache_key(os.path.abspath(path), st.st_mtime, st.st_size, edge)
    cached = cache_root / key[:2] / f"{key}.jpg"
    if cached.is_file():
        img = QImage(str(cached))
        if not img.isNull():
            return img
    from autotagger.imageio import make_thumbnail

    pil = make_thumbnail(path, edge)  # upright (EXIF orientation), never enlarged
    cached.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=cached.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            pil.save(fh, "JPEG", quality=85)
        os.replace(tmp, cached)
    except OSError:
        Path(tmp).unlink(missing_ok=True)
        raise
    img = QImage(str(cached))
    if img.isNull():
        raise ValueError("could not read back the thumbnail")
    return img


class _Signals(QObject):
    ready = Signal(str, QImage)
    failed = Signal(str, str, bool)  # path, one-line error, the file is not there


class _Job(QRunnable):
    def __init__(self, path: str, edge: int, cache_root: Path, signals: _Signals) -> None:
        super().__init__()
        self.path, self.edge, self.cache_root, self.signals = path, edge, cache_root, signals

    def run(self) -> None:
        # Nothing may escape into Qt's pool: a bad file is reported, and a provider already gone
        # (the window closed while this ran) makes the emit fail, which is fine to drop.
        try:
            try:
                img = load_or_make(self.path, self.edge, self.cache_root)
            except FileNotFoundError as exc:  # gone (moved, deleted, a drive unplugged)
                self.signals.failed.emit(self.path, one_line(exc), True)
                return
            except Exception as exc:  # one bad file: report it, keep going
                self.signals.failed.emit(self.path, one_line(exc), False)
                return
            self.signals.ready.emit(self.path, img)
        except Exception:
            log.debug("thumbnail for %s dropped", self.path, exc_info=True)


def placeholder(edge: int, text_color: str = "#888") -> QPixmap:
    """The "still loading" square: dark, a small grey ellipsis."""
    pm = QPixmap(edge, edge)
    pm.fill(QColor("#2b2b2b"))
    p = QPainter(pm)
    p.setPen(QColor(text_color))
    p.drawRect(0, 0, edge - 1, edge - 1)
    p.drawText(pm.rect(), Qt.AlignmentFlag.AlignCenter, "…")
    p.end()
    return pm


def failed_placeholder(edge: int, glyph: str, text: str, colour: str) -> QPixmap:
    """A thumbnail that cannot come: a light square with a big glyph and what went wrong, nothing
    like the dark "loading" square."""
    pm = QPixmap(edge, edge)
    pm.fill(QColor("#f1e4e4"))
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(QPen(QColor(colour), 2, Qt.PenStyle.DashLine))
    p.drawRect(1, 1, edge - 3, edge - 3)
    font = p.font()
    font.setPixelSize(max(12, edge // 3))
    font.setBold(True)
    p.setFont(font)
    p.setPen(QColor(colour))
    p.drawText(QRect(0, edge // 8, edge, edge // 2), Qt.AlignmentFlag.AlignCenter, glyph)
    font.setPixelSize(max(9, edge // 12))
    p.setFont(font)
    p.drawText(QRect(4, edge // 2 + edge // 10, edge - 8, edge // 3),
               Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap, text)
    p.end()
    return pm


class ThumbnailProvider(QObject):
    """``get(path)`` answers at once: the cached pixmap, or None after queueing a job."""

    ready = Signal(str)  # path whose thumbnail just arrived (or failed: then a broken placeholder)

    def __init__(
        self, cache_root: Path, edge: int = THUMB_SIZE, memory_items: int = 2000, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.cache_root = cache_root
        self.edge = edge
        self._memory: OrderedDict[str, QPixmap] = OrderedDict()
        self._memory_items = memory_items
        self._pending: set[str] = set()
        self.errors: dict[str, str] = {}  # path -> one line: why its thumbnail cannot be shown
        self.missing: set[str] = set()  # those of them whose file is not there
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(max(1, min(4, (os.cpu_count() or 2) - 1)))
        self._signals = _Signals()
        self._signals.ready.connect(self._on_ready)
        self._signals.failed.connect(self._on_failed)
        self.placeholder = placeholder(edge)
        self.broken = failed_placeholder(edge, "✕", "cannot show", "#b03030")  # unreadable, not an image
        self.gone = failed_placeholder(edge, "?", "file missing", "#9a5b00")  # not there (moved, unplugged)

    def size(self) -> QSize:
        return QSize(self.edge, self.edge)

    def get(self, path: str) -> QPixmap | None:
        pm = self._memory.get(path)
        if pm is not None:
            self._memory.move_to_end(path)
            return pm
        if path in self.errors:
            return self.gone if path in self.missing else self.broken
        if path not in self._pending:
            self._pending.add(path)
            self._pool.start(_Job(path, self.edge, self.cache_root, self._signals))
        return None

    def forget(self, path: str) -> None:
        self._memory.pop(path, None)
        self.retry(path)

    def retry(self, path: str) -> None:
        """Try a failed thumbnail again on the next ``get`` (the file may be back, or fixed)."""
        self.errors.pop(path, None)
        self.missing.discard(path)

    def retry_failed(self) -> None:
        """Try every failed thumbnail again on its next ``get`` (a new search, a refresh)."""
        self.errors.clear()
        self.missing.clear()

    def describe_error(self, path: str) -> str:
        """What to tell the person about a thumbnail that failed, or "" when none did."""
        if path not in self.errors:
            return ""
        if path in self.missing:
            return f"File not found: {path}"
        return f"Cannot show this photo: {self.errors[path]}"

    def _on_ready(self, path: str, img: QImage) -> None:
        self._pending.discard(path)
        self._memory[path] = QPixmap.fromImage(img)
        while len(self._memory) > self._memory_items:
            self._memory.popitem(last=False)
        self.ready.emit(path)

    def _on_failed(self, path: str, message: str, missing: bool) -> None:
        self._pending.discard(path)
        self._memory.pop(path, None)
        self.errors[path] = message
        if missing:
            self.missing.add(path)
        else:
            self.missing.discard(path)
        self.ready.emit(path)

    @property
    def pending(self) -> int:
        """How many thumbnails are being made."""
        return len(self._pending)

    def wait(self, msecs: int = 5000) -> bool:
        return bool(self._pool.waitForDone(msecs))

    def shutdown(self) -> None:
        self._pool.clear()
        self._pool.waitForDone()
