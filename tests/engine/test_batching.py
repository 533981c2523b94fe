from __future__ import annotations

from pathlib import Path

import pytest

from autotagger.config import ConfigError, Settings
from autotagger.engine.blip2 import Blip2Tagger


def test_batch_size_zero_means_auto(tiny_model: Path) -> None:
    t = Blip2Tagger.from_pretrained(str(tiny_model), device="cpu", batch_size=0)
    assert t.batch_size == 8  # the CPU choice
    assert Blip2Tagger.from_pretrained(str(tiny_model), device="cpu", batch_size=3).batch_size == 3
    assert Settings().batch_size == 0
    with pytest.raises(ConfigError):
        Settings(batch_size=-1).validate()


def test_auto_batch_size_follows_free_gpu_memory(tiny_model: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    t = Blip2Tagger.from_pretrained(str(tiny_model), device="cpu", batch_size=2)
    t.device = "cuda:0"  # pretend: only the memory query is faked
    free = {"bytes": 80 * 2**30}
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda *a: (free["bytes"], 80 * 2**30))
    big = t.auto_batch_size()
    free["bytes"] = 100 * 2**20
    small = t.auto_batch_size()
    assert big == 64 and 1 <= small < big  # capped at 64; a nearly full GPU still gets a batch of 1
    # The estimate grows with the language model: a 2.7B-sized config gets fewer images per GiB.
    free["bytes"] = 8 * 2**30
    tiny_fit = t.auto_batch_size(cap=10_000)
    cfg = t.model.config.text_config
    monkeypatch.setattr(cfg, "num_hidden_layers", 32)
    monkeypatch.setattr(cfg, "hidden_size", 2560)
    monkeypatch.setattr(cfg, "vocab_size", 50272)
    assert t.auto_batch_size(cap=10_000) < tiny_fit
