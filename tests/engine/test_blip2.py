"""The engine against plain transformers: same tokens as `generate`, same scores as a forward pass."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from PIL import Image

from autotagger.engine.blip2 import Blip2Tagger, ModelLoadError
from autotagger.engine.questions import parse_question_set

QUESTIONS = """
version = "test-1"
caption_prompt = "a photo of"
caption_max_new_tokens = 12
[[question]]
id = "subject"
text = "What is the main subject of this photo?"
kind = "open"
tag = "subject|{answer}"
max_new_tokens = 5
[[question]]
id = "place"
text = "Where?"
kind = "open"
tag = "place|{answer}"
max_new_tokens = 3
[[question]]
id = "setting"
text = "Is this photo taken indoors or outdoors?"
answers = ["indoors", "outdoors", "not sure at all"]
tag = "setting|{answer}"
[[question]]
id = "people"
text = "Are there people in this photo?"
answers = ["yes", "no"]
tag = "people"
when = ["yes"]
"""


def _images(n: int) -> list[Image.Image]:
    g = torch.Generator().manual_seed(7)
    out = []
    for i in range(n):
        arr = (torch.rand(40 + 9 * i, 70 - 5 * i, 3, generator=g) * 255).byte().numpy()
        out.append(Image.fromarray(arr, "RGB"))
    return out


def _plain_new_tokens(tagger: Blip2Tagger, image: Image.Image, prompt: str, max_new: int) -> list[int]:
    """The documented way: processor(...) then model.generate(...), greedy, batch 1."""
    inputs = tagger.processor(images=image, text=prompt, return_tensors="pt")
    with torch.inference_mode():
        out = tagger.model.generate(**inputs, max_new_tokens=max_new, do_sample=False, num_beams=1)
    ids = out[0].tolist()
    if not tagger.encoder_decoder:
        ids = ids[inputs["input_ids"].shape[1] :]
    special = {tagger.processor.tokenizer.pad_token_id, *tagger.runner.eos}
    if tagger.encoder_decoder:
        ids = ids[1:]  # decoder start token
    # generate appends EOS and then pads finished rows; the engine stops before EOS
    for k, tok in enumerate(ids):
        if tok in special:
            return ids[:k]
    return ids


def _plain_answer_logprob(tagger: Blip2Tagger, image: Image.Image, prompt_ids: tuple[int, ...], answer_ids: tuple[int, ...]) -> float:
    model, proc = tagger.model, tagger.processor
    pv = proc.image_processor([image], return_tensors="pt")["pixel_values"]
    img_tok = model.config.image_token_index
    nq = model.config.num_query_tokens
    with torch.inference_mode():
        if tagger.encoder_decoder:
            ids = torch.tensor([[img_tok] * nq + list(prompt_ids)])
            dec = torch.tensor([[model.config.text_config.decoder_start_token_id, *answer_ids[:-1]]])
            logits = model(pixel_values=pv, input_ids=ids, decoder_input_ids=dec).logits[0]
            logp = torch.log_softmax(logits.float(), -1)
            return float(sum(logp[t, a] for t, a in enumerate(answer_ids)))
        ids = torch.tensor([[img_tok] * nq + list(prompt_ids) + list(answer_ids)])
        logits = model(pixel_values=pv, input_ids=ids).logits[0]
        logp = torch.log_softmax(logits.float(), -1)
        start = ids.shape[1] - len(answer_ids)
        return float(sum(logp[start + t - 1, a] for t, a in enumerate(answer_ids)))


@pytest.fixture(scope="module", params=["opt", "t5"])
def tagger(request: pytest.FixtureRequest) -> Blip2Tagger:
    model_dir = request.getfixturevalue("tiny_model" if request.param == "opt" else "tiny_t5_model")
    return Blip2Tagger.from_pretrained(str(model_dir), questions=parse_question_set(QUESTIONS), batch_size=3)


def test_tiny_checkpoint_loads_with_plain_transformers(tiny_model: Path) -> None:
    from transformers import Blip2ForConditionalGeneration, Blip2Processor

    model = Blip2ForConditionalGeneration.from_pretrained(tiny_model)
    proc = Blip2Processor.from_pretrained(tiny_model)
    assert proc.num_query_tokens == model.config.num_query_tokens == 32
    assert any(tiny_model.glob("*.safetensors")) and not any(tiny_model.glob("*.bin"))


def test_generated_tokens_equal_plain_generate(tagger: Blip2Tagger) -> None:
    images = _images(5)
    outs = [tagger.run_batch(images[:3]), tagger.run_batch(images[3:])]  # uneven batches
    generated = outs[0].generated + outs[1].generated
    checked = 0
    for i, image in enumerate(images):
        for g, prompt in enumerate(tagger.plan.generate):
            expected = _plain_new_tokens(tagger, image, prompt.text, prompt.max_new_tokens)
            assert generated[i][g] == expected, (i, prompt.key)
            checked += 1
    assert checked == 5 * 3
    # the tiny model's random weights make real tokens, not empty answers
    assert sum(len(ids) for per in generated for ids in per) > 0


def test_closed_answer_scores_equal_a_plain_forward_pass(tagger: Blip2Tagger) -> None:
    images = _images(2)
    out = tagger.run_batch(images)
    for i, image in enumerate(images):
        for qi, sp in enumerate(tagger.plan.score):
            for k, ans in enumerate(sp.answer_ids):
                ref = _plain_answer_logprob(tagger, image, sp.ids, ans)
                assert out.scores[i][qi][k] == pytest.approx(ref, rel=1e-4, abs=1e-3)


def test_results_do_not_depend_on_batch_company(tagger: Blip2Tagger) -> None:
    images = _images(4)
    together = tagger.tag_images([(f"/x/{i}.jpg", im) for i, im in enumerate(images)])
    alone = [tagger.tag_images([(f"/x/{i}.jpg", im)])[0] for i, im in enumerate(images)]
    for a, b in zip(together, alone, strict=True):
        assert a.caption == b.caption
        assert [x.answer for x in a.answers] == [x.answer for x in b.answers]
        for x, y in zip(a.answers, b.answers, strict=True):
            if x.confidence is not None:
                assert x.confidence == pytest.approx(y.confidence, abs=1e-4)


def test_result_shape(tagger: Blip2Tagger) -> None:
    (r,) = tagger.tag_images([("/x/a.jpg", _images(1)[0])])
    assert r.ok and r.path == "/x/a.jpg" and r.question_set_version == "test-1"
    assert r.caption_prompt == "a photo of"
    assert [a.question_id for a in r.answers] == ["subject", "place", "setting", "people"]
    closed = [a for a in r.answers if a.question_id in ("setting", "people")]
    assert all(a.confidence is not None and 0.0 < a.confidence <= 1.0 for a in closed)
    assert {a.answer for a in closed} <= {"indoors", "outdoors", "not sure at all", "yes", "no"}
    assert r.answers[0].prompt == "Question: What is the main subject of this photo? Answer:"
    for t in r.tags:  # every tag comes from an answer through its template and condition
        assert t.question_id in {"subject", "place", "setting", "people"}
    people = next(a for a in r.answers if a.question_id == "people")
    assert ("people" in [t.path for t in r.tags]) == (people.answer == "yes")


def test_a_missing_local_model_is_one_clear_line(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="does not exist"):
        Blip2Tagger.from_pretrained(str(tmp_path / "nope"))
    (tmp_path / "ckpt").mkdir()
    (tmp_path / "ckpt" / "config.json").write_text("{}")
    (tmp_path / "ckpt" / "pytorch_model.bin").write_bytes(b"pickle")
    with pytest.raises(ModelLoadError, match="only safetensors"):
        Blip2Tagger.from_pretrained(str(tmp_path / "ckpt"))


def test_an_uncached_hub_model_offline_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    with pytest.raises(ModelLoadError) as info:
        Blip2Tagger.from_pretrained("Salesforce/blip2-opt-2.7b")
    msg = str(info.value)
    assert "\n" not in msg and "autotagger model download Salesforce/blip2-opt-2.7b" in msg


def test_quantisation_needs_cuda(tiny_model: Path) -> None:
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(ModelLoadError, match="needs a CUDA GPU"):
        Blip2Tagger.from_pretrained(str(tiny_model), device="cpu", quantize="4bit")
