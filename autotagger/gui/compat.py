"""Work-arounds for the Qt binding.

PySide6 6.12.0 (with shiboken6 6.12.0) on CPython 3.11 drops references it does not own: every
``Signal.emit(True)`` takes one reference from ``True``, and a Python ``data()`` override that
returns ``None`` (and some selection-model calls) take one from ``None``. A long session runs these
refcounts down and the interpreter aborts ("bool_dealloc"/"none_dealloc: deallocating ..."), at
exit at the latest. Measured in this project: True's refcount falls by exactly 100 over 100 emits.

From CPython 3.12 on, None/True/False are immortal and nothing is needed. Before, we give the three
singletons a very large extra reference count once, which makes them effectively immortal too (they
are never freed anyway); that is safe whether or not the binding is fixed.
"""

from __future__ import annotations

import ctypes
import sys

_HEADROOM = 1 << 40  # ~10^12 lost references before it could matter


def protect_singletons() -> None:
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return
    for obj in (None, True, False):
        # ob_refcnt is the first field of every CPython object
        ctypes.c_ssize_t.from_address(id(obj)).value += _HEADROOM
