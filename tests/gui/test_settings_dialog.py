"""The settings dialog round-trips to the config file the CLI reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from autotagger.config import Settings, load_settings
from autotagger.gui.settings_dialog import SettingsDialog
from autotagger.types import Answer, Tag, TagResult


def _pick(combo, value: str) -> None:  # type: ignore[no-untyped-def]
    i = combo.findData(value)
    assert i >= 0, value
    combo.setCurrentIndex(i)


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))  # the dialog lists the catalogue's folders
    for key in list(__import__("os").environ):
        if key.startswith("AUTOTAGGER_"):
            monkeypatch.delenv(key)
    return tmp_path / "config.toml"


def test_settings_round_trip_to_the_config_file(qtbot, env: Path, tmp_path: Path) -> None:
    from autotagger.catalog import Catalog
    from autotagger.config import save_settings

    save_settings(Settings(folders=[str(tmp_path / "a")]), env)  # an extra folder from the file
    original = load_settings(env, environ={})
    dlg = SettingsDialog(original, env)
    qtbot.addWidget(dlg)
    dlg.model.setCurrentText(str(tmp_path / "my-blip2"))
    _pick(dlg.device, "cpu")
    _pick(dlg.dtype, "float32")
    _pick(dlg.quantize, "8bit")
    _pick(dlg.write, "sidecar")
    _pick(dlg.sidecar, "base")
    dlg.batch.setValue(3)
    dlg.settle.setValue(7.5)
    dlg.backup.setChecked(True)
    dlg.poll.setChecked(True)
    dlg.folders.addRequested.emit(str(tmp_path / "b"))  # Add…: into the catalogue's list, at once
    qtbot.waitUntil(lambda: dlg.folders.folders() == [str(tmp_path / "b"), str(tmp_path / "a")], timeout=5000)
    dlg.save()
    assert dlg.result() == dlg.DialogCode.Accepted, dlg.error.text()

    loaded = load_settings(env, environ={})
    assert loaded == dlg.saved
    assert (loaded.model, loaded.device, loaded.dtype, loaded.quantize) == (str(tmp_path / "my-blip2"), "cpu", "float32", "8bit")
    assert (loaded.write, loaded.sidecar_name, loaded.batch_size, loaded.settle_seconds) == ("sidecar", "base", 3, 7.5)
    assert loaded.keep_backup and loaded.poll
    assert loaded.folders == [str(tmp_path / "a")]  # the file's extra stays; the added one is the catalogue's
    with Catalog(loaded.catalog_path) as cat:
        assert [f.path for f in cat.list_folders()] == [str(tmp_path / "b")]
    assert loaded.questions == ""  # the questions were not touched: still the shipped set

    again = SettingsDialog(loaded, env)  # and back into the dialog
    qtbot.addWidget(again)
    assert again.settings() == loaded


def test_question_edits_are_saved_and_tried(qtbot, env: Path, tmp_path: Path) -> None:
    from autotagger.engine.questions import load_question_set

    calls = []

    def try_fn(qs, path):  # type: ignore[no-untyped-def]
        calls.append((qs, path))
        q = qs.questions[-1]
        return TagResult(path=path, caption="a cat on a sofa",
                         answers=(Answer(q.id, q.text, "sofa", None),), tags=(Tag("furniture|sofa"),))

    dlg = SettingsDialog(Settings(), env, try_fn=try_fn, image_path=str(tmp_path / "x.jpg"))
    qtbot.addWidget(dlg)
    ed = dlg.questions
    n = ed.table.rowCount()
    assert n >= 3  # the shipped set
    ed._append(__import__("autotagger.types", fromlist=["Question"]).Question(
        "furniture", "What furniture is in the photo?", "open", "furniture|{answer}"))
    ed.try_now()
    qtbot.waitUntil(lambda: "furniture|sofa" in ed.output.toPlainText(), timeout=5000)
    assert calls and calls[0][0].questions[-1].id == "furniture"

    dlg.save()
    assert dlg.result() == dlg.DialogCode.Accepted, dlg.error.text()
    loaded = load_settings(env, environ={})
    assert loaded.questions and Path(loaded.questions).is_file()
    qs = load_question_set(loaded.questions)
    assert [q.id for q in qs.questions][-1] == "furniture" and len(qs.questions) == n + 1


def test_a_bad_question_is_refused_with_one_line(qtbot, env: Path) -> None:
    dlg = SettingsDialog(Settings(), env)
    qtbot.addWidget(dlg)
    dlg.questions.table.item(0, 2).setText("maybe")  # kind
    dlg.save()
    assert dlg.result() != dlg.DialogCode.Accepted
    assert "kind" in dlg.error.text() and "\n" not in dlg.error.text()
    assert not env.exists()


def test_try_on_this_image_runs_the_edited_questions_on_the_real_engine(tmp_path, tiny_model):  # type: ignore[no-untyped-def]
    from PIL import Image

    from autotagger.engine.questions import parse_question_set
    from autotagger.gui.app import make_try_fn

    img = tmp_path / "p.jpg"
    Image.new("RGB", (120, 90), (10, 200, 30)).save(img)
    try_ = make_try_fn(Settings(model=str(tiny_model), device="cpu"))
    edited = parse_question_set(
        '[[question]]\nid="mood"\ntext="What is the mood?"\nkind="open"\ntag="mood|{answer}"\n'
        '[[question]]\nid="sky"\ntext="Is the sky visible?"\nanswers=["yes","no"]\ntag="sky"\nwhen=["yes"]\n'
    )
    result = try_(edited, str(img))
    assert result.error is None
    assert [a.question_id for a in result.answers] == ["mood", "sky"]
    assert result.answers[0].prompt == "Question: What is the mood? Answer:"
    assert result.answers[1].answer in ("yes", "no") and result.answers[1].confidence is not None
    again = try_(parse_question_set('[[question]]\nid="n"\ntext="How many?"\nanswers=["one","two"]\ntag="n|{answer}"\n'), str(img))
    assert [a.question_id for a in again.answers] == ["n"]  # the loaded model is reused with the new set
