"""The config file keeps its own values: what flags and AUTOTAGGER_* variables give one run is not
written into it, nor are defaults. And the one list of watched folders, as the CLI sees it."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from autotagger.cli import main
from autotagger.config import (
    ConfigError,
    Settings,
    environment_overrides,
    load_settings,
    read_config_file,
    save_settings,
    union_folders,
    update_config_file,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for key in list(os.environ):
        if key.startswith("AUTOTAGGER_"):
            monkeypatch.delenv(key)
    path = tmp_path / "config.toml"
    monkeypatch.setenv("AUTOTAGGER_CONFIG", str(path))
    return path


def _toml(path: Path) -> dict:  # type: ignore[type-arg]
    return tomllib.loads(path.read_text(encoding="utf-8"))


def test_read_config_file_is_the_file_alone(config: Path) -> None:
    assert read_config_file(config) == {}
    config.write_text('device = "cuda"\nbatch_size = "4"\n', encoding="utf-8")
    assert read_config_file(config) == {"device": "cuda", "batch_size": 4}  # typed, no defaults
    assert load_settings(config, environ={"AUTOTAGGER_DEVICE": "cpu"}).device == "cpu"
    assert read_config_file(config)["device"] == "cuda"  # the variable is this run's only
    config.write_text("colour = 1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown setting 'colour'"):
        read_config_file(config)


def test_update_keeps_the_file_drops_defaults_and_checks_first(config: Path) -> None:
    config.write_text('model = "/m"\nwrite = "sidecar"\n', encoding="utf-8")
    update_config_file({"poll": True, "write": "auto"}, config)  # auto is the default: the key goes
    assert _toml(config) == {"model": "/m", "poll": True}
    with pytest.raises(ConfigError):
        update_config_file({"device": "tpu"}, config)
    with pytest.raises(ConfigError):
        update_config_file({"colour": "red"}, config)
    assert _toml(config) == {"model": "/m", "poll": True}  # nothing written for a bad change
    update_config_file({}, tmp := config.with_name("new.toml"))
    assert _toml(tmp) == {}


def test_save_settings_leaves_defaults_out(config: Path) -> None:
    save_settings(Settings(device="cpu"), config)
    assert _toml(config) == {"device": "cpu"}
    assert load_settings(config, environ={}) == Settings(device="cpu")


def test_environment_overrides_and_union_folders(tmp_path: Path) -> None:
    assert environment_overrides({"AUTOTAGGER_DEVICE": "cpu", "AUTOTAGGER_CATALOG": "/c", "HOME": "/h"}) == {
        "device", "catalog"}
    assert union_folders(["/a", "/b"], ["/b/", "~/p", "/a/../c"]) == ["/a", "/b", os.path.expanduser("~/p"), "/c"]


def test_folders_list_marks_those_from_the_settings(config: Path, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    cat = str(tmp_path / "c.sqlite3")
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    save_settings(Settings(folders=[str(b), str(a)]), config)
    assert main(["--catalog", cat, "folders", "add", str(a)]) == 0
    capsys.readouterr()
    assert main(["--catalog", cat, "folders", "list"]) == 0
    out = capsys.readouterr().out
    assert out == f"{a}\n{b}  (from the settings file {config})  (missing)\n"
    assert main(["--catalog", cat, "folders", "list", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["path"], r["source"], r["missing"]) for r in rows] == [(str(a), "catalog", False),
                                                                     (str(b), "settings", True)]
    assert main(["--catalog", cat, "folders", "remove", str(b)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "comes from the settings file" in err and "remove it there" in err
    monkeypatch.setenv("AUTOTAGGER_FOLDERS", str(tmp_path / "env"))
    assert main(["--catalog", cat, "folders", "list"]) == 0
    assert capsys.readouterr().out == f"{a}\n{tmp_path / 'env'}  (from AUTOTAGGER_FOLDERS)  (missing)\n"


def test_watch_without_dir_and_service_watch_the_remembered_folders(config: Path, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from autotagger.service import service as service_mod

    cat = str(tmp_path / "c.sqlite3")
    assert main(["--catalog", cat, "watch", "--once"]) == 2  # nothing remembered: say so
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no folders to watch" in err

    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    save_settings(Settings(folders=[str(b)]), config)
    assert main(["--catalog", cat, "folders", "add", str(a)]) == 0
    seen: list[object] = []
    monkeypatch.setattr(service_mod.Service, "run", lambda self: seen.append(self.options.folders) or 0)
    assert main(["--catalog", cat, "watch", "--once"]) == 0
    assert main(["--catalog", cat, "watch", str(a), "--once"]) == 0
    assert main(["--catalog", cat, "service"]) == 0  # the systemd/launchd path: the same list
    assert seen == [[str(a), str(b)], [str(a)], [str(a), str(b)]]
