"""`autotagger model download [ID] [--to DIR]` with no network (HF_HUB_OFFLINE): each case is one line
and an exit code; a local folder or file given for the hub id says so; `--to` takes only a new or empty
folder, and nothing in an existing one is overwritten or deleted; a model already whole in the cache
needs no network at all."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.cli.helpers import run
from tests.cli.test_model_cmd import _cache

REPO = "acme/blip2-test"


@pytest.fixture
def hf_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty Hugging Face cache of the test's own."""
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf"))
    return tmp_path / "hf"


def one_error(err: str) -> str:
    assert err.count("\n") == 1 and err.startswith("autotagger: error: ") and "Traceback" not in err, err
    return err.removeprefix("autotagger: error: ").rstrip("\n")


def listing(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("spelling", ["{path}", "./{name}"])
def test_a_local_folder_for_the_id_is_said_and_left_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str], spelling: str) -> None:
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "my-blip2"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    given = spelling.format(path=folder, name=folder.name)
    code, out, err = run(capsys, "model", "download", given)
    assert (code, out) == (2, "")  # it printed the folder and said 0: nothing had been downloaded
    assert one_error(err) == (f"{given} is already a local folder: nothing to download (use it as --model {given}; "
                              "to download into a folder: autotagger model download ID --to DIR)")
    assert listing(folder) == {"notes.txt": b"mine"}


def test_a_file_for_the_id_is_said(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("mine")
    code, out, err = run(capsys, "model", "download", "notes.txt")
    assert (code, out) == (2, "")  # it was taken for a hub id and said the hub was off
    assert one_error(err) == "notes.txt is a file, not a hub id (a hub id looks like Salesforce/blip2-opt-2.7b)"
    code, out, err = run(capsys, "model", "info", "notes.txt")
    assert (code, out) == (1, "")  # it said "notes.txt: not downloaded (run: autotagger model download notes.txt)"
    assert one_error(err) == "notes.txt is a file, not a model folder (a hub id looks like Salesforce/blip2-opt-2.7b)"


@pytest.mark.usefixtures("hf_cache")
@pytest.mark.parametrize("case", ["a file", "a folder with files", "a missing parent"])
def test_to_refuses_what_it_would_overwrite_before_anything_else(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str) -> None:
    dest = {"a file": tmp_path / "model.bin", "a folder with files": tmp_path / "models",
            "a missing parent": tmp_path / "no-such" / "blip2"}[case]
    if case == "a file":
        dest.write_bytes(b"someone's file")
    elif case == "a folder with files":
        (dest / "old").mkdir(parents=True)
        (dest / "old" / "config.json").write_text("{}")
        (dest / "photo.jpg").write_bytes(b"jpeg")
    before = listing(tmp_path)
    code, out, err = run(capsys, "model", "download", REPO, "--to", str(dest))
    assert (code, out) == (2, "")
    assert one_error(err) == {
        "a file": f"{dest} is a file, not a folder",
        "a folder with files": f"{dest} is not empty: give a new or empty folder (nothing in it was changed)",
        "a missing parent": f"{dest}: its folder {dest.parent} does not exist",
    }[case]
    assert listing(tmp_path) == before and not (tmp_path / "no-such").exists()


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes whatever the mode says")
@pytest.mark.usefixtures("hf_cache")
def test_to_a_folder_that_cannot_be_written(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        code, out, err = run(capsys, "model", "download", REPO, "--to", str(locked / "blip2"))
    finally:
        locked.chmod(0o755)
    assert (code, out) == (1, "")
    assert one_error(err) == f"cannot write into {locked}: permission denied"


def test_to_copies_a_model_whole_in_the_cache_without_network(
        tiny_model: Path, hf_cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _cache(hf_cache, REPO, tiny_model, lambda name: True)
    for dest in (tmp_path / "new", tmp_path / "empty"):
        if dest.name == "empty":
            dest.mkdir()
        code, out, err = run(capsys, "model", "download", REPO, "--to", str(dest))
        assert (code, out, err) == (0, f"{dest}\n", "")
        assert listing(dest) == listing(tiny_model)  # and no staging folder left behind
        code, out, err = run(capsys, "model", "info", str(dest))
        assert (code, out, err) == (0, f"{dest}: available offline at {dest}\n", "")


def test_without_network_a_model_whole_in_the_cache_is_already_downloaded(
        tiny_model: Path, hf_cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    snapshot = _cache(hf_cache, REPO, tiny_model, lambda name: True)
    code, out, err = run(capsys, "model", "download", REPO)
    assert (code, out, err) == (0, f"{snapshot}\n", "")  # it said the hub was off, exit 1


@pytest.mark.parametrize("cached", ["nothing", "no weights"])
def test_to_without_network_and_without_the_model_makes_nothing(
        tiny_model: Path, hf_cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], cached: str) -> None:
    if cached == "no weights":
        _cache(hf_cache, REPO, tiny_model, lambda name: not name.endswith(".safetensors"))
    dest = tmp_path / "blip2"
    code, out, err = run(capsys, "model", "download", REPO, "--to", str(dest))
    assert (code, out) == (1, "")
    line = one_error(err)
    assert line.startswith(f"the Hugging Face hub is switched off (HF_HUB_OFFLINE) and {REPO} is ")
    assert ("not in its cache" if cached == "nothing" else "only partly in its cache (has no .safetensors") in line
    assert not dest.exists()
