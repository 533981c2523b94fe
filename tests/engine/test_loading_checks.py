"""What the loader refuses before it would tag noise or fail on every photo: a checkpoint of another
kind, one with weights missing, a prompt past the model's last position, a device this machine lacks.
Each refusal is one line that names the folder, the question or the flag."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import torch
import transformers
from PIL import Image

from autotagger.config import Settings
from autotagger.engine import blip2
from autotagger.engine.blip2 import Blip2Tagger, ModelLoadError
from autotagger.engine.questions import QuestionSetError, parse_question_set


def _copy(tiny: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(tiny, tmp_path / "ckpt"))


def _no_weights_load(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if the loader gets as far as reading weights."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the weights must not be loaded")

    monkeypatch.setattr(transformers.Blip2ForConditionalGeneration, "from_pretrained", refuse)


def _one_line(exc: BaseException) -> str:
    text = str(exc)
    assert "\n" not in text
    return text


# -- 1. another kind of checkpoint ---------------------------------------------------------------------
def test_a_folder_of_another_model_type_is_refused(tiny_model: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Same sub-configs and weights, another model_type: transformers would only warn (and the CLI
    hides warnings)."""
    ckpt = _copy(tiny_model, tmp_path)
    config = json.loads((ckpt / "config.json").read_text())
    config["model_type"] = "instructblip"
    (ckpt / "config.json").write_text(json.dumps(config))
    _no_weights_load(monkeypatch)
    with pytest.raises(ModelLoadError) as info:
        Blip2Tagger.from_pretrained(str(ckpt), device="cpu")
    assert _one_line(info.value) == f"{ckpt}: not a BLIP-2 checkpoint (model_type 'instructblip')"


def test_a_hub_id_of_another_model_type_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(transformers.Blip2Config, "get_config_dict",
                        classmethod(lambda cls, *a, **k: ({"model_type": "opt", "hidden_size": 768}, {})))
    _no_weights_load(monkeypatch)
    with pytest.raises(ModelLoadError) as info:
        Blip2Tagger.from_pretrained("facebook/opt-125m", device="cpu")
    assert _one_line(info.value) == "facebook/opt-125m: not a BLIP-2 checkpoint (model_type 'opt')"


# -- 2. weights missing --------------------------------------------------------------------------------
def test_a_checkpoint_with_missing_weights_is_refused(tiny_model: Path, tmp_path: Path) -> None:
    from safetensors.torch import load_file, save_file

    ckpt = _copy(tiny_model, tmp_path)
    weights = load_file(ckpt / "model.safetensors")
    dropped = ["query_tokens", "language_projection.weight", "language_projection.bias",
               "qformer.layernorm.weight"]
    for key in dropped:
        del weights[key]
    save_file(weights, ckpt / "model.safetensors", metadata={"format": "pt"})
    with pytest.raises(ModelLoadError) as info:
        Blip2Tagger.from_pretrained(str(ckpt), device="cpu")
    msg = _one_line(info.value)
    assert msg.startswith(f"{ckpt}: incomplete checkpoint, weights missing: ")
    named = [k for k in dropped if k in msg]
    assert len(named) == 3 and "and 1 more" in msg


def test_the_complete_tiny_checkpoint_still_loads(tiny_model: Path, tiny_t5_model: Path) -> None:
    """Tied weights (OPT's lm_head) are not reported missing: a whole checkpoint is not refused."""
    for model in (tiny_model, tiny_t5_model):
        assert Blip2Tagger.from_pretrained(str(model), device="cpu").model_id == str(model)


def test_weights_of_the_wrong_shape_are_refused() -> None:
    """transformers 5 raises on a shape mismatch itself; older versions report it in the loading info."""
    info: dict[str, Any] = {"missing_keys": set(), "mismatched_keys": [("query_tokens", (1, 32, 32), (1, 32, 768))]}
    with pytest.raises(ModelLoadError, match=r"^ckpt: checkpoint weights do not fit its config.json: query_tokens$"):
        blip2._check_loading_info("ckpt", info)
    blip2._check_loading_info("ckpt", {"missing_keys": {"lm_head.weight"}}, ignore=[r"lm_head\.weight"])


