"""Start-up glue for the window: the QApplication, the catalogue opener, the service link."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from autotagger.config import Settings, cache_dir


def catalog_opener(path: Path) -> Callable[[bool], Any]:
    """``open(readonly)``, called on a catalogue thread. A reader on a catalogue not made yet (no
    file, or an empty one: the first run) first lets a writer make it. An older catalogue the reader
    upgrades itself, under the writer lock (catalog/upgrade.py); where it cannot (an older autotagger
    still writing to it), its one-line error stands: a writer here would migrate it behind that
    process's back."""

    def open_(readonly: bool) -> Any:
        from autotagger.catalog import Catalog

        if not readonly:
            return Catalog(path)
        if not path.exists() or path.stat().st_size == 0:
            Catalog(path).close()
        return Catalog(path, readonly=True)

    return open_


def thumbnail_dir() -> Path:
    return cache_dir() / "thumbnails"


def make_try_fn(settings: Settings) -> Callable[[Any, str], Any]:
    """'Try on this image' in the settings dialog: the real tagger, loaded once, off the GUI thread."""
    cache: dict[str, Any] = {}

    def try_(question_set: Any, path: str) -> Any:
        from autotagger.engine.blip2 import Blip2Tagger
        from autotagger.imageio import load_image

        tagger = cache.get("tagger")
        if tagger is None:
            tagger = cache["tagger"] = Blip2Tagger.from_settings(settings)
        image = load_image(Path(path))
        return tagger.with_questions(question_set).tag_images([(path, image)])[0]

    return try_


def ensure_app(argv: list[str] | None = None) -> Any:
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        app = QApplication(argv if argv is not None else sys.argv[:1])
        app.setApplicationName("autotagger")
        app.setOrganizationName("autotagger")
        app.setDesktopFileName("autotagger")
    return app


def build_window(settings: Settings, config_path: Path, service: Any = None,
                 keep_running_in_tray: bool = False) -> Any:
    """The main window on ``settings.catalog_path``: live state from ``service`` (this process) or
    from the state file of a service started elsewhere."""
    from autotagger.gui.status import InProcessLink, PollingLink, remote_control, remote_reader
    from autotagger.gui.window import MainWindow

    cat = settings.catalog_path
    if service is not None:
        def link_factory(client: Any) -> Any:
            return InProcessLink(service)
    else:
        def link_factory(client: Any) -> Any:
            return PollingLink(client, remote_reader(cat), remote_control(cat))

    return MainWindow(
        settings,
        config_path,
        catalog_opener(cat),
        thumbnail_dir(),
        link_factory=link_factory,
        try_fn=make_try_fn(settings),
        keep_running_in_tray=keep_running_in_tray,
    )


def run_gui(settings: Settings, config_path: Path) -> int:
    app = ensure_app()
    win = build_window(settings, config_path)
    win.show()
    return int(app.exec())
