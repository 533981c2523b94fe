"""`autotagger model info` says "available offline" only of what would load offline; `model download`
of a missing folder says so instead of asking the hub for it."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import huggingface_hub
import pytest

from autotagger.cli import main


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _only_bin(ckpt: Path) -> None:
    (ckpt / "model.safetensors").unlink()
    (ckpt / "pytorch_model.bin").write_bytes(b"a pickle")


def _no_tokenizer(ckpt: Path) -> None:
    (ckpt / "tokenizer.json").unlink()


def _other_model_type(ckpt: Path) -> None:
    config = json.loads((ckpt / "config.json").read_text())
    (ckpt / "config.json").write_text(json.dumps({**config, "model_type": "opt"}))


def _missing_shard(ckpt: Path) -> None:
    (ckpt / "model.safetensors").rename(ckpt / "model-00001-of-00002.safetensors")
    index = {"weight_map": {"query_tokens": "model-00001-of-00002.safetensors",
                            "language_projection.weight": "model-00002-of-00002.safetensors"}}
    (ckpt / "model.safetensors.index.json").write_text(json.dumps(index))


BROKEN: dict[str, tuple[Callable[[Path], None], str]] = {
    "only .bin": (_only_bin, "has only .bin weights (only safetensors are loaded, never pickles)"),
    "no tokenizer": (_no_tokenizer, "has no tokenizer (no tokenizer.json, vocab.json or spiece.model)"),
    "not BLIP-2": (_other_model_type, "not a BLIP-2 checkpoint (model_type 'opt')"),
    "a shard missing": (_missing_shard, "is missing weight files: model-00002-of-00002.safetensors"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_info_on_a_folder_the_load_would_refuse(tiny_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                case: str) -> None:
    ckpt = Path(shutil.copytree(tiny_model, tmp_path / "ckpt"))
    spoil, reason = BROKEN[case]
    spoil(ckpt)
    code, out, err = _run(capsys, "model", "info", str(ckpt))
    assert (code, out) == (1, "") and "available offline" not in err
    assert err == f"autotagger: error: {ckpt}: {reason}\n"
    code, out, _ = _run(capsys, "model", "info", str(ckpt), "--json")
    info = json.loads(out)
    assert info["available"] is False and reason in info["problem"]


def test_info_on_a_whole_folder(tiny_model: Path, tiny_t5_model: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for model in (tiny_model, tiny_t5_model):
        code, out, err = _run(capsys, "model", "info", str(model))
        assert (code, err) == (0, "") and out == f"{model}: available offline at {model}\n"


@pytest.fixture
def hf_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf"))
    return tmp_path / "hf"


def _cache(hf: Path, repo: str, source: Path, keep: Callable[[str], bool]) -> Path:
    folder = hf / f"models--{repo.replace('/', '--')}"
    (folder / "refs").mkdir(parents=True)
    (folder / "refs" / "main").write_text("abc123", encoding="utf-8")
    snapshot = folder / "snapshots" / "abc123"
    snapshot.mkdir(parents=True)
    for f in source.iterdir():
        if keep(f.name):
            shutil.copy(f, snapshot / f.name)
    return snapshot


def test_info_on_a_partial_hub_cache(tiny_model: Path, hf_cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    snapshot = _cache(hf_cache, "acme/blip2-test", tiny_model, lambda name: not name.endswith(".safetensors"))
    code, out, err = _run(capsys, "model", "info", "acme/blip2-test")
    assert (code, err) == (0, "")
    assert out == ("acme/blip2-test: only partly in the cache: has no .safetensors weights "
                   "(run: autotagger model download acme/blip2-test)\n")
    code, out, _ = _run(capsys, "model", "info", "acme/blip2-test", "--json")
    info = json.loads(out)
    assert info["available"] is False and info["path"] == str(snapshot) and info["source"] == "hub"


def test_info_on_a_whole_hub_cache(tiny_model: Path, hf_cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    snapshot = _cache(hf_cache, "acme/blip2-test", tiny_model, lambda name: True)
    code, out, err = _run(capsys, "model", "info", "acme/blip2-test")
    assert (code, err, out) == (0, "", f"acme/blip2-test: available offline at {snapshot}\n")


def test_info_on_an_uncached_hub_id(hf_cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "model", "info", "acme/blip2-test")
    assert (code, err) == (0, "")
    assert out == "acme/blip2-test: not downloaded (run: autotagger model download acme/blip2-test)\n"


@pytest.mark.parametrize("name", ["/no/such/dir", "./no-such-dir", "../no/such", "~/no-such-dir-for-autotagger"])
def test_download_of_a_missing_folder_is_not_a_hub_id(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    asked: list[str] = []

    def model_info(self: object, repo_id: str, **kwargs: object) -> None:
        asked.append(repo_id)
        raise AssertionError("the hub must not be asked")

    monkeypatch.setattr(huggingface_hub.HfApi, "model_info", model_info)
    code, out, err = _run(capsys, "model", "download", name)
    folder = Path(name).expanduser()
    assert (code, out, asked) == (1, "", [])
    assert err == f"autotagger: error: no model folder {folder} (a hub id looks like Salesforce/blip2-opt-2.7b)\n"
