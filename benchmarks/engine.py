"""Engine speed: the documented BLIP-2 way vs plain batched `generate` vs autotagger's engine.

Builds BLIP-2 from a configuration with random weights (no download), writes N synthetic photos
of realistic size, and times in one run, on the same images, prompts and greedy decoding:
  1. documented: per image, per prompt, `processor(...)` then `model.generate(...)`, batch 1
     (the image opened with Pillow at full size, as the BLIP-2 docs do);
  2. plain batched: all images x prompts through `generate` at once (one call for the caption
     rows, one for the question rows: they have different token budgets);
  3. engine: `autotagger` from file paths to results, decoding included.
Random weights never stop on EOS, so EOS is switched off and every prompt runs its fixed budget:
caption --caption-tokens (20), open questions --open-tokens (4); (1) and (2) *generate*
--open-tokens for each closed question, the engine scores the answers instead (reported apart).

    python benchmarks/engine.py --arch small --images 8            # CPU
    python benchmarks/engine.py --arch blip2-opt-2.7b --images 256 --dtype bfloat16   # GPU
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch
from PIL import Image

ARCHS: dict[str, dict[str, Any]] = {
    # The real sizes of Salesforce/blip2-opt-2.7b.
    "blip2-opt-2.7b": {
        "vision": dict(hidden_size=1408, intermediate_size=6144, num_hidden_layers=39, num_attention_heads=16,
                       image_size=224, patch_size=14),
        "qformer": dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072,
                        encoder_hidden_size=1408),
        "text": ("opt", dict(vocab_size=50272, hidden_size=2560, num_hidden_layers=32, ffn_dim=10240,
                             num_attention_heads=32, max_position_embeddings=2048, word_embed_proj_dim=2560)),
    },
    # The real sizes of Salesforce/blip2-flan-t5-xl.
    "blip2-flan-t5-xl": {
        "vision": dict(hidden_size=1408, intermediate_size=6144, num_hidden_layers=39, num_attention_heads=16,
                       image_size=224, patch_size=14),
        "qformer": dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072,
                        encoder_hidden_size=1408),
        "text": ("t5", dict(vocab_size=32128, d_model=2048, d_kv=64, d_ff=5120, num_layers=24,
                            num_decoder_layers=24, num_heads=32, feed_forward_proj="gated-gelu")),
    },
    # A CPU-sized model with the same structure (ViT 224/14, 32 queries, OPT decoder, full vocabulary).
    "small": {
        "vision": dict(hidden_size=384, intermediate_size=1536, num_hidden_layers=6, num_attention_heads=6,
                       image_size=224, patch_size=14),
        "qformer": dict(hidden_size=384, num_hidden_layers=4, num_attention_heads=6, intermediate_size=1536,
                        encoder_hidden_size=384),
        "text": ("opt", dict(vocab_size=50272, hidden_size=512, num_hidden_layers=6, ffn_dim=2048,
                             num_attention_heads=8, max_position_embeddings=512, word_embed_proj_dim=512)),
    },
}


def build_model(arch: str, directory: Path, dtype: torch.dtype, device: str) -> tuple[Any, Any]:
    """A random-weight BLIP-2 of ``arch`` with a tokenizer padded to the model's vocabulary."""
    from transformers import (
        Blip2Config,
        Blip2ForConditionalGeneration,
        Blip2Processor,
        Blip2QFormerConfig,
        Blip2VisionConfig,
        OPTConfig,
        T5Config,
    )

    from autotagger.engine.tiny import make_tiny

    spec = ARCHS[arch]
    kind, text_kw = spec["text"]
    make_tiny(directory, text_model=kind)  # borrow its offline-trained tokenizer and processor
    proc = Blip2Processor.from_pretrained(directory)
    proc.image_processor.size = {"height": spec["vision"]["image_size"], "width": spec["vision"]["image_size"]}
    tok = proc.tokenizer
    vocab = text_kw["vocab_size"]
    tok.add_tokens([f"<w{i}>" for i in range(vocab - len(tok))])  # every id the model can emit decodes
    qcfg = dict(spec["qformer"], vocab_size=vocab)
    if kind == "opt":
        text = OPTConfig(**text_kw, bos_token_id=2, eos_token_id=2, pad_token_id=1)
    else:
        text = T5Config(**text_kw, pad_token_id=0, eos_token_id=1, decoder_start_token_id=0,
                        is_encoder_decoder=True, tie_word_embeddings=False)
    config = Blip2Config(vision_config=Blip2VisionConfig(**spec["vision"]).to_dict(),
                         qformer_config=Blip2QFormerConfig(**qcfg).to_dict(), text_config=text.to_dict(),
                         num_query_tokens=32, image_token_index=tok.convert_tokens_to_ids("<image>"))
    torch.manual_seed(0)
    with torch.device(device):
        model = Blip2ForConditionalGeneration(config)
    model = model.to(dtype).eval()
    # As from_pretrained(dtype=...) does: the Q-Former and its query tokens stay in fp32.
    model.qformer.float()
    model.query_tokens.data = model.query_tokens.data.float()
    # Random weights: switch EOS off so that every prompt runs its full, fixed token budget.
    model.generation_config.eos_token_id = None
    model.generation_config.pad_token_id = tok.pad_token_id
    return model, proc


