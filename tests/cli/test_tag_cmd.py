"""`autotagger tag` end to end, as a user runs it: a subprocess, JSON Lines on stdout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "autotagger", *args], capture_output=True, text=True, env=full_env, timeout=300
    )


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    d = tmp_path / "photos"
    (d / "sub").mkdir(parents=True)
    Image.new("RGB", (640, 480), (200, 40, 40)).save(d / "red.jpg", quality=92)
    Image.new("RGB", (300, 500), (20, 180, 40)).save(d / "green.png")
    Image.new("RGB", (320, 240), (20, 40, 220)).save(d / "sub" / "blue.jpg")
    (d / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    (d / "notes.txt").write_text("not an image, and not picked up from a folder")
    return d


def test_tag_json_lines_errors_and_exit_code(photos: Path, tiny_model: Path, tmp_path: Path) -> None:
    cat = tmp_path / "cat.sqlite3"
    res = run_cli("--catalog", str(cat), "tag", str(photos), "--recursive", "--model", str(tiny_model), "--json")
    assert res.returncode == 1, res.stderr  # one file failed
    objs = [json.loads(line) for line in res.stdout.splitlines()]
    by_name = {Path(o["path"]).name: o for o in objs}
    assert set(by_name) == {"red.jpg", "green.png", "blue.jpg", "broken.jpg"}
    bad = by_name["broken.jpg"]
    assert bad["error"] and bad["tags"] == [] and bad["ok"] is False
    err_lines = [ln for ln in res.stderr.splitlines() if "broken.jpg" in ln]
    assert len(err_lines) == 1 and "Traceback" not in res.stderr
    for name in ("red.jpg", "green.png", "blue.jpg"):
        o = by_name[name]
        assert o["error"] is None and o["ok"] is True
        assert isinstance(o["caption"], str) and o["caption_prompt"] == ""
        assert len(o["answers"]) == 9
        for a in o["answers"]:
            assert set(a) >= {"question_id", "prompt", "answer", "confidence"}
            assert a["prompt"].startswith("Question: ") and a["prompt"].endswith(" Answer:")
        assert all(isinstance(t, str) and t for t in o["tags"])
    # recorded in the catalogue
    status = run_cli("--catalog", str(cat), "status", "--json")
    assert status.returncode == 0, status.stderr
    st = json.loads(status.stdout.splitlines()[0])
    assert st["tagged"] == 3 and st["failed"] == 1


def test_json_prompts_reproduce_through_plain_generate(photos: Path, tiny_model: Path) -> None:
    import torch
    from transformers import Blip2ForConditionalGeneration, Blip2Processor

    from autotagger.engine.questions import clean_text
    from autotagger.imageio import load_image

    res = run_cli("tag", str(photos / "red.jpg"), "--model", str(tiny_model), "--json", "--write", "none", "--no-catalog")
    assert res.returncode == 0, res.stderr
    (obj,) = [json.loads(line) for line in res.stdout.splitlines()]
    model = Blip2ForConditionalGeneration.from_pretrained(tiny_model).eval()
    proc = Blip2Processor.from_pretrained(tiny_model)
    image = load_image(photos / "red.jpg")
    checks = [(obj["caption_prompt"], obj["caption"], 30)]
    checks += [(a["prompt"], a["raw"], 4) for a in obj["answers"] if a["confidence"] is None]
    assert len(checks) == 3
    for prompt, text, max_new in checks:
        inputs = proc(images=image, text=prompt, return_tensors="pt")
        with torch.inference_mode():
            out = model.generate(**inputs, max_new_tokens=max_new, do_sample=False)
        plain = proc.tokenizer.decode(out[0, inputs["input_ids"].shape[1] :], skip_special_tokens=True)
        assert clean_text(plain.strip()) == text


def test_tag_writes_into_the_file_by_default(photos: Path, tiny_model: Path) -> None:
    from autotagger.metadata import read_metadata

    res = run_cli("tag", str(photos / "red.jpg"), "--model", str(tiny_model), "--no-catalog")
    assert res.returncode == 0, res.stderr
    assert "caption:" in res.stdout
    back = read_metadata(photos / "red.jpg")
    assert back.provenance is not None and back.provenance.model_id == str(tiny_model)
    assert back.hierarchical  # the tags are in lr:hierarchicalSubject


def test_usage_and_missing_things_are_one_line(tmp_path: Path, tiny_model: Path) -> None:
    res = run_cli("tag")
    assert res.returncode == 2 and res.stderr.count("\n") == 1
    res = run_cli("tag", str(tmp_path / "nothing-here.jpg"), "--model", str(tiny_model), "--no-catalog")
    assert res.returncode == 1 and "no such file" in res.stderr and "Traceback" not in res.stderr
    img = tmp_path / "a.jpg"
    Image.new("RGB", (64, 64)).save(img)
    res = run_cli("tag", str(img), "--model", "Salesforce/blip2-opt-2.7b", "--no-catalog",
                  env={"HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")})
    assert res.returncode == 1
    assert res.stderr.count("\n") == 1 and "autotagger model download" in res.stderr


def test_help_does_not_import_torch() -> None:
    code = "import sys; from autotagger.cli import main\ntry:\n main(['--help'])\nexcept SystemExit: pass\nprint('torch' in sys.modules)"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert res.stdout.strip().endswith("False"), res.stdout
    for cmd in ("tag", "watch", "search", "model"):
        res = subprocess.run([sys.executable, "-c", code.replace("['--help']", f"['{cmd}', '--help']")],
                             capture_output=True, text=True, timeout=60)
        assert res.stdout.strip().endswith("False"), (cmd, res.stdout[-300:])


def test_make_tiny_cli(tmp_path: Path) -> None:
    res = run_cli("model", "make-tiny", str(tmp_path / "t"))
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "t" / "config.json").is_file() and (tmp_path / "t" / "model.safetensors").is_file()


def test_a_name_that_is_not_utf8_or_a_broken_link_is_named_and_the_rest_tagged(
    tmp_path: Path, tiny_model: Path
) -> None:
    d = tmp_path / "photos"
    d.mkdir()
    Image.new("RGB", (320, 240), (200, 40, 40)).save(d / "red.jpg")
    with open(os.path.join(os.fsencode(d), b"caf\xe9.jpg"), "wb") as f:
        f.write((d / "red.jpg").read_bytes())
    (d / "gone.jpg").symlink_to(d / "nowhere.jpg")
    res = run_cli("--catalog", str(tmp_path / "cat.sqlite3"), "tag", str(d), "--model", str(tiny_model), "--json")
    assert res.returncode == 1 and "Traceback" not in res.stderr, res.stderr
    assert [Path(json.loads(line)["path"]).name for line in res.stdout.splitlines()] == ["red.jpg"]
    errors = [ln for ln in res.stderr.splitlines() if ln.startswith("autotagger: error:")]
    assert errors == [
        f"autotagger: error: {d}/caf\\xe9.jpg: name is not valid UTF-8 (rename it to have it tagged)",
        f"autotagger: error: {d}/gone.jpg: broken symlink, skipped",
    ]
