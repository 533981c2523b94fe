"""The prompts of a question set, tokenised once: what the language model is asked for every image."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from autotagger.engine.questions import QuestionSetError
from autotagger.types import Question, QuestionSet


@dataclass(frozen=True)
class GenPrompt:
    """A prompt whose answer is generated greedily (the caption and every open question)."""

    key: str  # "caption" or the question id
    text: str  # exact prompt text given to the model
    ids: tuple[int, ...]  # token ids as the processor gives them (special tokens included)
    max_new_tokens: int


@dataclass(frozen=True)
class ScorePrompt:
    """A closed question: each answer's tokens are scored after the prompt."""

    question: Question
    text: str
    ids: tuple[int, ...]
    answer_ids: tuple[tuple[int, ...], ...]  # one token sequence per answer, same order as question.answers


@dataclass(frozen=True)
class PromptPlan:
    generate: tuple[GenPrompt, ...]
    score: tuple[ScorePrompt, ...]

    @property
    def n_rows_per_image(self) -> int:
        return len(self.generate) + sum(len(s.answer_ids) for s in self.score)


def build_plan(questions: QuestionSet, tokenizer: Any, *, answer_prefix: str = " ") -> PromptPlan:
    """Tokenise every prompt exactly as ``Blip2Processor(text=...)`` would (after the image tokens).

    ``answer_prefix`` is what separates a prompt from its answer: a space for byte-level BPE
    tokenisers (OPT), where " outdoors" is the token the model would produce after "Answer:".
    """

    def ids(text: str) -> tuple[int, ...]:
        return tuple(int(i) for i in tokenizer(text, add_special_tokens=True)["input_ids"])

    def answer_tokens(answer: str) -> tuple[int, ...]:
        out = tuple(int(i) for i in tokenizer(answer_prefix + answer, add_special_tokens=False)["input_ids"])
        if not out:
            raise ValueError(f"answer {answer!r} tokenises to nothing")
        return out

    gen = [GenPrompt("caption", questions.caption_prompt, ids(questions.caption_prompt), questions.caption_max_new_tokens)]
    score = []
    for q in questions.questions:
        text = questions.prompt_for(q)
        if q.kind == "open":
            gen.append(GenPrompt(q.id, text, ids(text), q.max_new_tokens))
        else:
            score.append(ScorePrompt(q, text, ids(text), tuple(answer_tokens(a) for a in q.answers)))
    return PromptPlan(tuple(gen), tuple(score))


def check_prompt_lengths(plan: PromptPlan, max_positions: int, num_query_tokens: int) -> None:
    """Refuse a prompt that, with its longest answer, runs past the language model's last position
    (the image's query tokens come first): the model would fail on every photo instead.
    The count is the prompt's tokens plus every answer token, one more than is fed, to stay clear
    of the edge on every decoding path."""
    limit = max_positions - num_query_tokens
    rows = [("the caption prompt" if n == 0 else f"question {g.key!r}", g.ids, g.max_new_tokens)
            for n, g in enumerate(plan.generate)]  # the caption's prompt comes first
    rows += [(f"question {s.question.id!r}", s.ids, max(len(a) for a in s.answer_ids)) for s in plan.score]
    for what, ids, answer in rows:
        if len(ids) + answer > limit:
            raise QuestionSetError(
                f"{what} is too long for this model: {len(ids)} prompt tokens + up to {answer} answer tokens, "
                f"the model takes {limit} ({max_positions} positions less {num_query_tokens} for the image)"
            )