def make_photos(directory: Path, n: int, size: tuple[int, int]) -> list[str]:
    """Smooth gradients with noise, saved as quality-90 JPEGs: they compress like photos."""
    import numpy as np

    directory.mkdir(parents=True, exist_ok=True)
    w, h = size
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    paths = []
    for i in range(n):
        base = np.stack([(xx / w) * 255, (yy / h) * 255, np.full_like(xx, (i * 37) % 255)], axis=-1)
        noise = rng.normal(0, 12, (h // 8, w // 8, 3)).repeat(8, 0).repeat(8, 1)
        arr = np.clip(base + noise, 0, 255).astype(np.uint8)
        p = directory / f"photo_{i:04d}.jpg"
        Image.fromarray(arr).save(p, quality=90)
        paths.append(str(p))
    return paths


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def documented(model: Any, proc: Any, paths: list[str], prompts: list[tuple[str, int]], device: str) -> list[list[list[int]]]:
    out = []
    for p in paths:
        image = Image.open(p).convert("RGB")
        per = []
        for text, n in prompts:
            inputs = proc(images=image, text=text, return_tensors="pt").to(device, model.dtype)
            with torch.inference_mode():
                ids = model.generate(**inputs, max_new_tokens=n, min_new_tokens=n, do_sample=False, num_beams=1)
            per.append(ids[0, -n:].tolist() if not model.config.text_config.is_encoder_decoder else ids[0, 1:].tolist())
        out.append(per)
    return out


def plain_batched(model: Any, proc: Any, paths: list[str], prompts: list[tuple[str, int]], device: str) -> None:
    images = [Image.open(p).convert("RGB") for p in paths]
    for budget in sorted({n for _, n in prompts}):
        texts = [t for t, n in prompts if n == budget]
        imgs = [im for im in images for _ in texts]
        inputs = proc(images=imgs, text=texts * len(images), padding=True, return_tensors="pt").to(device, model.dtype)
        with torch.inference_mode():
            model.generate(**inputs, max_new_tokens=budget, min_new_tokens=budget, do_sample=False, num_beams=1)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arch", choices=sorted(ARCHS), default="small")
    ap.add_argument("--images", type=int, default=8)
    ap.add_argument("--photo-size", default="4000x3000")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--dtype", default=None, help="default: bfloat16 on CUDA, float32 on CPU")
    ap.add_argument("--batch-size", type=int, default=None, help="engine batch (default: all images, max 64)")
    ap.add_argument("--caption-tokens", type=int, default=20)
    ap.add_argument("--open-tokens", type=int, default=4)
    ap.add_argument("--skip-documented", action="store_true", help="skip (1) (slow at full size)")
    ap.add_argument("--documented-images", type=int, default=None, help="time (1) on the first K images only")
    args = ap.parse_args()

    from autotagger.engine.blip2 import Blip2Tagger
    from autotagger.engine.questions import load_question_set
    from autotagger.service.tagfiles import tag_paths

    dtype = getattr(torch, args.dtype) if args.dtype else (torch.bfloat16 if args.device.startswith("cuda") else torch.float32)
    w, h = (int(x) for x in args.photo_size.split("x"))
    work = Path(tempfile.mkdtemp(prefix="autotagger-bench-"))
    t0 = time.perf_counter()
    model, proc = build_model(args.arch, work / "model", dtype, args.device)
    paths = make_photos(work / "photos", args.images, (w, h))
    setup_s = time.perf_counter() - t0

    qs = load_question_set()
    qs = dataclasses.replace(
        qs, caption_max_new_tokens=args.caption_tokens,
        questions=tuple(dataclasses.replace(q, max_new_tokens=args.open_tokens) for q in qs.questions),
    )
    batch = args.batch_size or min(64, args.images)
    tagger = Blip2Tagger(model, proc, qs, model_id=f"random/{args.arch}", batch_size=batch)
    gen_prompts = [(qs.caption_prompt, args.caption_tokens)] + [(qs.prompt_for(q), args.open_tokens) for q in qs.questions if q.kind == "open"]
    closed_prompts = [(qs.prompt_for(q), args.open_tokens) for q in qs.questions if q.kind == "closed"]
    n_closed = len(closed_prompts)

    print(f"# autotagger engine benchmark, {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC")
    print(f"# command: python {' '.join(sys.argv)}")
    dev_name = torch.cuda.get_device_name() if args.device.startswith("cuda") else f"CPU {platform.processor() or platform.machine()} x{os.cpu_count()} (torch threads {torch.get_num_threads()})"
    print(f"# device: {dev_name}; torch {torch.__version__}; dtype {str(dtype).replace('torch.', '')}; arch {args.arch}")
    print(f"# {args.images} photos {w}x{h}; prompts per image: caption ({args.caption_tokens} tokens) + "
          f"{len(gen_prompts) - 1} open ({args.open_tokens} tokens) + {n_closed} closed "
          f"({sum(len(q.answers) for q in qs.questions if q.kind == 'closed')} answers); EOS off, fixed budgets; setup {setup_s:.1f}s")

    # Warm-up, untimed: kernels are built per shape (oneDNN on the CPU, cuBLAS heuristics and the
    # caching allocator on the GPU), so each method first runs once at the shapes it will be timed at.
    list(tag_paths(paths[:batch], tagger, batch_size=batch))
    documented(model, proc, paths[:1], gen_prompts + closed_prompts, args.device)
    plain_batched(model, proc, paths, gen_prompts + closed_prompts, args.device)

    def timed(fn: Any) -> tuple[float, Any]:
        if args.device.startswith("cuda"):
            torch.cuda.reset_peak_memory_stats()
        sync(args.device)
        t = time.perf_counter()
        r = fn()
        sync(args.device)
        return time.perf_counter() - t, r

    rows = []
    t3, results = timed(lambda: list(tag_paths(paths, tagger, batch_size=batch, workers=min(8, os.cpu_count() or 2))))
    mem3 = torch.cuda.max_memory_allocated() / 2**30 if args.device.startswith("cuda") else float("nan")
    rows.append(("3 engine (files -> results)", args.images / t3, mem3))
    assert all(r.error is None for r in results), [r.error for r in results if r.error]

    t2, _ = timed(lambda: plain_batched(model, proc, paths, gen_prompts + closed_prompts, args.device))
    mem2 = torch.cuda.max_memory_allocated() / 2**30 if args.device.startswith("cuda") else float("nan")
    rows.append(("2 plain batched generate", args.images / t2, mem2))

    doc_ids = None
    if not args.skip_documented:
        k = args.documented_images or args.images
        t1, doc_ids = timed(lambda: documented(model, proc, paths[:k], gen_prompts, args.device))
        tc, _ = timed(lambda: documented(model, proc, paths[:k], closed_prompts, args.device))
        rows.append(("1 documented (caption+open)", k / t1, float("nan")))
        rows.append(("1 documented (all prompts)", k / (t1 + tc), float("nan")))
        doc_rate = k / (t1 + tc)

    print(f"{'method':34s} {'images/s':>10s} {'peak GiB':>9s}")
    for name, rate, mem in rows:
        print(f"{name:34s} {rate:10.3f} {mem:9.2f}")
    eng = rows[0][1]
    if doc_ids is not None:
        print(f"ratio 3/1 (all prompts): {eng / doc_rate:.1f}x")
    print(f"ratio 3/2: {eng / rows[1][1]:.1f}x")

    if doc_ids is not None:
        # (3) must give the same caption and open answers as (1), token for token.
        gen_keys = ["caption"] + [q.id for q in qs.questions if q.kind == "open"]
        same = total = 0
        for i, per in enumerate(doc_ids):
            r = results[i]
            texts = {"caption": r.caption, **{a.question_id: a.raw for a in r.answers}}
            for g, key in enumerate(gen_keys):
                total += 1
                same += int(tagger.clean(per[g]) == texts[key])
        print(f"equal to (1): {same}/{total} caption and open answers")
        if same != total:
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
