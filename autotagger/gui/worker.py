"""Catalogue calls off the GUI thread.

A :class:`CatalogClient` owns one QThread with one catalogue object opened *in that thread*
(the catalogue is one-per-thread). The GUI asks for work with ``call(fn, *args, on_done=...)``;
``fn(catalog, *args)`` runs on the worker thread and its result comes back through a queued
signal to the callback on the GUI thread. The worker never touches a widget.

A failure that is the catalogue's own, not the call's (the file is damaged, or cannot be opened at
all), is also said by ``catalogError``: every call then fails the same way, on every client, and the
window says it once (see MainWindow.catalog_problem) rather than once per call that met it.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

log = logging.getLogger(__name__)

CatalogFactory = Callable[[], Any]


def one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def catalog_wide(exc: BaseException, opening: bool) -> bool:
    """Whether ``exc`` is the catalogue's own failure, which every later call meets too: a damaged
    file, or one that cannot be opened (missing, newer schema, on a network filesystem...)."""
    from autotagger.catalog.errors import CatalogDamaged

    return opening or isinstance(exc, CatalogDamaged)


class _Worker(QObject):
    done = Signal(int, object)
    failed = Signal(int, str, bool)  # token, one line, the catalogue's own failure (catalog_wide)

    def __init__(self, factory: CatalogFactory) -> None:
        super().__init__()
        self._factory = factory
        self._catalog: Any = None

    @Slot(int, object, object)
    def run(self, token: int, fn: object, args: object) -> None:
        opening = self._catalog is None
        try:
            if self._catalog is None:
                self._catalog = self._factory()
            opening = False
            result = fn(self._catalog, *args)  # type: ignore[operator, misc]
        except Exception as exc:  # any failure is reported, never raised into Qt
            log.debug("catalogue call failed", exc_info=True)
            self.failed.emit(token, one_line(exc), catalog_wide(exc, opening))
            return
        self.done.emit(token, result)

    @Slot()
    def close(self) -> None:
        cat, self._catalog = self._catalog, None
        if cat is not None and hasattr(cat, "close"):
            try:
                cat.close()
            except Exception:  # closing is best effort
                log.debug("catalogue close failed", exc_info=True)


class CatalogClient(QObject):
    """Runs ``fn(catalog, *args)`` calls one after another on a private thread."""

    _request = Signal(int, object, object)
    _close = Signal()
    error = Signal(str)  # a call failed and had no on_error: one line for the status bar
    # the catalogue itself failed (damaged, cannot be opened): one line, said before the call's own
    # on_error runs (or instead of ``error``), so that the window knows it when that comes
    catalogError = Signal(str)
    busyChanged = Signal(bool)

    def __init__(self, factory: CatalogFactory, name: str = "catalog", parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread = QThread()
        self._thread.setObjectName(name)
        self._worker = _Worker(factory)
        self._worker.moveToThread(self._thread)
        self._request.connect(self._worker.run)
        self._close.connect(self._worker.close)
        self._worker.done.connect(self._on_done)
        self._worker.failed.connect(self._on_failed)
        self._tokens = itertools.count(1)
        self._pending: dict[int, tuple[Callable[[Any], None] | None, Callable[[str], None] | None]] = {}
        self._thread.start()

    def call(
        self,
        fn: Callable[..., Any],
        *args: Any,
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[str], None] | None = None,
    ) -> int:
        token = next(self._tokens)
        self._pending[token] = (on_done, on_error)
        if len(self._pending) == 1:
            self.busyChanged.emit(True)
        self._request.emit(token, fn, args)
        return token

    @property
    def pending(self) -> int:
        return len(self._pending)

    def _pop(self, token: int) -> tuple[Callable[[Any], None] | None, Callable[[str], None] | None]:
        cbs = self._pending.pop(token, (None, None))
        if not self._pending:
            self.busyChanged.emit(False)
        return cbs

    @Slot(int, object)
    def _on_done(self, token: int, result: object) -> None:
        on_done, _ = self._pop(token)
        if on_done is not None:
            on_done(result)

    @Slot(int, str, bool)
    def _on_failed(self, token: int, message: str, whole: bool) -> None:
        _, on_error = self._pop(token)
        if whole:
            self.catalogError.emit(message)
        if on_error is not None:
            on_error(message)
        elif not whole:
            self.error.emit(message)

    def shutdown(self) -> None:
        if not self._thread.isRunning():
            return
        self._close.emit()
        self._thread.quit()
        self._thread.wait()
