"""What a photographer may type wrong, found by trying every command: each says what is wrong in one
line with a meaningful exit code, and `--json` output stays JSON Lines, one line for every path given."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from autotagger.cli import tag_cmd
from tests.cli.helpers import run
from tests.cli.test_tag_safety import _Fake, catalogue_rows, photos


@pytest.fixture
def catalogue(tmp_path: Path) -> Path:
    from autotagger.catalog import Catalog
    from autotagger.types import Tag, TagResult

    path = tmp_path / "cat.sqlite3"
    cat = Catalog(path)
    try:
        for i in range(3):
            result = TagResult(path=str(tmp_path / f"beach{i}.jpg"), caption=f"a beach {i}",
                               tags=(Tag("outdoors", 0.9, "setting"),), model_id="fake")
            cat.record_result(result, size=10, mtime=time.time(), content_hash=f"h{i}")
    finally:
        cat.close()
    return path


def test_a_limit_or_offset_past_what_sqlite_takes_is_no_error(catalogue: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    huge = "99999999999999999999"
    code, out, err = run(capsys, "--catalog", str(catalogue), "search", "beach", "--limit", huge)
    assert (code, err, len(out.splitlines())) == (0, "", 3)  # it was "OverflowError: Python int too large ..."
    code, out, err = run(capsys, "--catalog", str(catalogue), "search", "beach", "--offset", huge)
    assert (code, out, err) == (0, "", "")


@pytest.mark.parametrize("argv", [["status"], ["search", "beach"], ["tags"], ["folders", "list"]])
def test_a_config_file_given_that_is_not_there_is_said(catalogue: Path, tmp_path: Path, argv: list[str],
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "setings.toml"  # a typo: the run would go on with the defaults, silently
    code, out, err = run(capsys, "--config", str(missing), "--catalog", str(catalogue), *argv)
    assert (code, out) == (2, "")
    assert err == f"autotagger: error: --config {missing}: no such file (leave --config out to use the default one)\n"


def test_tag_json_has_a_line_for_a_path_that_is_not_there(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(tag_cmd, "load_tagger", lambda settings: _Fake())
    (real,) = photos(tmp_path / "p", 1)
    missing = tmp_path / "p" / "IMG_0001 copy.jpg"
    code, out, err = run(capsys, "--catalog", str(tmp_path / "c.sqlite3"), "tag", str(missing), str(real), "--json")
    assert code == 1
    lines = [json.loads(line) for line in out.splitlines()]
    assert [(o["path"], o["ok"]) for o in lines] == [(str(missing), False), (str(real), True)]
    assert lines[0]["error"] == "no such file or folder" and lines[0]["tags"] == []
    assert err == f"autotagger: error: {missing}: no such file or folder\n"


def test_undo_json_has_a_line_for_a_path_that_is_not_there(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "gone.jpg"
    code, out, err = run(capsys, "undo", str(missing), "--json")
    assert code == 1
    (obj,) = [json.loads(line) for line in out.splitlines()]
    assert obj["path"] == str(missing) and obj["errors"] == [f"{missing}: no such file"]
    assert err == f"autotagger: error: {missing}: no such file\n"


def test_ctrl_c_while_a_library_loads_the_model_leaves_stdout_json_and_says_interrupted(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def load(settings: Any) -> Any:
        try:  # as huggingface_hub's lazy import does: print, then raise again
            signal.raise_signal(signal.SIGINT)
            return _Fake()
        except Exception as exc:
            print(f"Error importing huggingface_hub.file_download: {exc}")
            raise

    monkeypatch.setattr(tag_cmd, "load_tagger", load)
    photos(tmp_path / "p", 3)
    cat = tmp_path / "c.sqlite3"
    code, out, err = run(capsys, "--catalog", str(cat), "tag", str(tmp_path / "p"), "--json")
    assert (code, out) == (130, "")  # stdout had "Error importing ...": not JSON
    assert err == "autotagger: error: interrupted after 0 of 3 photos\n"
    assert catalogue_rows(cat) == {}
