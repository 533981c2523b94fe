"""autotagger doctor: every line ok/missing/error with a hint, JSON, exit codes, the model checked as its
load checks it (a partial download or a folder of config.json alone is not "ok"), the catalogue read."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autotagger.cli import doctor_cmd, main


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private config, catalogue and Hugging Face cache; the model id is set in the config."""
    from huggingface_hub import constants

    hf = tmp_path / "hf"
    hf.mkdir()
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(hf))
    config = tmp_path / "config.toml"
    config.write_text('model = "acme/blip2-test"\n', encoding="utf-8")
    monkeypatch.setenv("AUTOTAGGER_CONFIG", str(config))
    monkeypatch.setenv("AUTOTAGGER_CATALOG", str(tmp_path / "catalog.sqlite3"))
    return tmp_path


def _cache_model(hf: Path, repo: str, checkpoint: Path | None = None) -> Path:
    """``repo`` in the hub cache ``hf``: the files of ``checkpoint``, or (None) a config.json alone, as a
    download that stopped after its first file leaves it."""
    folder = hf / f"models--{repo.replace('/', '--')}"
    (folder / "refs").mkdir(parents=True)
    (folder / "refs" / "main").write_text("abc123", encoding="utf-8")
    snapshot = folder / "snapshots" / "abc123"
    if checkpoint is None:
        snapshot.mkdir(parents=True)
        (snapshot / "config.json").write_text("{}", encoding="utf-8")
    else:
        shutil.copytree(checkpoint, snapshot)
    return snapshot


def _json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, dict[str, object]], bool]:
    code = main(["doctor", "--json", *argv])
    out = capsys.readouterr().out
    assert out.count("\n") == 1  # one JSON object on one line
    data = json.loads(out)
    return code, {c["name"]: c for c in data["checks"]}, data["ok"]


def test_json_all_present_with_cached_model(
    env: Path, capsys: pytest.CaptureFixture[str], tiny_model: Path
) -> None:
    snapshot = _cache_model(env / "hf", "acme/blip2-test", tiny_model)
    code, checks, ok = _json(capsys)
    expected = {"python", "torch", "transformers", "Pillow", "pillow-heif", "rawpy", "PySide6", "cuda",
                "exiftool", "config", "catalogue", "cache", "hf-cache", "model"}  # fmt: skip
    assert set(checks) == expected
    assert all(c["status"] in ("ok", "missing") for c in checks.values())
    assert checks["model"]["status"] == "ok" and str(snapshot) in str(checks["model"]["detail"])
    assert checks["hf-cache"]["detail"] == str(env / "hf")
    assert checks["config"]["detail"] == str(env / "config.toml")
    assert checks["catalogue"]["detail"] == f"{env / 'catalog.sqlite3'} (not created yet)"
    assert checks["Pillow"]["detail"] == __import__("PIL").__version__
    assert (code, ok) == (0, True)


