"""Commands that only look (or find nothing to do) leave no files behind: `folders list` and a
`folders remove` of a folder never added on a catalogue that does not exist yet, and `service
--pause/--resume/--stop` with no service running (a service starting later ignores such a request)."""

from __future__ import annotations

from pathlib import Path

import pytest

from autotagger.cli import main


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_folders_list_on_a_missing_catalogue_creates_none(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    assert main(["folders", "list", "--catalog", str(data / "c.sqlite3")]) == 0
    assert main(["folders", "list", "--json", "--catalog", str(data / "c.sqlite3")]) == 0
    assert capsys.readouterr().out == ""
    assert _files(data) == []


def test_removing_an_unknown_folder_from_a_missing_catalogue_creates_none(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    code = main(["folders", "remove", str(tmp_path), "--catalog", str(data / "c.sqlite3")])
    err = capsys.readouterr().err
    assert code == 2 and "not a watched folder" in err and err.count("\n") == 1
    assert _files(data) == []


def test_folders_add_still_creates_the_catalogue(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    data.mkdir()
    assert main(["folders", "add", str(tmp_path), "--catalog", str(data / "c.sqlite3")]) == 0
    assert main(["folders", "list", "--catalog", str(data / "c.sqlite3")]) == 0
    assert capsys.readouterr().out.splitlines() == [f"watching {tmp_path}", str(tmp_path)]


@pytest.mark.parametrize("verb", ["--pause", "--resume", "--stop"])
def test_controlling_no_service_leaves_no_request_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], verb: str
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    assert main(["service", verb, "--catalog", str(data / "c.sqlite3")]) == 0
    err = capsys.readouterr().err
    assert "no service is running" in err and err.count("\n") == 1
    assert _files(data) == []
