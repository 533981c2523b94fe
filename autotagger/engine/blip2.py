"""Blip2Tagger: BLIP-2 loaded from a hub id or a local folder; a caption and tag answers per image."""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from autotagger.engine.base import ImageInput, is_oom
from autotagger.engine.checkpoint import BLIP2_MODEL_TYPE, checkpoint_problem, not_blip2
from autotagger.engine.decode import resolve_mode
from autotagger.engine.plan import PromptPlan, build_plan, check_prompt_lengths
from autotagger.engine.questions import (
    QuestionSetError,
    clean_text,
    load_question_set,
    normalise_answer,
    tag_for_answer,
)
from autotagger.engine.runner import DecoderOnlyRunner, EncoderDecoderRunner, LMOutput
from autotagger.types import Answer, Question, QuestionSet, Tag, TagResult

if TYPE_CHECKING:
    from autotagger.config import Settings

_DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


class ModelLoadError(RuntimeError):
    """The model could not be loaded; the message is one line and says what to do."""


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def pick_device(device: str = "auto") -> str:
    """The device to load onto. One asked for by name is checked here, before a minute of loading
    weights that ``model.to`` would then refuse with a bare RuntimeError."""
    if device == "auto":
        if torch.cuda.is_available():
            return "cuda"
        return "mps" if _mps_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ModelLoadError(f"--device {device}: CUDA is not available on this machine (use --device cpu)")
    if device == "mps" and not _mps_available():
        raise ModelLoadError("--device mps: MPS is not available on this machine (use --device cpu)")
    return device


def pick_dtype(dtype: str, device: str, *, encoder_decoder: bool = False) -> torch.dtype:
    """bf16 on Ampere or newer, fp16 on older GPUs (fp32 for T5, which overflows in fp16), fp32 on CPU."""
    if dtype != "auto":
        return _DTYPES[dtype]
    if device.startswith("cuda"):
        if torch.cuda.is_bf16_supported():
            return torch.bfloat16
        return torch.float32 if encoder_decoder else torch.float16
    return torch.float32


def _is_local(source: str) -> bool:
    return Path(source).expanduser().exists() or source.startswith((".", "/", "~"))


def _check_local_checkpoint(path: Path) -> None:
    if not path.is_dir():
        raise ModelLoadError(f"model folder {path} does not exist")
    problem = checkpoint_problem(path)
    if problem:
        raise ModelLoadError(f"{path}: {problem}")


def _check_loading_info(source: str, info: dict[str, Any], ignore: Sequence[str] = ()) -> None:
    """Refuse a checkpoint that lacks weights or has them in other shapes: transformers would fill
    them with random values and the tagger would tag noise. ``ignore``: the model's own patterns of
    keys it expects to be missing (tied weights are never reported missing)."""
    missing = sorted(k for k in info.get("missing_keys", ()) if not any(re.search(p, k) for p in ignore))
    mismatched = sorted(str(k[0] if isinstance(k, tuple) else k) for k in info.get("mismatched_keys", ()))
    if missing:
        more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        raise ModelLoadError(f"{source}: incomplete checkpoint, weights missing: {', '.join(missing[:3])}{more} "
                             "(they would be random; download it again)")
    if mismatched:
        more = f" and {len(mismatched) - 3} more" if len(mismatched) > 3 else ""
        raise ModelLoadError(f"{source}: checkpoint weights do not fit its config.json: "
                             f"{', '.join(mismatched[:3])}{more}")


def _check_prompts(plan: PromptPlan, config: Any) -> None:
    """Refuse prompts the language model cannot take (OPT's learned positions end; T5's relative
    ones do not): past the end every photo would fail with "index out of range"."""
    text_config = config.text_config
    positions = getattr(text_config, "max_position_embeddings", None)
    if text_config.is_encoder_decoder or not isinstance(positions, int):
        return
    check_prompt_lengths(plan, positions, int(config.num_query_tokens))


def _load_error(source: str, exc: BaseException) -> ModelLoadError:
    reason = " ".join(str(exc).split())[:200]
    if _is_local(source):
        return ModelLoadError(f"cannot load model from {source}: {reason}")
    return ModelLoadError(
        f"model {source!r} is not in the local Hugging Face cache and could not be downloaded ({reason}); "
        f"with network, run `autotagger model download {source}` once, or pass --model DIR with a local copy"
    )


