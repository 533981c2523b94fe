"""autotagger doctor: every line ok/missing with a hint, JSON, exit codes, cache detection."""

from __future__ import annotations

import json
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


def _cache_model(hf: Path, repo: str) -> Path:
    folder = hf / f"models--{repo.replace('/', '--')}"
    (folder / "refs").mkdir(parents=True)
    (folder / "refs" / "main").write_text("abc123", encoding="utf-8")
    snapshot = folder / "snapshots" / "abc123"
    snapshot.mkdir(parents=True)
    (snapshot / "config.json").write_text("{}", encoding="utf-8")
    return snapshot


def _json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, dict[str, object]], bool]:
    code = main(["doctor", "--json", *argv])
    out = capsys.readouterr().out
    assert out.count("\n") == 1  # one JSON object on one line
    data = json.loads(out)
    return code, {c["name"]: c for c in data["checks"]}, data["ok"]


def test_json_all_present_with_cached_model(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    snapshot = _cache_model(env / "hf", "acme/blip2-test")
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


def test_local_model_folder(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = env / "ckpt"
    folder.mkdir()
    (env / "config.toml").write_text(f"model = {str(folder)!r}\n", encoding="utf-8")
    _, checks, _ = _json(capsys)
    assert checks["model"]["status"] == "missing" and "no config.json" in str(checks["model"]["hint"])
    (folder / "config.json").write_text("{}", encoding="utf-8")
    _, checks, _ = _json(capsys)
    assert checks["model"]["status"] == "ok"


def test_missing_package_and_exiftool(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _cache_model(env / "hf", "acme/blip2-test")
    real = doctor_cmd._version
    monkeypatch.setattr(doctor_cmd, "_version", lambda dists: None if "rawpy" in dists else real(dists))
    monkeypatch.setattr(doctor_cmd.shutil, "which", lambda name: None)
    code, checks, ok = _json(capsys)
    assert checks["rawpy"]["status"] == "missing" and "pip install rawpy" in str(checks["rawpy"]["hint"])
    assert checks["exiftool"]["status"] == "missing" and "exiftool" in str(checks["exiftool"]["hint"])
    assert checks["exiftool"]["required"] is False
    assert (code, ok) == (1, False)  # rawpy is required; exiftool alone would not fail


def test_exiftool_alone_does_not_fail(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _cache_model(env / "hf", "acme/blip2-test")
    monkeypatch.setattr(doctor_cmd.shutil, "which", lambda name: None)
    code, checks, ok = _json(capsys)
    assert checks["exiftool"]["status"] == "missing" and (code, ok) == (0, True)


def test_module_import_is_light() -> None:
    code = (
        "import sys, autotagger.cli.doctor_cmd; print('torch' in sys.modules, 'transformers' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False"
