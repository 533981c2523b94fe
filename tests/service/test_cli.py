"""The watch, service and folders commands (the real BLIP-2 code path on the tiny random checkpoint)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from autotagger.cli import main
from autotagger.service import control

from .helpers import catalog_rows, make_jpeg, wait_until

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from autotagger.engine.tiny import make_tiny

    return make_tiny(tmp_path_factory.mktemp("tiny") / "ckpt")


def test_folders_add_list_remove(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cat = str(tmp_path / "c.sqlite3")
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    assert main(["--catalog", cat, "folders", "add", str(a), str(b)]) == 0
    assert main(["--catalog", cat, "folders", "remove", str(b)]) == 0
    capsys.readouterr()
    assert main(["--catalog", cat, "folders", "list", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["path"], r["recursive"], r["missing"]) for r in rows] == [(str(a), True, False)]
    assert main(["--catalog", cat, "folders", "add", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a folder" in err


def test_watch_bad_folder_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--catalog", str(tmp_path / "c.sqlite3"), "watch", str(tmp_path / "missing"), "--once"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a folder" in err


def test_a_folder_whose_name_is_not_utf8_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = os.fsdecode(os.path.join(os.fsencode(tmp_path), b"Reise \xfc"))
    os.mkdir(folder)
    for argv in (["watch", folder, "--once"], ["folders", "add", folder]):
        assert main(["--catalog", str(tmp_path / "c.sqlite3"), *argv]) == 2
        err = capsys.readouterr().err
        assert err == f"autotagger: error: {tmp_path}/Reise \\xfc: folder name is not valid UTF-8 (rename it to have it tagged)\n"


def test_watch_once_with_the_tiny_model(
    tmp_path: Path, tiny: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    files = [make_jpeg(photos / f"p{i}.jpg", i, size=(240, 240)) for i in range(3)]
    (photos / "broken.jpg").write_bytes(b"\xff\xd8\xff not really")
    cat = str(tmp_path / "c.sqlite3")
    argv = ["--catalog", cat, "watch", str(photos), "--once", "--model", str(tiny), "--settle", "0", "--json"]
    assert main(argv) == 1  # one file failed
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert sorted(o["path"] for o in out if o["ok"]) == sorted(str(f) for f in files)
    assert [o["path"] for o in out if not o["ok"]] == [str(photos / "broken.jpg")]
    # the fields `tag --json` has too, the same way round
    assert all({"path", "ok", "error", "caption", "tags"} <= set(o) and (o["error"] is None) == o["ok"] for o in out)
    rows = catalog_rows(Path(cat))
    assert all(rows[str(f)].status == "tagged" and rows[str(f)].model_id for f in files)
    (photos / "broken.jpg").unlink()
    assert main(argv) == 0  # nothing new: our own writes are not work
    assert capsys.readouterr().out == ""


def test_service_runs_remembered_folders_and_obeys_stop(tmp_path: Path, tiny: Path) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    f = make_jpeg(photos / "a.jpg", 1, size=(240, 240))
    cat = tmp_path / "c.sqlite3"
    assert main(["--catalog", str(cat), "folders", "add", str(photos)]) == 0
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = [
        sys.executable,
        "-m",
        "autotagger",
        "--catalog",
        str(cat),
        "service",
        "--model",
        str(tiny),
        "--settle",
        "0.2",
    ]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_until(lambda: str(f) in catalog_rows(cat) and catalog_rows(cat)[str(f)].status == "tagged", 120)
        g = make_jpeg(photos / "later.jpg", 2, size=(240, 240))
        wait_until(lambda: str(g) in catalog_rows(cat) and catalog_rows(cat)[str(g)].status == "tagged", 60)
        state = control.read_state(cat)
        assert state is not None and state.running and state.folders == (str(photos),)
        assert main(["--catalog", str(cat), "service", "--stop"]) == 0
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "2 tagged, 0 failed" in err


def test_service_status_shows_the_warnings_one_a_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import time

    from autotagger.service.events import ServiceState

    cat = str(tmp_path / "c.sqlite3")
    control.write_state(cat, ServiceState(running=True, pid=os.getpid(), updated_at=time.time(), folders=("/p",),
                                          warnings=("/p/x.jpg: broken symlink, skipped",), warnings_said=1))
    assert main(["--catalog", cat, "service", "--status"]) == 0
    out = capsys.readouterr().out
    assert "running: True\n" in out
    assert "folders:\n  /p\n" in out and "warnings:\n  /p/x.jpg: broken symlink, skipped\nwarnings_said: 1\n" in out
    assert main(["--catalog", cat, "service", "--status", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["warnings"] == ["/p/x.jpg: broken symlink, skipped"] and data["warnings_said"] == 1
