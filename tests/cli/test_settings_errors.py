"""A bad settings file or AUTOTAGGER_* variable is one line on stderr that names where the value came
from (the file, or the variable) and the key, and exit 2; a value of the wrong kind is refused, not
turned into something else (``batch_size = 2.7`` is not 2, ``[model]`` is not the model "{'x': 1}")."""

from __future__ import annotations

from pathlib import Path

import pytest

from autotagger.cli import main
from autotagger.config import ConfigError, load_settings


def _status(capsys: pytest.CaptureFixture[str], config: Path, tmp_path: Path) -> tuple[int, str]:
    code = main(["--config", str(config), "--catalog", str(tmp_path / "c.sqlite3"), "status"])
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1, captured.err
    return code, captured.err


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('write = "sometimes"\n', "write"),  # a value outside the choices
        ('batch_size = "many"\n', "batch_size"),  # not a number at all
        ("batch_size = -1\n", "batch_size"),
        ("batch_size = 2.7\n", "batch_size"),  # was silently 2
        ("settle_seconds = true\n", "settle_seconds"),  # was silently 1.0
        ("model = 5\n", "model"),  # was silently the hub id "5"
        ("[model]\nx = 1\n", "model"),  # was silently the model "{'x': 1}"
        ('catalog = ["a"]\n', "catalog"),  # was the catalogue file "['a']"
        ("folders = [1, 2]\n", "folders"),  # was silently the folders "1" and "2"
        ('keep_backup = "maybe"\n', "keep_backup"),
    ],
)
def test_a_bad_value_in_the_file_names_the_file_and_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, key: str
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(text, encoding="utf-8")
    code, err = _status(capsys, config, tmp_path)
    assert code == 2
    assert str(config) in err and key in err, err
    assert "no catalogue" not in err  # the setting is said, not what it led to


def test_values_a_person_may_write_either_way_are_still_read(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('batch_size = "4"\nsettle_seconds = 3\nrecursive = "no"\nfolders = "/a"\n', encoding="utf-8")
    s = load_settings(config, environ={})
    assert (s.batch_size, s.settle_seconds, s.recursive, s.folders) == (4, 3.0, False, ["/a"])


@pytest.mark.parametrize(("var", "value"), [("AUTOTAGGER_BATCH_SIZE", "x"), ("AUTOTAGGER_WRITE", "sometimes"),
                                            ("AUTOTAGGER_SETTLE_SECONDS", "-3")])
def test_a_bad_variable_is_named(tmp_path: Path, var: str, value: str) -> None:
    with pytest.raises(ConfigError, match=var):
        load_settings(tmp_path / "none.toml", environ={var: value})


def test_a_config_file_that_cannot_be_read_says_why_in_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "cfg"
    folder.mkdir()
    code, err = _status(capsys, folder, tmp_path)
    assert code == 2 and f"{folder}: is a directory" in err and "Errno" not in err, err
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe model")
    code, err = _status(capsys, binary, tmp_path)
    assert code == 2 and f"{binary}: not UTF-8 text" in err and "codec" not in err, err
