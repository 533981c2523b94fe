"""Plain immutable values passed between the layers (threads talk in these, never live objects)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

QuestionKind = Literal["closed", "open"]


@dataclass(frozen=True)
class Question:
    """One tag question. ``closed`` questions score a fixed answer list; ``open`` ones generate."""

    id: str
    text: str
    kind: QuestionKind
    tag: str  # template, e.g. "setting|{answer}"; "" = no tag
    answers: tuple[str, ...] = ()
    when: tuple[str, ...] = ()  # emit the tag only for these answers (empty = any)
    min_confidence: float = 0.0
    max_new_tokens: int = 6


@dataclass(frozen=True)
class QuestionSet:
    version: str
    questions: tuple[Question, ...]
    prompt_template: str = "Question: {question} Answer:"
    caption_prompt: str = ""
    caption_max_new_tokens: int = 30

    def prompt_for(self, question: Question) -> str:
        return self.prompt_template.format(question=question.text)


@dataclass(frozen=True)
class Answer:
    question_id: str
    prompt: str  # exact text given to the model
    answer: str  # normalised answer
    confidence: float | None  # softmax over the answer list (closed); None for open answers
    raw: str = ""  # the text as the model produced it (open questions)


@dataclass(frozen=True)
class Tag:
    """A hierarchical keyword such as ``setting|outdoors``; the leaf is what flat fields get."""

    path: str
    confidence: float | None = None
    question_id: str | None = None

    @property
    def leaf(self) -> str:
        return self.path.rsplit("|", 1)[-1]


@dataclass(frozen=True)
class TagResult:
    """What the engine says about one image (or why it could not)."""

    path: str
    caption: str = ""
    caption_prompt: str = ""
    answers: tuple[Answer, ...] = ()
    tags: tuple[Tag, ...] = ()
    model_id: str = ""
    question_set_version: str = ""
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["answers"] = [
            {k: a[k] for k in ("question_id", "prompt", "answer", "confidence", "raw")} for a in d["answers"]
        ]
        d["tags"] = [t.path for t in self.tags]
        d["tag_confidences"] = {t.path: t.confidence for t in self.tags}
        return d


@dataclass(frozen=True)
class FileError:
    path: str
    message: str


@dataclass
class Progress:
    done: int = 0
    failed: int = 0
    total: int = 0
    current: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
