"""A bad --questions file is a usage error (exit 2, one line naming the file) for `tag`, `watch` and
`service` alike, and `watch`/`service` say so at once: not only when the first photo arrives (an empty
folder under cron said "0 tagged" and exit 0; a service started by systemd failed hours later), and
before the catalogue's folders are scanned and queued."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from autotagger.cli import main


@pytest.fixture
def bad_questions(tmp_path: Path) -> Path:
    path = tmp_path / "my questions.toml"
    path.write_text("this is [not toml\n", encoding="utf-8")
    return path


def _one_line(capsys: pytest.CaptureFixture[str]) -> str:
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1, captured.err
    return captured.err


@pytest.mark.parametrize("questions", ["bad", "missing"])
def test_watch_once_on_an_empty_folder_refuses_a_bad_question_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], bad_questions: Path, questions: str
) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    path = bad_questions if questions == "bad" else tmp_path / "nowhere.toml"
    code = main(["--catalog", str(tmp_path / "c.sqlite3"), "watch", str(folder), "--once", "--json",
                 "--model", str(tmp_path / "no-model-needed"), "--questions", str(path)])
    err = _one_line(capsys)
    assert code == 2 and str(path) in err, err
    assert not (tmp_path / "c.sqlite3").exists()  # nothing scanned, nothing queued


def test_service_refuses_a_bad_question_file_before_it_starts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], bad_questions: Path
) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    Image.new("RGB", (32, 32)).save(folder / "a.jpg")
    cat = tmp_path / "c.sqlite3"
    assert main(["--catalog", str(cat), "folders", "add", str(folder)]) == 0
    capsys.readouterr()
    code = main(["--catalog", str(cat), "service", "--questions", str(bad_questions),
                 "--model", str(tmp_path / "no-model-needed")])
    err = _one_line(capsys)
    assert code == 2 and str(bad_questions) in err, err


def test_tag_says_a_bad_question_file_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], bad_questions: Path
) -> None:
    photo = tmp_path / "a.jpg"
    Image.new("RGB", (32, 32)).save(photo)
    before = photo.read_bytes()
    code = main(["tag", str(photo), "--no-catalog", "--questions", str(bad_questions),
                 "--model", str(tmp_path / "no-model-needed")])
    err = _one_line(capsys)
    assert code == 2 and str(bad_questions) in err, err
    assert photo.read_bytes() == before
