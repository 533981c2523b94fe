"""The main window's actions (its toolbar, the first-run page, the Folders tab, the status bar's
failed count): tag again, tag a folder, remove our tags, reveal, copy the caption, settings,
the failed files."""

from __future__ import annotations

import os
import subprocess
import sys

from PySide6.QtCore import QUrl, Signal
from PySide6.QtGui import QAction, QDesktopServices, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QMessageBox, QToolBar

from autotagger.gui import ops
from autotagger.gui.panels import FailedDialog
from autotagger.gui.window_parts import WindowParts


class ActionsMixin(WindowParts):
    """The actions, a part of MainWindow (see WindowParts)."""

    settingsSaved = Signal(object)


    def _add_actions(self, toolbar: QToolBar) -> dict[str, QAction]:
        """The toolbar's actions, by key."""
        actions: dict[str, QAction] = {}
        for key, text, slot, shortcut in (
            ("retag", "Tag again", self.retag_selected, "Ctrl+T"),
            ("folder", "Tag folder…", self.choose_folder_to_tag, ""),
            ("undo", "Remove our tags", self.undo_selected, ""),
            ("reveal", "Reveal", self.reveal_selected, ""),
            ("copy", "Copy caption", self.copy_caption, "Ctrl+Shift+C"),
            ("settings", "Settings…", self.open_settings, "Ctrl+,"),
        ):
            act = QAction(text, self)
            act.triggered.connect(slot)
            if shortcut:
                act.setShortcut(QKeySequence(shortcut))
            toolbar.addAction(act)
            actions[key] = act
        return actions

    def retag_selected(self) -> None:
        paths = self.selected_paths()
        if paths:
            self.writer.call(ops.retag, paths, on_done=lambda n: self.show_message(f"{n} image(s) queued"))

    def choose_folder_to_tag(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        d = QFileDialog.getExistingDirectory(self, "Tag every photo in a folder now")
        if d:
            self.tag_folder(d)

    def tag_folder(self, folder: str) -> None:
        self.writer.call(ops.tag_folder, folder, self.settings.recursive,
                         on_done=lambda n: self.show_message(f"{n} photo(s) in {folder} queued"))

    def undo_selected(self) -> None:
        paths = self.selected_paths()
        if not paths:
            return
        answer = QMessageBox.question(
            self, "Remove our tags",
            f"Remove the tags and caption the tagger wrote from {len(paths)} file(s)? A person's own stay.")
        if answer == QMessageBox.StandardButton.Yes:
            self.writer.call(ops.undo, paths, self.settings.sidecar_name, on_done=self._undone)

    def _undone(self, failures: list[tuple[str, str]]) -> None:
        self.show_message("; ".join(f"{os.path.basename(p)}: {e}" for p, e in failures) or "our tags removed")
        self.watch.poll()  # the grid, the tag tree and the pane as the catalogue has them now (changes.py)

    def reveal_selected(self) -> None:
        paths = self.selected_paths()
        if paths:
            reveal_in_file_manager(paths[0])

    def copy_caption(self) -> None:
        rec = self.detail.record
        if rec is not None:
            QGuiApplication.clipboard().setText(rec.caption or "")
            self.show_message("caption copied")

    def open_settings(self) -> None:
        from autotagger.gui.settings_dialog import SettingsDialog

        path = self.detail.record.path if self.detail.record is not None else ""
        dlg = SettingsDialog(self.settings, self.config_path, self.try_fn, path, self)
        if dlg.exec() and dlg.saved is not None:
            self.settings = dlg.saved
            self.show_model_notice()
            self.settingsSaved.emit(dlg.saved)
            self.show_message(f"settings saved to {self.config_path}")

    def show_failed(self) -> None:
        def show(failures: list[tuple[str, str]]) -> None:
            dlg = FailedDialog(failures, self)
            dlg.retryRequested.connect(
                lambda paths: self.writer.call(ops.retry_failed, paths,
                                               on_done=lambda n: self.show_message(f"{n} file(s) queued again")))
            dlg.exec()

        self.reader.call(ops.failed_files, on_done=show)


def reveal_in_file_manager(path: str) -> None:
    """Show the file selected in the platform's file manager (its folder, where that is all we can do)."""
    if sys.platform == "darwin":
        subprocess.Popen(["open", "-R", path])
    elif sys.platform == "win32":
        subprocess.Popen(["explorer", "/select,", os.path.normpath(path)])
    else:
        try:
            from PySide6.QtDBus import QDBusConnection, QDBusInterface

            iface = QDBusInterface("org.freedesktop.FileManager1", "/org/freedesktop/FileManager1",
                                   "org.freedesktop.FileManager1", QDBusConnection.sessionBus())
            if iface.isValid():
                iface.call("ShowItems", [QUrl.fromLocalFile(path).toString()], "")
                return
        except ImportError:
            pass
        QDesktopServices.openUrl(QUrl.fromLocalFile(os.path.dirname(path)))
