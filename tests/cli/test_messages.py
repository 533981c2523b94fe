"""Failures no command foresaw still say what went wrong in one line: a file and its reason, a bad
setting as the setting says it; never a Python class name for a missing file or folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from autotagger.cli import last_resort_message, main


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    return code, err


def test_a_catalogue_that_is_a_folder_is_named_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _run(capsys, "status", "--catalog", str(tmp_path))
    assert code == 1 and "is a folder, not a catalogue file" in err


def test_pausing_a_service_on_a_catalogue_whose_folder_is_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = _run(capsys, "service", "--pause", "--catalog", str(tmp_path / "nowhere" / "c.sqlite3"))
    assert code == 1 and "no catalogue at" in err and "Error" not in err and ".tmp" not in err


def test_model_info_on_a_missing_or_wrong_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _run(capsys, "model", "info", str(tmp_path / "no-such-model"))
    assert code == 1 and "no model folder" in err and "HFValidationError" not in err
    code, err = _run(capsys, "model", "info", str(tmp_path))
    assert code == 1 and "not a model folder" in err


def test_the_last_guard_names_the_file_and_the_reason() -> None:
    from autotagger.config import ConfigError

    assert last_resort_message(FileNotFoundError(2, "No such file or directory", "/x/a.toml")) == (
        "/x/a.toml: no such file or directory"
    )
    assert last_resort_message(ConfigError("settle_seconds must be >= 0, not -3.0")) == (
        "settle_seconds must be >= 0, not -3.0"
    )
    assert last_resort_message(ValueError("odd\nthing")) == "ValueError: odd thing"