# -- 5. prompts past the language model's last position ------------------------------------------------
def _open_question_set(words: int, max_new: int = 4, caption: str = "") -> str:
    text = " ".join(["dog"] * words)
    return (f'caption_prompt = "{caption}"\n'
            f'[[question]]\nid = "long"\ntext = "{text}"\nkind = "open"\nmax_new_tokens = {max_new}\n'
            '[[question]]\nid = "people"\ntext = "Are there people?"\nanswers = ["yes", "no"]\n')


def _words_for(tiny: Path, tokens: int) -> int:
    """How many words make the open question's prompt exactly ``tokens`` tokens long."""
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny)
    qs = parse_question_set(_open_question_set(1))
    base = len(tok(qs.prompt_for(qs.questions[0]))["input_ids"])
    per_word = len(tok(qs.prompt_for(qs.questions[0]) + " dog")["input_ids"]) - base
    assert per_word == 1
    return 1 + tokens - base


def test_a_prompt_past_the_models_positions_is_refused_at_load(tiny_model: Path) -> None:
    limit = 256 - 32  # the tiny OPT's max_position_embeddings less its 32 query tokens
    fits = parse_question_set(_open_question_set(_words_for(tiny_model, limit - 4)))
    tagger = Blip2Tagger.from_pretrained(str(tiny_model), questions=fits, device="cpu")
    assert len(tagger.plan.generate[1].ids) == limit - 4
    result = tagger.tag_images([("a.jpg", Image.new("RGB", (60, 40), (200, 30, 30)))])[0]
    assert result.error is None  # the longest prompt the check lets through runs

    too_long = parse_question_set(_open_question_set(_words_for(tiny_model, limit - 3)))
    with pytest.raises(QuestionSetError) as info:
        Blip2Tagger.from_pretrained(str(tiny_model), questions=too_long, device="cpu")
    assert _one_line(info.value) == (
        "question 'long' is too long for this model: 221 prompt tokens + up to 4 answer tokens, "
        "the model takes 224 (256 positions less 32 for the image)"
    )
    with pytest.raises(QuestionSetError, match=r"^question 'long' is too long"):
        tagger.with_questions(too_long)  # the GUI's "try these questions" path


def test_a_caption_prompt_past_the_models_positions_is_refused(tiny_model: Path) -> None:
    qs = parse_question_set(_open_question_set(3, caption=" ".join(["cat"] * 300)))
    with pytest.raises(QuestionSetError, match=r"^the caption prompt is too long for this model: "):
        Blip2Tagger.from_pretrained(str(tiny_model), questions=qs, device="cpu")


def test_a_too_long_prompt_names_the_questions_file(tiny_model: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    questions = tmp_path / "long.toml"
    questions.write_text(_open_question_set(400), encoding="utf-8")
    _no_weights_load(monkeypatch)  # refused before a minute of loading a real model
    with pytest.raises(QuestionSetError) as info:
        Blip2Tagger.from_settings(Settings(model=str(tiny_model), device="cpu", questions=str(questions)))
    assert _one_line(info.value).startswith(f"{questions}: question 'long' is too long for this model: ")


# -- 7. a device this machine does not have ------------------------------------------------------------
@pytest.mark.parametrize(("device", "message"), [
    ("mps", "--device mps: MPS is not available on this machine (use --device cpu)"),
    ("cuda", "--device cuda: CUDA is not available on this machine (use --device cpu)"),
])
def test_a_missing_device_is_refused_before_loading(tiny_model: Path, monkeypatch: pytest.MonkeyPatch,
                                                    device: str, message: str) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    _no_weights_load(monkeypatch)
    with pytest.raises(ModelLoadError) as info:
        Blip2Tagger.from_pretrained(str(tiny_model), device=device)
    assert _one_line(info.value) == message


def test_auto_falls_back_to_the_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert blip2.pick_device("auto") == "cpu" and blip2.pick_device("cpu") == "cpu"
