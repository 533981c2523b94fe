"""Settings: Save writes only what the person changed (not this run's flags, environment or defaults);
one list of watched folders for the Folders tab, Settings > Watching and every way of running; every
column of the question editor in view; an edited question set gets its own version."""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
import sys
from pathlib import Path

import pytest

from autotagger.config import Settings, load_settings
from autotagger.gui.settings_dialog import SettingsDialog
from tests.gui.conftest import Demo, make_demo

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def _pick(combo, value: str) -> None:  # type: ignore[no-untyped-def]
    i = combo.findData(value)
    assert i >= 0, value
    combo.setCurrentIndex(i)


def _toml(path: Path) -> dict:  # type: ignore[type-arg]
    return tomllib.loads(path.read_text(encoding="utf-8"))


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh config file path and catalogue; no AUTOTAGGER_* variable but those a test sets."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    for key in list(os.environ):
        if key.startswith("AUTOTAGGER_"):
            monkeypatch.delenv(key)
    return tmp_path / "config.toml"


@pytest.fixture
def small(tmp_path: Path) -> Demo:
    return make_demo(tmp_path / "demo", 12)


@pytest.fixture
def owned(qtbot):  # type: ignore[no-untyped-def]
    """The top-level widgets a test makes, closed and deleted here, on the GUI thread. Left to Python,
    a window (held in a cycle by its own lambdas) is freed by the cyclic GC on whichever thread runs it
    (a catalogue thread), and its timers, stopped from the wrong thread, crash a later event loop."""
    import shiboken6

    made: list = []  # type: ignore[type-arg]
    yield made
    for w in reversed(made):
        if shiboken6.isValid(w):
            if hasattr(w, "shutdown"):
                w.shutdown()
            w.close()
            shiboken6.delete(w)


def _dialog(owned, qtbot, settings: Settings, config: Path, **kw) -> SettingsDialog:  # type: ignore[no-untyped-def]
    dlg = SettingsDialog(settings, config, **kw)
    owned.append(dlg)
    qtbot.waitUntil(lambda: dlg.catalog.pending == 0, timeout=5000)  # the watched folders are listed
    return dlg


def _window(owned, qtbot, demo: Demo, settings: Settings, config: Path):  # type: ignore[no-untyped-def]
    from autotagger.gui.app import catalog_opener
    from autotagger.gui.window import MainWindow

    win = MainWindow(settings, config, catalog_opener(demo.catalog), demo.root / "thumbs")
    owned.append(win)
    win.show()
    qtbot.waitUntil(lambda: win.model.total == len(demo.paths) and not win.model.loading, timeout=10000)
    return win