class Blip2Tagger:
    """The real tagger. Thread-safe: one call at a time runs on the model (a lock)."""

    def __init__(
        self,
        model: Any,
        processor: Any,
        questions: QuestionSet,
        *,
        model_id: str,
        batch_size: int | None = 8,
        decode: str = "auto",
    ) -> None:
        self.model = model.eval()
        self.processor = processor
        self.questions = questions
        self.model_id = model_id
        self.device = str(next(model.parameters()).device)
        self.dtype = next(model.vision_model.parameters()).dtype
        self.encoder_decoder = bool(model.config.text_config.is_encoder_decoder)
        tok = processor.tokenizer
        self._by_id: dict[str, Question] = {q.id: q for q in questions.questions}
        self._order = {q.id: n for n, q in enumerate(questions.questions)}
        self.plan: PromptPlan = build_plan(questions, tok, answer_prefix="" if self.encoder_decoder else " ")
        _check_prompts(self.plan, model.config)
        pad = tok.pad_token_id if tok.pad_token_id is not None else 0
        lm = _language_model(model)
        quantized = bool(getattr(model, "is_loaded_in_4bit", False) or getattr(model, "is_loaded_in_8bit", False))
        self.decode_mode = resolve_mode(decode, lm, self.device, quantized=quantized)  # T5: always dynamic
        self.runner: DecoderOnlyRunner | EncoderDecoderRunner
        if self.encoder_decoder:
            self.runner = EncoderDecoderRunner(lm, self.plan, model.generation_config, pad)
        else:
            self.runner = DecoderOnlyRunner(lm, self.plan, model.generation_config, pad, decode=self.decode_mode)
        self._lock = threading.Lock()
        self.batch_size = max(1, batch_size) if batch_size else self.auto_batch_size()

    def auto_batch_size(self, *, cap: int = 64, fraction: float = 0.6) -> int:
        """Images per batch from the free GPU memory (8 on the CPU, where bigger batches gain little).

        The dominant cost per image is the language model's KV cache over every prompt row
        (prefix + longest prompt) plus the caption's decoding, and the last-position logits."""
        if not self.device.startswith("cuda"):
            return 8
        free, _total = torch.cuda.mem_get_info(torch.device(self.device))
        cfg: Any = self.model.config.text_config
        layers = int(getattr(cfg, "num_hidden_layers", 0) or getattr(cfg, "num_layers", 32))
        hidden = int(getattr(cfg, "hidden_size", 0) or getattr(cfg, "d_model", 2560))
        vocab = int(cfg.vocab_size)
        rows = len(self.plan.generate) + len(self.plan.score)
        tokens = self.model.config.num_query_tokens + max(len(p.ids) for p in self.plan.generate) + max(
            g.max_new_tokens for g in self.plan.generate
        ) + max((len(s.ids) for s in self.plan.score), default=0)
        elem = torch.finfo(self.dtype).bits // 8
        kv = 2 * layers * hidden * tokens * rows * elem
        if self.decode_mode in ("static", "graph"):  # + the caption/open rows' fixed buffers, and
            kv += int(1.5 * 2 * layers * hidden * tokens * len(self.plan.generate) * elem)  # compacted ones
        activations = 8 * rows * tokens * hidden * elem + rows * vocab * 4 * 2
        per_image = int(1.5 * (kv + activations)) + 64 * 2**20  # + ViT/Q-Former working set
        return max(1, min(cap, int(free * fraction) // per_image))

    def with_questions(self, questions: QuestionSet) -> Blip2Tagger:
        """A tagger for another question set that shares this one's loaded model (no reload)."""
        return Blip2Tagger(
            self.model, self.processor, questions, model_id=self.model_id, batch_size=self.batch_size,
            decode=self.decode_mode,
        )

    # ---------------------------------------------------------------- loading
    @classmethod
    def from_pretrained(
        cls,
        source: str,
        *,
        questions: QuestionSet | None = None,
        device: str = "auto",
        dtype: str = "auto",
        quantize: str = "none",
        batch_size: int = 0,
        decode: str = "auto",
        local_files_only: bool | None = None,
    ) -> Blip2Tagger:
        from transformers import Blip2Config, Blip2ForConditionalGeneration, Blip2Processor

        questions = questions or load_question_set()
        dev = pick_device(device)
        src = str(Path(source).expanduser()) if _is_local(source) else source
        if _is_local(source):
            _check_local_checkpoint(Path(src))
        common: dict[str, Any] = {}
        if local_files_only is not None:
            common["local_files_only"] = local_files_only
        try:
            config_dict, _ = Blip2Config.get_config_dict(src, **common)
        except Exception as exc:  # OSError, HTTP errors, bad JSON: all one line
            raise _load_error(source, exc) from None
        model_type = config_dict.get("model_type")
        if model_type != BLIP2_MODEL_TYPE:  # transformers would load it with random weights, and only warn
            raise ModelLoadError(f"{source}: {not_blip2(model_type)}")
        try:
            config = Blip2Config.from_dict(config_dict)
        except Exception as exc:
            raise _load_error(source, exc) from None
        enc_dec = bool(getattr(config.text_config, "is_encoder_decoder", False))
        torch_dtype = pick_dtype(dtype, dev, encoder_decoder=enc_dec)
        kwargs: dict[str, Any] = {"dtype": torch_dtype, "use_safetensors": True, **common}
        if quantize != "none":
            if not dev.startswith("cuda"):
                raise ModelLoadError(f"--quantize {quantize} needs a CUDA GPU (bitsandbytes); this run uses {dev}")
            try:
                import bitsandbytes  # noqa: F401
                from transformers import BitsAndBytesConfig
            except ImportError:
                raise ModelLoadError("--quantize needs bitsandbytes: pip install 'autotagger[cuda]'") from None
            skip = ["vision_model", "qformer", "query_tokens", "language_projection", "lm_head"]
            if quantize == "8bit":
                kwargs["quantization_config"] = BitsAndBytesConfig(load_in_8bit=True, llm_int8_skip_modules=skip)
            else:
                kwargs["quantization_config"] = BitsAndBytesConfig(
                    load_in_4bit=True,
                    bnb_4bit_quant_type="nf4",
                    bnb_4bit_compute_dtype=torch_dtype,
                    bnb_4bit_use_double_quant=True,
                    llm_int8_skip_modules=skip,
                )
            kwargs["device_map"] = {"": 0}
        try:
            processor = Blip2Processor.from_pretrained(src, **common)
        except Exception as exc:
            raise _load_error(source, exc) from None
        # The prompts are checked before the weights load: a minute or more on a real model.
        _check_prompts(build_plan(questions, processor.tokenizer, answer_prefix="" if enc_dec else " "), config)
        try:
            loaded: Any = Blip2ForConditionalGeneration.from_pretrained(src, output_loading_info=True, **kwargs)
        except Exception as exc:
            raise _load_error(source, exc) from None
        model, info = loaded
        _check_loading_info(source, info, getattr(model, "_keys_to_ignore_on_load_missing", None) or ())
        if quantize == "none":
            model = model.to(dev)
        return cls(model, processor, questions, model_id=source, batch_size=batch_size or None, decode=decode)

    @classmethod
    def from_settings(cls, settings: Settings) -> Blip2Tagger:
        questions = load_question_set(settings.questions or None)
        try:
            return cls.from_pretrained(
                settings.model,
                questions=questions,
                device=settings.device,
                dtype=settings.dtype,
                quantize=settings.quantize,
                batch_size=settings.batch_size,
                decode=settings.decode,
            )
        except QuestionSetError as exc:  # a prompt this model cannot take: name the file it came from
            raise QuestionSetError(f"{settings.questions or 'default questions'}: {exc}") from None

    # ---------------------------------------------------------------- running
    def preprocess(self, image: Any) -> torch.Tensor:
        """The model's input for one image ([3, H, W] float32 on the CPU), exactly as the processor
        makes it. Thread-safe: the service calls it on its decode pool, ahead of the model."""
        pv: torch.Tensor = self.processor.image_processor([image], return_tensors="pt")["pixel_values"][0]
        return pv

    def pixel_values(self, images: Sequence[Any]) -> torch.Tensor:
        """A batch from PIL images and/or tensors already made by ``preprocess``."""
        tensors = [im if isinstance(im, torch.Tensor) else self.preprocess(im) for im in images]
        batch = torch.stack(tensors)
        if self.device.startswith("cuda"):
            batch = batch.pin_memory()
        return batch.to(self.device, self.dtype, non_blocking=True)

    @torch.inference_mode()
    def query_embeddings(self, pixel_values: torch.Tensor) -> torch.Tensor:
        """ViT and Q-Former, once per image: the language model's 32 image embeddings [B, 32, H]."""
        m: Any = self.model
        image_embeds = m.vision_model(pixel_values, return_dict=True).last_hidden_state
        image_mask = torch.ones(image_embeds.shape[:-1], dtype=torch.long, device=image_embeds.device)
        query_tokens = m.query_tokens.expand(image_embeds.shape[0], -1, -1)
        q = m.qformer(
            query_embeds=query_tokens,
            encoder_hidden_states=image_embeds,
            encoder_attention_mask=image_mask,
            return_dict=True,
        ).last_hidden_state
        if q.dtype != image_embeds.dtype:  # the Q-Former is kept in fp32, as in transformers' generate
            q = q.to(image_embeds.dtype)
        out: torch.Tensor = m.language_projection(q)
        return out

    def tag_images(self, images: Sequence[ImageInput]) -> list[TagResult]:
        results: list[TagResult] = []
        for start in range(0, len(images), self.batch_size):
            chunk = images[start : start + self.batch_size]
            try:
                with self._lock:
                    lm_out = self.run_batch([img for _, img in chunk])
                results.extend(self._results(chunk, lm_out))
            except Exception as exc:
                if is_oom(exc):
                    fixed = getattr(self.runner, "fixed", None)
                    if fixed is not None:
                        fixed.release()  # buffers kept for the old batch shape
                    raise  # the service halves the batch and retries
                if len(chunk) > 1:  # find the one image that breaks, the rest go on
                    for one in chunk:
                        results.extend(self.tag_images([one]))
                else:
                    msg = " ".join(str(exc).split())[:300]
                    results.append(TagResult(path=chunk[0][0], model_id=self.model_id, error=f"model error: {msg}"))
        return results

    def run_batch(self, images: Sequence[Any]) -> LMOutput:
        """Token ids for one batch: generated ids per (image, caption/open prompt), answer log-probs."""
        q = self.query_embeddings(self.pixel_values(images))
        return self.runner.run(q)

    def decode(self, ids: Sequence[int]) -> str:
        return str(self.processor.tokenizer.decode(list(ids), skip_special_tokens=True)).strip()

    def clean(self, ids: Sequence[int]) -> str:
        return clean_text(self.decode(ids))

    def _results(self, chunk: Sequence[ImageInput], out: LMOutput) -> list[TagResult]:
        results = []
        for i, (path, _) in enumerate(chunk):
            caption = ""
            answers: list[Answer] = []
            tags: list[Tag] = []
            for g, prompt in enumerate(self.plan.generate):
                text = self.clean(out.generated[i][g])
                if prompt.key == "caption":
                    caption = text
                    continue
                answers.append(Answer(prompt.key, prompt.text, normalise_answer(text), None, raw=text))
            for qi, sp in enumerate(self.plan.score):
                logps = out.scores[i][qi]
                m = max(logps)
                exps = [math.exp(v - m) for v in logps]
                total = sum(exps)
                best = max(range(len(logps)), key=lambda k: logps[k])
                conf = exps[best] / total
                answer = normalise_answer(sp.question.answers[best], closed=True)
                answers.append(Answer(sp.question.id, sp.text, answer, conf))
            answers.sort(key=lambda a: self._order[a.question_id])
            for a in answers:
                tag = tag_for_answer(self._by_id[a.question_id], a)
                if tag is not None and all(t.path != tag.path for t in tags):
                    tags.append(tag)
            results.append(
                TagResult(
                    path=path,
                    caption=caption,
                    caption_prompt=self.questions.caption_prompt,
                    answers=tuple(answers),
                    tags=tuple(tags),
                    model_id=self.model_id,
                    question_set_version=self.questions.version,
                )
            )
        return results


def _language_model(model: Any) -> Any:
    """The language model with its LM head (OPTForCausalLM / T5ForConditionalGeneration)."""
    lm = model.language_model
    if lm.get_output_embeddings() is None and hasattr(model, "lm_head"):  # newer layouts split the head off
        raise ModelLoadError("this transformers version's BLIP-2 layout is not supported")
    return lm