def test_model_not_cached_is_missing_with_a_hint(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, checks, ok = _json(capsys)
    model = checks["model"]
    assert model["status"] == "missing" and "autotagger model download acme/blip2-test" in str(model["hint"])
    assert (code, ok) == (1, False)
    assert main(["doctor"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert all(line.split()[0] in ("ok", "missing") for line in lines)
    assert any(
        line.startswith("missing  model") and "-- run: autotagger model download" in line for line in lines
    )


def test_a_partial_download_is_not_ok(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    snapshot = _cache_model(env / "hf", "acme/blip2-test")  # config.json alone
    code, checks, ok = _json(capsys)
    model = checks["model"]
    assert model["status"] == "missing" and (code, ok) == (1, False)
    assert model["detail"] == f"acme/blip2-test only partly in the cache at {snapshot}: has no .safetensors weights"
    assert "autotagger model download acme/blip2-test" in str(model["hint"])


def test_local_model_folder(env: Path, capsys: pytest.CaptureFixture[str], tiny_model: Path) -> None:
    folder = env / "ckpt"
    folder.mkdir()
    (env / "config.toml").write_text(f"model = {str(folder)!r}\n", encoding="utf-8")
    _, checks, _ = _json(capsys)
    assert checks["model"]["status"] == "error" and "no config.json" in str(checks["model"]["detail"])
    (folder / "config.json").write_text("{}", encoding="utf-8")
    code, checks, _ = _json(capsys)
    assert checks["model"]["status"] == "error" and code == 1
    assert checks["model"]["detail"] == f"{folder} (local folder): has no .safetensors weights"
    (env / "config.toml").write_text(f"model = {str(tiny_model)!r}\n", encoding="utf-8")
    _, checks, _ = _json(capsys)
    assert checks["model"]["status"] == "ok" and checks["model"]["detail"] == f"{tiny_model} (local folder)"


def test_missing_package_and_exiftool(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tiny_model: Path
) -> None:
    _cache_model(env / "hf", "acme/blip2-test", tiny_model)
    real = doctor_cmd._version
    monkeypatch.setattr(doctor_cmd, "_version", lambda dists: None if "rawpy" in dists else real(dists))
    monkeypatch.setattr(doctor_cmd.shutil, "which", lambda name: None)
    code, checks, ok = _json(capsys)
    assert checks["rawpy"]["status"] == "missing" and "pip install rawpy" in str(checks["rawpy"]["hint"])
    assert checks["exiftool"]["status"] == "missing" and "exiftool" in str(checks["exiftool"]["hint"])
    assert checks["exiftool"]["required"] is False
    assert (code, ok) == (1, False)  # rawpy is required; exiftool alone would not fail


def test_exiftool_alone_does_not_fail(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tiny_model: Path
) -> None:
    _cache_model(env / "hf", "acme/blip2-test", tiny_model)
    monkeypatch.setattr(doctor_cmd.shutil, "which", lambda name: None)
    code, checks, ok = _json(capsys)
    assert checks["exiftool"]["status"] == "missing" and (code, ok) == (0, True)


def test_module_import_is_light() -> None:
    code = (
        "import sys, autotagger.cli.doctor_cmd; print('torch' in sys.modules, 'transformers' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False"


def _catalogue(env: Path, photos: int = 2) -> Path:
    from autotagger.catalog import Catalog

    path = env / "catalog.sqlite3"
    with Catalog(path) as cat:
        for i in range(photos):
            cat.upsert_file(f"/photos/{i}.jpg", size=1, mtime=1.0)
    return path


def test_a_catalogue_is_read_and_counted(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _catalogue(env)
    _, checks, _ = _json(capsys)
    assert checks["catalogue"] == {"name": "catalogue", "status": "ok", "detail": f"{path} (2 photos, quick check ok)",
                                   "hint": "", "required": True}


@pytest.mark.parametrize("table", ["images", "jobs"])  # jobs: only the quick check reads its first page
def test_a_damaged_catalogue_is_an_error_naming_it(
    env: Path, capsys: pytest.CaptureFixture[str], table: str
) -> None:
    from tests.catalog.helpers import damage

    path = _catalogue(env)
    damage(path, table)
    code, checks, ok = _json(capsys)
    catalogue = checks["catalogue"]
    assert catalogue["status"] == "error" and (code, ok) == (1, False)
    assert str(catalogue["detail"]).startswith(f"catalogue {path} is damaged (")
    assert str(catalogue["detail"]).endswith("restore a backup or move it away")
    assert main(["doctor"]) == 1
    lines = [line.split(None, 2) for line in capsys.readouterr().out.splitlines() if line.split()[1] == "catalogue"]
    assert len(lines) == 1 and lines[0][:2] == ["error", "catalogue"]
    assert lines[0][2] == catalogue["detail"]  # one line, no hint after it: the line says what to do


def test_not_a_catalogue_is_an_error(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (env / "catalog.sqlite3").write_bytes(b"a photo, given as --catalog by mistake" * 200)
    _, checks, _ = _json(capsys)
    assert checks["catalogue"]["status"] == "error"
    assert "it is damaged or not a catalogue" in str(checks["catalogue"]["detail"])


def test_a_quick_check_past_its_time_is_left_unfinished(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _catalogue(env, photos=200)
    monkeypatch.setattr(doctor_cmd, "QUICK_CHECK_SECONDS", 0)
    _, checks, _ = _json(capsys)
    assert checks["catalogue"]["status"] == "ok"
    assert checks["catalogue"]["detail"] == f"{path} (200 photos, quick check unfinished after 0 s)"


def test_the_model_and_catalogue_checks_import_no_torch(env: Path, tiny_model: Path) -> None:
    catalogue = _catalogue(env)
    code = (
        "import sys; from pathlib import Path; from autotagger.cli import doctor_cmd as d; "
        f"m = d.model_checks({str(tiny_model)!r})[-1]; c = d.catalog_check(Path({str(catalogue)!r})); "
        "print(m.status, c.status, 'torch' in sys.modules, 'transformers' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ok ok False False"
