"""The fixed-shape decoder (engine/decode.py) gives the dynamic path's tokens, and generate's."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from PIL import Image

from autotagger.engine.blip2 import Blip2Tagger
from autotagger.engine.decode import FixedShapeDecoder, resolve_mode
from autotagger.engine.questions import parse_question_set

# Budgets of very different lengths, so that rows finish at different steps and the state is
# compacted more than once (12 rows -> 6 -> 3 for four images), and a one-token answer.
QUESTIONS = """
version = "decode-1"
caption_prompt = "a photo of"
caption_max_new_tokens = 14
[[question]]
id = "subject"
text = "What is the main subject?"
kind = "open"
max_new_tokens = 5
tag = "subject|{answer}"
[[question]]
id = "one"
text = "One word?"
kind = "open"
max_new_tokens = 1
tag = "one|{answer}"
[[question]]
id = "setting"
text = "Indoors or outdoors?"
answers = ["indoors", "outdoors"]
tag = "setting|{answer}"
"""


def _images(n: int, seed: int = 3) -> list[Image.Image]:
    g = torch.Generator().manual_seed(seed)
    return [Image.fromarray((torch.rand(30 + 7 * i, 50 + 3 * i, 3, generator=g) * 255).byte().numpy(), "RGB")
            for i in range(n)]


@pytest.fixture(scope="module")
def taggers(tiny_model: Path) -> dict[str, Blip2Tagger]:
    qs = parse_question_set(QUESTIONS)
    base = Blip2Tagger.from_pretrained(str(tiny_model), questions=qs, device="cpu", batch_size=4, decode="dynamic")
    return {"dynamic": base, "static": Blip2Tagger(base.model, base.processor, qs, model_id="t", batch_size=4,
                                                     decode="static")}


def test_modes_resolve(taggers: dict[str, Blip2Tagger]) -> None:
    lm = taggers["static"].runner.lm
    assert taggers["static"].decode_mode == "static" and taggers["dynamic"].decode_mode == "dynamic"
    assert resolve_mode("auto", lm, "cpu", quantized=False) == "dynamic"
    assert resolve_mode("auto", lm, "cuda:0", quantized=False) == "graph"
    assert resolve_mode("auto", lm, "cuda:0", quantized=True) == "dynamic"
    assert resolve_mode("graph", lm, "cpu", quantized=False) == "static"  # no graphs without CUDA
    with pytest.raises(ValueError, match="decode mode"):
        resolve_mode("fast", lm, "cpu", quantized=False)


def test_t5_always_decodes_dynamically(tiny_t5_model: Path) -> None:
    t = Blip2Tagger.from_pretrained(str(tiny_t5_model), device="cpu", decode="static")
    assert t.decode_mode == "dynamic"


def test_fixed_shapes_give_the_dynamic_tokens(taggers: dict[str, Blip2Tagger]) -> None:
    images = _images(7)
    for chunk in (images[:4], images[4:], images[:1]):  # full, uneven and single-image batches
        dyn = taggers["dynamic"].run_batch(chunk)
        fixed = taggers["static"].run_batch(chunk)
        assert fixed.generated == dyn.generated
        assert fixed.scores == dyn.scores
    lengths = {len(ids) for per in fixed.generated for ids in per}
    assert lengths <= {14, 5, 1} and 14 in lengths  # EOS never comes from these random weights


def test_fixed_shapes_give_generates_tokens(taggers: dict[str, Blip2Tagger]) -> None:
    t = taggers["static"]
    images = _images(2, seed=11)
    out = t.run_batch(images)
    for i, image in enumerate(images):
        for g, prompt in enumerate(t.plan.generate):
            inputs = t.processor(images=image, text=prompt.text, return_tensors="pt")
            with torch.inference_mode():
                ids = t.model.generate(**inputs, max_new_tokens=prompt.max_new_tokens, do_sample=False, num_beams=1)
            expected = ids[0, inputs["input_ids"].shape[1]:].tolist()
            eos = t.runner.eos
            expected = expected[: next((k for k, x in enumerate(expected) if x in eos), len(expected))]
            assert out.generated[i][g] == expected, (i, prompt.key)


def test_eos_ends_a_row_early(taggers: dict[str, Blip2Tagger]) -> None:
    """A token made EOS for the test stops its row there and only there, in both paths."""
    images = _images(3, seed=5)
    dyn = taggers["dynamic"]
    ref = dyn.run_batch(images).generated
    caption = ref[0][0]
    eos_tok = caption[3]  # the fourth caption token of the first image becomes "EOS"
    runners = [dyn.runner, taggers["static"].runner]
    saved = [r.eos for r in runners]
    try:
        for r in runners:
            r.eos = {eos_tok}
        a = dyn.run_batch(images).generated
        b = taggers["static"].run_batch(images).generated
    finally:
        for r, e in zip(runners, saved, strict=True):
            r.eos = e
    assert a == b
    assert a[0][0] == caption[: caption.index(eos_tok)]
    for i in range(3):  # every row is its reference cut at its first "EOS"
        for g, ids in enumerate(ref[i]):
            cut = ids.index(eos_tok) if eos_tok in ids else len(ids)
            assert a[i][g] == ids[:cut]


def test_graph_mode_without_cuda_is_eager(taggers: dict[str, Blip2Tagger]) -> None:
    dec = FixedShapeDecoder(taggers["static"].runner.lm, use_graphs=False)
    assert dec.cache_kw in ("cache", "past_key_values", "past_key_value")
    assert not dec.use_graphs and dec.graph_failures == 0


class _ReplayStep:
    """Stands in for a captured CUDA graph on the CPU: replaying runs the same step on the same
    buffers, which is what a graph does. So the graph path's bookkeeping (states kept by shape and
    refilled by the next batch, rows rounded up to powers of two) runs here for real."""

    def __init__(self, dec: FixedShapeDecoder, state: object) -> None:
        self.dec, self.state, self.replays = dec, state, 0

    def replay(self) -> None:
        self.replays += 1
        self.dec._step(self.state)  # type: ignore[arg-type]


def test_graph_bookkeeping_reuses_states_across_batches(
    taggers: dict[str, Blip2Tagger], monkeypatch: pytest.MonkeyPatch
) -> None:
    t = taggers["static"]
    dec = t.runner.fixed
    assert dec is not None
    captured: list[_ReplayStep] = []

    def capture(self: FixedShapeDecoder, s: object) -> None:
        s.graph = _ReplayStep(self, s)  # type: ignore[attr-defined]
        captured.append(s.graph)  # type: ignore[attr-defined]

    monkeypatch.setattr(FixedShapeDecoder, "_capture", capture)
    monkeypatch.setattr(dec, "use_graphs", True)
    monkeypatch.setattr(dec, "_states", {})
    images = _images(8, seed=21)
    dyn = taggers["dynamic"]
    for chunk in (images[:4], images[4:], images[:4], images[2:5]):
        assert t.run_batch(chunk).generated == dyn.run_batch(chunk).generated
    # 4 images x 3 rows = 12: the 1-token rows finish at once (8 live: over half, kept), then the
    # 5-token rows (4 live: a 4-row state). 3 images: 9 rows, then 3 live, rounded up to 4 rows:
    # the same kept state. Each shape is captured once and replayed by every later batch.
    assert sorted(key[0] for key in dec._states) == [4, 9, 12]
    assert len(captured) == 3 and all(g.replays > 0 for g in captured)
    assert sum(g.replays for g in captured) > 3 * 13  # later batches replay, they do not capture


def test_decode_setting_is_validated_and_read_from_the_environment() -> None:
    from autotagger.config import ConfigError, Settings, load_settings

    assert Settings().decode == "auto"
    assert load_settings(environ={"AUTOTAGGER_DECODE": "dynamic"}).decode == "dynamic"
    with pytest.raises(ConfigError, match="decode must be one of"):
        Settings(decode="turbo").validate()
