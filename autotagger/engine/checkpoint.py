"""Is a folder a BLIP-2 checkpoint we can load offline? Answered from its files alone (no torch).

The same answer serves ``Blip2Tagger.from_pretrained`` (refuse before a minute of loading) and
``autotagger model info`` (never say "available offline" for a folder the load would refuse).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

BLIP2_MODEL_TYPE = "blip-2"

# Files a tokenizer can live in (fast tokenizer, BPE vocabulary, sentencepiece, WordPiece).
_TOKENIZER_FILES = ("tokenizer.json", "vocab.json", "spiece.model", "tokenizer.model", "sentencepiece.bpe.model",
                    "vocab.txt")
# The image processor's settings: its own file, or (transformers 5) inside processor_config.json.
_IMAGE_PROCESSOR_FILES = ("preprocessor_config.json", "processor_config.json")
_SHARD = re.compile(r"^(.*)-(\d+)-of-(\d+)\.safetensors$")


def not_blip2(model_type: object) -> str:
    """The reason for a checkpoint of another kind; transformers would load it with random weights."""
    return f"not a BLIP-2 checkpoint (model_type {model_type!r})"


def read_config(folder: Path) -> dict[str, object] | str:
    """``folder``'s config.json as a dict, or the reason it cannot be read."""
    path = folder / "config.json"
    if not path.is_file():
        return "not a model folder (no config.json)"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return f"cannot read config.json: {' '.join(str(exc).split())[:120]}"
    if not isinstance(data, dict):
        return "config.json is not a JSON object"
    return data


def _missing_shards(folder: Path) -> list[str]:
    """Shards a sharded checkpoint names (its index, or the -N-of-M file names) that are not there."""
    wanted: set[str] = set()
    index = folder / "model.safetensors.index.json"
    if index.is_file():
        try:
            weight_map = json.loads(index.read_text(encoding="utf-8")).get("weight_map", {})
            wanted.update(str(v) for v in weight_map.values())
        except (OSError, UnicodeDecodeError, ValueError, AttributeError):
            return [index.name]
    for shard in folder.glob("*.safetensors"):
        m = _SHARD.match(shard.name)
        if m:
            width, total = len(m.group(2)), int(m.group(3))
            wanted.update(f"{m.group(1)}-{i:0{width}d}-of-{m.group(3)}.safetensors" for i in range(1, total + 1))
    return sorted(name for name in wanted if not (folder / name).is_file())  # is_file: dangling cache links too


def checkpoint_problem(folder: Path) -> str | None:
    """Why ``folder`` is not a BLIP-2 checkpoint that loads offline (one line, without the folder's
    name), or None when it has everything: a blip-2 config, safetensors weights (every shard), a
    tokenizer and the image processor's settings."""
    if not folder.is_dir():
        return "no such folder"
    config = read_config(folder)
    if isinstance(config, str):
        return config
    if not any(p.is_file() for p in folder.glob("*.safetensors")):
        if any(folder.glob("*.bin")):
            return "has only .bin weights (only safetensors are loaded, never pickles)"
        return "has no .safetensors weights"
    if config.get("model_type") != BLIP2_MODEL_TYPE:
        return not_blip2(config.get("model_type"))
    missing = _missing_shards(folder)
    if missing:
        return f"is missing weight files: {', '.join(missing[:3])}" + (" …" if len(missing) > 3 else "")
    if not any((folder / name).is_file() for name in _TOKENIZER_FILES):
        return "has no tokenizer (no tokenizer.json, vocab.json or spiece.model)"
    if not any((folder / name).is_file() for name in _IMAGE_PROCESSOR_FILES):
        return "has no image processor settings (no preprocessor_config.json or processor_config.json)"
    return None
