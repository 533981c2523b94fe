"""A --catalog in a folder that does not exist is refused by the commands that would make the
catalogue (a typo used to get its whole folder tree made, with a new empty catalogue in it)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from tests.cli.helpers import run


@pytest.mark.parametrize(
    "argv",
    [
        ["tag", "{photo}"],
        ["watch", "--once", "{photos}"],
        ["folders", "add", "{photos}"],
    ],
)
def test_a_command_that_makes_the_catalogue_refuses_a_missing_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    photo = photos / "a.jpg"
    Image.new("RGB", (64, 64), (10, 120, 30)).save(photo)
    typo = tmp_path / "Pictrues" / "2024" / "catalog.sqlite3"
    before = photo.read_bytes()
    args = [a.format(photo=photo, photos=photos) for a in argv]
    code, out, err = run(capsys, "--catalog", str(typo), *args)
    assert code == 2 and out == "", err
    assert len(err.strip().splitlines()) == 1 and f"there is no folder {typo.parent}" in err
    assert not (tmp_path / "Pictrues").exists()
    assert photo.read_bytes() == before and not list(photos.glob("*.xmp"))  # refused before any file


def test_readers_and_tag_without_a_catalogue_are_unchanged(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    typo = tmp_path / "nowhere" / "catalog.sqlite3"
    code, _, err = run(capsys, "--catalog", str(typo), "status")
    assert code == 1 and "no catalogue at" in err
    code, _, err = run(capsys, "--catalog", str(typo), "folders", "list")
    assert code == 0, err
    assert not typo.parent.exists()
