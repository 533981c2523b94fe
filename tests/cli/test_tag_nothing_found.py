"""`tag` given nothing to tag says where it looked, in one line: with several paths in a script, "no
image files found" alone does not say which argument was wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from autotagger.cli import main


def test_an_empty_folder_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty folder"
    empty.mkdir()
    (empty / "notes.txt").write_text("not a photo", encoding="utf-8")
    code = main(["tag", str(empty), "--no-catalog", "--model", str(tmp_path / "unused")])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1, err
    assert "no image files found" in err and str(empty) in err and "--recursive" in err, err
