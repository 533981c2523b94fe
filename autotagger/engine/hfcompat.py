"""The few places where transformers' API moved between the versions the engine runs on."""

from __future__ import annotations

import inspect
from typing import Any


def cache_kwarg(module: Any) -> str:
    """The name ``module.forward`` takes its KV cache by: ``cache`` in transformers 5.2x (which
    warns on ``past_key_values`` and drops it in 5.40), ``past_key_values`` before."""
    params = inspect.signature(module.forward).parameters
    return next((k for k in ("cache", "past_key_values", "past_key_value") if k in params), "past_key_values")


def cache_of(output: Any) -> Any:
    """The KV cache a model output carries, under either name."""
    cache = getattr(output, "cache", None)
    return cache if cache is not None else output.past_key_values