def _through_the_window(owned, qtbot, win, act) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    """Settings… in the window (a modal exec), with ``act(dialog)`` done in it; (result, error line)."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    out: list[tuple[int, str]] = []

    def drive() -> None:
        qtbot.waitUntil(lambda: isinstance(QApplication.activeModalWidget(), SettingsDialog), timeout=5000)
        dlg = QApplication.activeModalWidget()
        assert isinstance(dlg, SettingsDialog)
        qtbot.waitUntil(lambda: dlg.catalog.pending == 0, timeout=5000)
        act(dlg)
        out.append((dlg.result(), dlg.error.text()))

    QTimer.singleShot(0, drive)
    win.open_settings()
    assert out, "the settings dialog did not open"
    return out[0]


# -- 6: Save writes what the person changed, nothing else ---------------------------------------------
def test_save_keeps_this_runs_flags_and_environment_out_of_the_file(
    qtbot, owned, env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from autotagger.cli.common import load_settings_from_args

    env.write_text(f'model = "{tmp_path / "tiny"}"\n', encoding="utf-8")
    monkeypatch.setenv("AUTOTAGGER_DEVICE", "cpu")  # a one-off, for this run
    catalog = tmp_path / "other.sqlite3"
    settings = load_settings_from_args(argparse.Namespace(config=str(env), catalog=str(catalog)))  # as `gui` does
    assert (settings.device, settings.catalog) == ("cpu", str(catalog))
    dlg = _dialog(owned, qtbot, settings, env)
    assert dlg.device.currentData() == "cpu"  # shown as this run has it
    _pick(dlg.dtype, "float32")
    dlg.poll.setChecked(True)
    dlg.save()
    assert dlg.result() == dlg.DialogCode.Accepted, dlg.error.text()

    assert _toml(env) == {"model": str(tmp_path / "tiny"), "dtype": "float32", "poll": True}  # no catalog, device, defaults
    assert dlg.saved is not None  # this run goes on with its flag and variable, and the changes
    assert (dlg.saved.catalog, dlg.saved.device, dlg.saved.dtype, dlg.saved.poll) == (str(catalog), "cpu", "float32", True)
    monkeypatch.delenv("AUTOTAGGER_DEVICE")
    again = load_settings(env)
    assert (again.device, again.catalog, again.decode, again.questions) == ("auto", "", "auto", "")


def test_a_changed_override_is_saved_and_a_default_is_left_out(
    qtbot, owned, env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env.write_text('device = "cuda"\nbatch_size = 4\n', encoding="utf-8")
    monkeypatch.setenv("AUTOTAGGER_DEVICE", "cpu")
    dlg = _dialog(owned, qtbot, load_settings(env), env)
    _pick(dlg.device, "auto")  # the person picks the default: the key goes, the default applies later
    dlg.batch.setValue(6)
    dlg.save()
    assert dlg.result() == dlg.DialogCode.Accepted, dlg.error.text()
    assert _toml(env) == {"batch_size": 6}
    assert dlg.saved is not None and dlg.saved.device == "auto"


def test_save_keeps_what_the_file_got_since_the_dialog_opened(qtbot, owned, env: Path) -> None:
    env.write_text('write = "sidecar"\n', encoding="utf-8")
    dlg = _dialog(owned, qtbot, load_settings(env), env)
    env.write_text('write = "sidecar"\nsettle_seconds = 9.0\n', encoding="utf-8")  # the CLI, meanwhile
    dlg.backup.setChecked(True)
    dlg.save()
    assert dlg.result() == dlg.DialogCode.Accepted, dlg.error.text()
    assert _toml(env) == {"write": "sidecar", "settle_seconds": 9.0, "keep_backup": True}


def test_save_with_nothing_changed_writes_nothing(qtbot, owned, env: Path) -> None:
    dlg = _dialog(owned, qtbot, Settings(device="cpu"), env)
    dlg.save()
    assert dlg.result() == dlg.DialogCode.Accepted, dlg.error.text()
    assert not env.exists()
    assert dlg.saved == Settings(device="cpu")


def test_window_save_keeps_the_catalogue_of_this_run(qtbot, owned, small: Demo, env: Path) -> None:
    win = _window(owned, qtbot, small, small.settings, env)

    def act(dlg: SettingsDialog) -> None:
        _pick(dlg.write, "both")
        dlg.save()

    result, error = _through_the_window(owned, qtbot, win, act)
    assert result == SettingsDialog.DialogCode.Accepted, error
    assert _toml(env) == {"write": "both"}
    assert win.settings.catalog == str(small.catalog) and win.settings.write == "both"


# -- 7: one list of watched folders ------------------------------------------------------------------
def test_watching_tab_edits_the_catalogue_list_the_folders_tab_shows(qtbot, owned, small: Demo, env: Path,
                                                                   tmp_path: Path) -> None:
    from autotagger.catalog import Catalog

    photos = str(small.root / "photos")
    new = tmp_path / "new"
    new.mkdir()
    win = _window(owned, qtbot, small, small.settings, env)
    qtbot.waitUntil(lambda: win.folders.folders() == [photos], timeout=5000)
    dlg = SettingsDialog(win.settings, env, parent=win)
    qtbot.waitUntil(lambda: dlg.folders.folders() == [photos], timeout=5000)  # the same list
    dlg.folders.addRequested.emit(str(new))
    qtbot.waitUntil(lambda: dlg.folders.folders() == [photos, str(new)], timeout=5000)
    with Catalog(small.catalog) as cat:
        assert [f.path for f in cat.list_folders()] == [photos, str(new)]  # at once, in the catalogue
    dlg.folders.list.setCurrentRow(0)
    dlg.folders.remove.click()
    qtbot.waitUntil(lambda: dlg.folders.folders() == [str(new)], timeout=5000)
    dlg.reject()  # the list's edits are not undone by Cancel; the Folders tab follows
    qtbot.waitUntil(lambda: win.folders.folders() == [str(new)], timeout=5000)
    assert not env.exists()  # nothing of it went to the config file


def test_extra_folders_from_the_settings_file_show_in_both_and_leave_from_the_file(
    qtbot, owned, small: Demo, env: Path, tmp_path: Path
) -> None:
    from autotagger.config import save_settings

    photos = str(small.root / "photos")
    extra = str(tmp_path / "headless")
    save_settings(Settings(folders=[extra], write="embed"), env)
    win = _window(owned, qtbot, small, dataclasses.replace(load_settings(env), catalog=str(small.catalog)), env)
    qtbot.waitUntil(lambda: win.folders.folders() == [photos, extra], timeout=5000)
    item = win.folders.list.item(1)
    assert "settings file" in item.text()
    win.folders.list.setCurrentRow(1)
    assert not win.folders.remove.isEnabled()  # the Folders tab does not edit the file
    win.folders.list.setCurrentRow(0)
    assert win.folders.remove.isEnabled()

    def act(dlg: SettingsDialog) -> None:
        assert dlg.folders.folders() == [photos, extra]  # the same list
        dlg.folders.list.setCurrentRow(1)
        assert dlg.folders.remove.isEnabled()
        dlg.folders.remove.click()
        assert dlg.folders.folders() == [photos]
        dlg.save()

    result, error = _through_the_window(owned, qtbot, win, act)
    assert result == SettingsDialog.DialogCode.Accepted, error
    assert _toml(env) == {"write": "embed"}  # out of the file, the rest kept
    assert win.settings.folders == []
    qtbot.waitUntil(lambda: win.folders.folders() == [photos], timeout=5000)


def test_folders_from_the_environment_are_shown_but_not_removable(
    qtbot, owned, env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUTOTAGGER_FOLDERS", str(tmp_path / "x"))
    dlg = _dialog(owned, qtbot, load_settings(env).replace(catalog=str(tmp_path / "c.sqlite3")), env)
    assert dlg.folders.folders() == [str(tmp_path / "x")]
    assert "AUTOTAGGER_FOLDERS" in dlg.folders.list.item(0).text()
    dlg.folders.list.setCurrentRow(0)
    assert not dlg.folders.remove.isEnabled()


def test_every_way_of_running_watches_the_catalogue_and_the_settings_folders(tmp_path: Path) -> None:
    from autotagger.catalog import Catalog
    from autotagger.gui.tray import service_options
    from autotagger.service.service import ServiceOptions

    cat_path = tmp_path / "c.sqlite3"
    with Catalog(cat_path) as cat:
        cat.add_folder(str(tmp_path / "a"))
    settings = Settings(catalog=str(cat_path), folders=[str(tmp_path / "b"), str(tmp_path / "a")])
    both = [str(tmp_path / "a"), str(tmp_path / "b")]
    assert service_options(settings).folders == both  # the tray
    assert ServiceOptions.from_settings(settings, folders=None).folders == both  # `service`, `watch` without DIR
    assert ServiceOptions.from_settings(settings, folders=["/x"]).folders == ["/x"]  # `watch DIR`
    assert ServiceOptions.from_settings(dataclasses.replace(settings, folders=[])).folders == [str(tmp_path / "a")]
    nowhere = Settings(catalog=str(tmp_path / "none.sqlite3"), folders=["~/p"])
    assert ServiceOptions.from_settings(nowhere).folders == [os.path.expanduser("~/p")]
    assert not (tmp_path / "none.sqlite3").exists()


# -- 18: every column of a question in view ----------------------------------------------------------
@pytest.mark.parametrize("size", [None, (760, 520)])
def test_every_question_column_is_in_view(qtbot, owned, env: Path, tmp_path: Path, size) -> None:  # type: ignore[no-untyped-def]
    dlg = _dialog(owned, qtbot, Settings(catalog=str(tmp_path / "c.sqlite3")), env)
    if size:
        dlg.resize(*size)
    dlg.show()
    dlg.tabs.setCurrentIndex(dlg.tabs.indexOf(dlg.questions))
    qtbot.waitExposed(dlg)
    table = dlg.questions.table
    header = table.horizontalHeader()
    n = table.columnCount()

    def fits() -> bool:
        width = table.viewport().width()
        return (
            width > 0
            and table.horizontalScrollBar().maximum() == 0
            and all(header.sectionViewportPosition(c) >= 0 and
                    header.sectionViewportPosition(c) + header.sectionSize(c) <= width for c in range(n))
        )

    qtbot.waitUntil(fits, timeout=5000)
    fm = header.fontMetrics()
    for c in range(n):
        head = table.horizontalHeaderItem(c)
        assert head is not None and head.toolTip(), c
        assert header.sectionSize(c) >= fm.horizontalAdvance(head.text()) + 8, head.text()
    assert table.item(0, 1).toolTip() == table.item(0, 1).text()  # a cut-short cell is whole in its tooltip


# -- 19: an edited question set has its own version ---------------------------------------------------
def test_an_edited_question_set_gets_its_own_version(qtbot, owned, env: Path, tmp_path: Path) -> None:
    from autotagger.engine.questions import load_question_set
    from autotagger.types import Question

    shipped = load_question_set()
    dlg = _dialog(owned, qtbot, Settings(catalog=str(tmp_path / "c.sqlite3")), env)
    ed = dlg.questions
    assert ed.question_set().version == shipped.version  # untouched: still the shipped set
    ed._append(Question("mood", "What is the mood?", "open", "mood|{answer}"))
    edited = ed.question_set()
    assert re.fullmatch(re.escape(shipped.version) + r"\+custom-[0-9a-f]{8}", edited.version), edited.version
    assert ed.question_set().version == edited.version  # the same content, the same version
    ed.table.item(ed.table.rowCount() - 1, 1).setText("What is the mood here?")
    assert ed.question_set().version not in (edited.version, shipped.version)
    ed.table.removeRow(ed.table.rowCount() - 1)
    assert ed.question_set().version == shipped.version  # back to the shipped set

    ed._append(Question("mood", "What is the mood?", "open", "mood|{answer}"))
    dlg.save()
    assert dlg.result() == dlg.DialogCode.Accepted, dlg.error.text()
    loaded = load_settings(env, environ={})
    saved = load_question_set(loaded.questions)
    assert saved.version == edited.version

    again = _dialog(owned, qtbot, loaded.replace(catalog=str(tmp_path / "c.sqlite3")), env)  # edited again: one suffix
    again.questions._append(Question("sky", "Is the sky visible?", "closed", "sky", ("yes", "no")))
    version = again.questions.question_set().version
    assert version.startswith(shipped.version + "+custom-") and version.count("custom") == 1
    assert version != edited.version
