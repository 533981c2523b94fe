"""folder:PATH as a person types it: relative, ./, .., ~, trailing slashes, through a symlink."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from autotagger.catalog import Catalog
from tests.catalog.helpers import names, result


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Catalog, Path]:
    """photos/2024/{a,b}.jpg and other/c.jpg catalogued by absolute path (as the watcher stores
    them), a symlink link -> photos, the current folder and $HOME both the tree's root."""
    root = Path(os.path.realpath(tmp_path))
    for sub in ("photos/2024/sub", "other"):
        (root / sub).mkdir(parents=True)
    (root / "link").symlink_to(root / "photos", target_is_directory=True)
    cat = Catalog(root / "c.sqlite3")
    for rel in ("photos/2024/a.jpg", "photos/2024/sub/b.jpg", "other/c.jpg"):
        cat.record_result(result(str(root / rel)))
    monkeypatch.chdir(root)
    monkeypatch.setenv("HOME", str(root))
    yield cat, root
    cat.close()


@pytest.mark.parametrize(
    "query",
    ["folder:photos", "folder:./photos/", "folder:photos//", "folder:other/../photos", "folder:~/photos",
     'folder:"~/photos/"', "folder:photos/2024/..", "folder:link", "folder:./link/", "folder:~/link"],
)
def test_folder_as_typed_finds_what_is_below(tree: tuple[Catalog, Path], query: str) -> None:
    cat, _ = tree
    assert names(cat, query) == {"a.jpg", "b.jpg"}


def test_relative_to_the_current_folder_negated_and_symlinked_below(
    tree: tuple[Catalog, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    cat, root = tree
    assert names(cat, "-folder:photos") == {"c.jpg"}
    assert names(cat, "-folder:link/2024/sub") == {"a.jpg", "c.jpg"}
    assert names(cat, "folder:link/2024/sub") == {"b.jpg"}
    monkeypatch.chdir(root / "photos" / "2024")
    assert names(cat, "folder:.") == {"a.jpg", "b.jpg"}
    assert names(cat, "folder:sub") == {"b.jpg"}
    assert names(cat, "folder:..") == {"a.jpg", "b.jpg"}
    assert names(cat, "folder:../..") == {"a.jpg", "b.jpg", "c.jpg"}
    assert names(cat, "folder:nowhere") == set()


def test_a_photo_catalogued_through_the_symlink_is_found_by_it(tree: tuple[Catalog, Path]) -> None:
    """The watcher keeps the path it was given: a folder watched as link/ stores link/... paths."""
    cat, root = tree
    cat.record_result(result(str(root / "link" / "2024" / "d.jpg")))
    assert names(cat, "folder:link/2024") == {"a.jpg", "b.jpg", "d.jpg"}
    assert names(cat, f"folder:{root}/link") == {"a.jpg", "b.jpg", "d.jpg"}
