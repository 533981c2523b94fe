"""First run: is the model there? If not, say what will be downloaded and how big, or, offline,
say plainly that tagging cannot start. No network here: the cache is looked at on disk only."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

# Approximate download sizes of the safetensors weights (hub repos, Nov 2026).
KNOWN_SIZES_GB = {
    "Salesforce/blip2-opt-2.7b": 15.5,
    "Salesforce/blip2-opt-2.7b-coco": 15.5,
    "Salesforce/blip2-flan-t5-xl": 15.8,
    "Salesforce/blip2-opt-6.7b": 31.0,
    "Salesforce/blip2-flan-t5-xxl": 48.0,
}


@dataclass(frozen=True)
class ModelNotice:
    needed: bool  # False: the model is there, nothing to say
    offline: bool
    text: str


def _offline(environ: dict[str, str]) -> bool:
    return any(environ.get(k, "").lower() in ("1", "true", "yes") for k in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


def is_cached(model: str) -> bool:
    """True when ``model`` is a local folder or its config is in the Hugging Face cache."""
    if Path(model).expanduser().is_dir():
        return True
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:  # pragma: no cover - a dependency
        return False
    try:
        found = try_to_load_from_cache(model, "config.json")
    except Exception:  # a malformed id: not cached
        return False
    return isinstance(found, str)


def model_notice(model: str, environ: dict[str, str] | None = None) -> ModelNotice:
    env = dict(os.environ if environ is None else environ)
    if is_cached(model):
        return ModelNotice(False, _offline(env), "")
    local_looking = model.startswith(("/", ".", "~")) or os.sep in model.replace("/", "", 1)
    if local_looking:
        return ModelNotice(True, _offline(env), f"The model folder {model} does not exist. Choose another in Settings.")
    size = KNOWN_SIZES_GB.get(model)
    size_text = f"about {size:.0f} GB" if size else "size unknown (several GB)"
    if _offline(env):
        return ModelNotice(
            True, True,
            f"Offline: the model {model} is not on this computer ({size_text}). Nothing can be tagged until "
            "it is downloaded; browsing and searching work.",
        )
    return ModelNotice(
        True, False,
        f"First run: the model {model} ({size_text}) will be downloaded from the Hugging Face hub into "
        "its cache the first time a photo is tagged. Progress shows in the status bar.",
    )
