"""Fixtures for the GUI tests: a few hundred small generated photos, tagged in a real catalogue."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import gc
from dataclasses import dataclass
from pathlib import Path

import pytest

from autotagger.config import Settings

pytest.importorskip("PySide6")


@pytest.fixture(autouse=True)
def _qt_garbage_dies_on_the_gui_thread():  # type: ignore[no-untyped-def]
    """Qt objects a test leaves in reference cycles (a Tray, a PollingLink and its QTimer) are freed
    here, on the GUI thread: the cyclic GC, run later on a catalogue thread, would free them there and
    leave a timer that crashes the process when it fires."""
    yield
    gc.collect()

SUBJECTS = ("dog", "cat", "tree", "boat")
COLOURS = ("red", "green", "blue", "yellow", "grey")
RGB = {"red": (200, 40, 40), "green": (40, 160, 60), "blue": (40, 70, 200), "yellow": (220, 200, 40),
       "grey": (128, 128, 128)}


@dataclass(frozen=True)
class Demo:
    root: Path
    catalog: Path
    paths: list[str]
    subjects: dict[str, str]  # path -> subject
    settings: Settings
    config: Path


def model_result(path: str, i: int):  # type: ignore[no-untyped-def]
    from autotagger.types import Answer, Tag, TagResult

    subject = SUBJECTS[i % len(SUBJECTS)]
    colour = COLOURS[i % len(COLOURS)]
    setting = "outdoors" if i % 2 else "indoors"
    return TagResult(
        path=path,
        caption=f"a {colour} {subject} {setting}",
        answers=(Answer("setting", "Question: Is this indoors or outdoors? Answer:", setting, 0.8),),
        tags=(Tag(f"setting|{setting}", 0.8, "setting"), Tag(f"subject|{subject}", 0.7, "subject")),
        model_id="fake/instant",
        question_set_version="test",
    )


def make_demo(root: Path, n: int) -> Demo:
    from PIL import Image

    from autotagger.catalog import Catalog, FileInfo

    photos = root / "photos"
    photos.mkdir(parents=True)
    paths, subjects, items = [], {}, []
    for i in range(n):
        p = photos / f"img_{i:04d}.jpg"
        Image.new("RGB", (48, 32), RGB[COLOURS[i % len(COLOURS)]]).save(p, quality=80)
        st = p.stat()
        paths.append(str(p))
        subjects[str(p)] = SUBJECTS[i % len(SUBJECTS)]
        items.append((model_result(str(p), i), FileInfo(size=st.st_size, mtime=st.st_mtime, width=48, height=32)))
    cat_path = root / "catalog.sqlite3"
    with Catalog(cat_path) as cat:
        cat.bulk_record(items)
        cat.add_folder(str(photos))
    settings = Settings(catalog=str(cat_path), write="embed", model=str(root))  # model: a folder, no notice
    return Demo(root, cat_path, paths, subjects, settings, root / "config.toml")


@pytest.fixture
def demo(tmp_path: Path) -> Demo:
    return make_demo(tmp_path, 240)


@pytest.fixture
def window(qtbot, demo: Demo, tmp_path: Path):  # type: ignore[no-untyped-def]
    from autotagger.gui.app import catalog_opener
    from autotagger.gui.window import MainWindow

    win = MainWindow(demo.settings, demo.config, catalog_opener(demo.catalog), tmp_path / "thumbs")
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: win.model.total == len(demo.paths) and not win.model.loading, timeout=10000)
    yield win
    win.shutdown()
