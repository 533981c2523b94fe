"""A tiny random-weight BLIP-2 checkpoint, built offline, for tests and demos.

It has the real architecture (ViT, Q-Former with 32 query tokens, OPT or T5 language model) at toy
sizes, a byte-level BPE (OPT) or unigram (T5) tokenizer trained here with ``tokenizers``, and loads
with ``Blip2ForConditionalGeneration.from_pretrained`` and ``Blip2Processor.from_pretrained``.
Its answers are meaningless; its arithmetic is the same as the real model's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

_CORPUS = [
    "a photo of a dog running on the beach at sunset",
    "a woman standing in a kitchen holding a cup of coffee",
    "two children playing football in a park on a sunny day",
    "a city street at night with cars and lights",
    "a plate of food on a wooden table in a restaurant",
    "mountains covered in snow under a cloudy sky",
    "a cat sleeping on a sofa indoors",
    "a group of people at a wedding party in a garden",
    "an old church building with a tower in a small town",
    "a close up of a red flower with water drops",
    "Question: Is this photo taken indoors or outdoors? Answer: outdoors indoors",
    "Question: What time of day is it in this photo? Answer: morning daytime evening night",
    "Question: Are there people in this photo? Answer: yes no",
    "Question: How many people are in this photo? Answer: none one two a few many",
    "Question: What is the main subject of this photo? Answer: a dog",
    "Question: What kind of place is this? Answer: a beach",
    "Question: Are there any animals in this photo? Answer: yes no",
    "Question: What is the weather or season in this photo? Answer: sunny cloudy rainy snowy foggy not visible",
    "Question: What kind of photograph is this? Answer: portrait landscape street macro architecture "
    "food wildlife event still life",
    "Café über Tokyo 東京 naïve façade — “quotes” and 'apostrophes'!",
]

IMAGE_SIZE = 56
NUM_QUERY_TOKENS = 32


def _opt_tokenizer(vocab_size: int) -> Any:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=["<s>", "<pad>", "</s>", "<unk>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(_CORPUS * 4, trainer)
    bos = tok.token_to_id("</s>")
    # OPT puts </s> in front of every text (its BOS), and nothing at the end.
    tok.post_processor = processors.TemplateProcessing(
        single="</s> $A", pair="</s> $A </s> $B", special_tokens=[("</s>", bos)]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="</s>",
        eos_token="</s>",
        pad_token="<pad>",
        unk_token="<unk>",
        padding_side="left",
        model_max_length=512,
    )


def _whole_word_pieces(specials: list[str]) -> list[tuple[str, float]]:
    """A unigram vocabulary in which each word of the corpus ("\u2581word") and each character is a
    piece, scored by its frequency: every corpus word then tokenizes whole."""
    import math
    import unicodedata
    from collections import Counter

    words: Counter[str] = Counter()
    chars: Counter[str] = Counter()
    for line in _CORPUS:
        text = unicodedata.normalize("NFKC", line)
        words.update("\u2581" + w for w in text.split())
        chars.update(text.replace(" ", ""))
    total = sum(words.values()) + sum(chars.values()) + 1
    pieces = [(p, 0.0) for p in specials] + [("\u2581", math.log(1 / total))]
    pieces += [(w, math.log(n / total)) for w, n in sorted(words.items())]
    pieces += [(c, math.log(n / total) - 10.0) for c, n in sorted(chars.items())]  # a word beats its letters
    return pieces


def _t5_tokenizer(vocab_size: int) -> Any:
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    specials = ["<pad>", "</s>", "<unk>"]
    if vocab_size <= 400:
        tok = Tokenizer(models.Unigram())
        trainer = trainers.UnigramTrainer(vocab_size=vocab_size, special_tokens=specials, unk_token="<unk>",
                                          show_progress=False)
    else:  # the trainer learns word pieces, not words, from so small a corpus: give it every word whole
        tok = Tokenizer(models.Unigram(_whole_word_pieces(specials), unk_id=2, byte_fallback=False))
    tok.normalizer = normalizers.NFKC()
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Metaspace()
    if vocab_size <= 400:
        tok.train_from_iterator(_CORPUS * 4, trainer)
    eos = tok.token_to_id("</s>")
    # T5 appends </s> to every text and has no BOS.
    tok.post_processor = processors.TemplateProcessing(
        single="$A </s>", pair="$A </s> $B </s>", special_tokens=[("</s>", eos)]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, eos_token="</s>", pad_token="<pad>", unk_token="<unk>", model_max_length=512
    )


def make_tiny(directory: str | Path, *, text_model: str = "opt", seed: int = 0, vocab_size: int = 400) -> Path:
    """Write a tiny random-weight BLIP-2 checkpoint (safetensors) with processor into ``directory``.

    ``vocab_size`` is the most the tokenizer may learn from its small corpus: the default 400 splits words
    into pieces; a few thousand makes every word of the corpus (the questions and answers) one token, as
    the real tokenizers do for common English words (the engine benchmark uses that)."""
    import torch
    import transformers
    from transformers import (
        Blip2Config,
        Blip2ForConditionalGeneration,
        Blip2Processor,
        Blip2QFormerConfig,
        Blip2VisionConfig,
        OPTConfig,
        T5Config,
    )

    # transformers 5 has a Pillow-only image processor (no torchvision needed); older ones one class.
    ImageProcessor: Any = getattr(transformers, "BlipImageProcessorPil", None) or transformers.BlipImageProcessor

    if text_model not in ("opt", "t5"):
        raise ValueError("text_model must be 'opt' or 't5'")
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)

    tokenizer = _opt_tokenizer(vocab_size) if text_model == "opt" else _t5_tokenizer(vocab_size)
    image_processor = ImageProcessor(
        size={"height": IMAGE_SIZE, "width": IMAGE_SIZE},
        image_mean=[0.48145466, 0.4578275, 0.40821073],
        image_std=[0.26862954, 0.26130258, 0.27577711],
        do_convert_rgb=True,
    )
    processor = Blip2Processor(image_processor=image_processor, tokenizer=tokenizer, num_query_tokens=NUM_QUERY_TOKENS)
    image_token_id = processor.tokenizer.convert_tokens_to_ids("<image>")
    vocab = len(processor.tokenizer)

    vision = Blip2VisionConfig(
        hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
        image_size=IMAGE_SIZE, patch_size=14,
    )
    qformer = Blip2QFormerConfig(
        hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
        encoder_hidden_size=32, vocab_size=vocab,
    )
    text: Any
    if text_model == "opt":
        text = OPTConfig(
            vocab_size=vocab, hidden_size=64, num_hidden_layers=2, ffn_dim=128, num_attention_heads=4,
            max_position_embeddings=256, word_embed_proj_dim=64, bos_token_id=2, eos_token_id=2,
            pad_token_id=1, init_std=0.3,
        )
    else:
        text = T5Config(  # type: ignore[call-arg]
            vocab_size=vocab, d_model=64, d_kv=16, d_ff=128, num_layers=2, num_decoder_layers=2, num_heads=4,
            feed_forward_proj="gated-gelu", is_encoder_decoder=True, pad_token_id=0, eos_token_id=1,
            decoder_start_token_id=0, tie_word_embeddings=False, initializer_factor=3.0,
        )
    config = Blip2Config(
        vision_config=vision.to_dict(), qformer_config=qformer.to_dict(), text_config=text.to_dict(),
        num_query_tokens=NUM_QUERY_TOKENS, image_token_index=image_token_id,
    )
    torch.manual_seed(seed)
    model = Blip2ForConditionalGeneration(config).eval()
    model.generation_config.do_sample = False
    model.save_pretrained(out, safe_serialization=True)
    processor.save_pretrained(out)
    return out
