"""Question sets (TOML), answer normalisation and tag templates. No torch here."""

from __future__ import annotations

import re
import sys
import unicodedata
from importlib import resources
from pathlib import Path
from typing import Any

from autotagger.types import Answer, Question, QuestionSet, Tag

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


class QuestionSetError(ValueError):
    """A malformed question set; the message names the file and the problem in one line."""


_ARTICLES = {"a", "an", "the"}
_PUNCT = re.compile(r"[^\w\s\-']", re.UNICODE)
_ID = re.compile(r"^[A-Za-z0-9_.-]+$")


def clean_text(text: str) -> str:
    """Model text made safe for metadata: no control characters, white space folded, and no U+FFFD:
    a byte-level tokenizer (OPT's) decodes a character cut by the token limit, or bytes that are no
    UTF-8 at all, as that replacement character, which would be written into the photo as a "�"."""
    text = unicodedata.normalize("NFC", text).replace("\ufffd", " ")
    text = "".join(" " if unicodedata.category(ch) in ("Cc", "Cs", "Co", "Cn") else ch for ch in text)
    return " ".join(text.split())


def normalise_answer(text: str, *, closed: bool = False) -> str:
    """Lowercase, strip punctuation and leading/trailing articles, fold white space. A closed
    question's answer (``closed``: one the question set's author wrote) keeps its articles: "a few"
    is an answer of its own, not "few".

    >>> normalise_answer("  The Beach!  ")
    'beach'
    >>> normalise_answer("A few", closed=True)
    'a few'
    """
    text = clean_text(text).lower()
    text = _PUNCT.sub(" ", text)
    words = [w.strip("'-") for w in text.split()]
    words = [w for w in words if w]
    while words and words[0] in _ARTICLES and not closed:
        words.pop(0)
    while words and words[-1] in _ARTICLES and not closed:
        words.pop()
    return " ".join(words)


def render_tag(template: str, answer: str) -> str:
    """Fill a tag template; each level is cleaned so a stray '|' in an answer cannot add a level."""
    if not template:
        return ""
    safe_answer = answer.replace("|", " ").strip()
    levels = [" ".join(level.replace("{answer}", safe_answer).split()) for level in template.split("|")]
    if any(not level for level in levels):
        return ""
    return "|".join(levels)


def tag_for_answer(question: Question, answer: Answer) -> Tag | None:
    """The keyword a question's answer yields, or None (condition not met, low confidence, empty)."""
    if not question.tag or not answer.answer:
        return None
    if question.when and answer.answer not in question.when:
        return None
    if answer.confidence is not None and answer.confidence < question.min_confidence:
        return None
    path = render_tag(question.tag, answer.answer)
    return Tag(path, answer.confidence, question.id) if path else None


def _number(value: object, what: str, *, whole: bool = False) -> float:
    """``value`` as TOML wrote it, refused unless it is the number asked for: ``true`` is not 1.0,
    2.9 tokens is not 2, and "6" is a string (Python would quietly coerce all three)."""
    if isinstance(value, bool) or not isinstance(value, int if whole else (int, float)):
        raise QuestionSetError(f"{what} must be {'a whole number' if whole else 'a number'}, not {value!r}")
    return value


def _check_template(template: str, source: str, first: Question) -> None:
    """Fill ``template`` once as ``QuestionSet.prompt_for`` will for every photo, so that a stray
    brace fails here, naming the file, instead of as a bare KeyError per photo."""
    marker = "\x00question\x00"
    why = ""
    try:
        filled = template.format(question=marker)
    except KeyError as exc:
        why = f"unknown placeholder {{{exc.args[0]}}}"
    except (IndexError, ValueError, AttributeError, TypeError) as exc:
        why = " ".join(str(exc).split()) or "a stray brace"
    else:
        if marker not in filled:
            why = "the question text never reaches the prompt (write {question} as it is)"
    if why:
        raise QuestionSetError(
            f"{source}: prompt_template {template!r} cannot make the prompt for question {first.id!r}: {why} "
            "(only {question} is filled in; write {{ and }} for a literal brace)"
        )


def _question_from_table(table: dict[str, Any], where: str) -> Question:
    def need(key: str, typ: type) -> Any:
        if key not in table:
            raise QuestionSetError(f"{where}: missing '{key}'")
        if not isinstance(table[key], typ):
            raise QuestionSetError(f"{where}: '{key}' must be a {typ.__name__}")
        return table[key]

    qid = need("id", str)
    if not _ID.match(qid):
        raise QuestionSetError(f"{where}: id {qid!r} may only use letters, digits, '_', '.', '-'")
    text = need("text", str).strip()
    if not text:
        raise QuestionSetError(f"{where}: question {qid!r} has empty text")
    kind = table.get("kind", "closed" if "answers" in table else "open")
    if kind not in ("closed", "open"):
        raise QuestionSetError(f"{where}: question {qid!r} kind must be 'closed' or 'open', not {kind!r}")
    answers_raw = table.get("answers", [])
    if not isinstance(answers_raw, list) or not all(isinstance(a, str) for a in answers_raw):
        raise QuestionSetError(f"{where}: question {qid!r} answers must be a list of strings")
    answers = tuple(a.strip() for a in answers_raw)
    if kind == "closed":
        if len(answers) < 2:
            raise QuestionSetError(f"{where}: closed question {qid!r} needs at least two answers")
        if any(not a for a in answers) or len(set(answers)) != len(answers):
            raise QuestionSetError(f"{where}: question {qid!r} has empty or repeated answers")
    if kind == "closed":  # answers that read the same once normalised could never be told apart
        seen: dict[str, str] = {}
        for a in answers:
            norm = normalise_answer(a, closed=True)
            if not norm:
                raise QuestionSetError(f"{where}: question {qid!r} answer {a!r} is empty once normalised")
            if norm in seen:
                raise QuestionSetError(f"{where}: question {qid!r} answers {seen[norm]!r} and {a!r} are the same "
                                       f"answer ({norm!r}) once normalised")
            seen[norm] = a
    when_raw = table.get("when", [])
    if not isinstance(when_raw, list) or not all(isinstance(a, str) for a in when_raw):
        raise QuestionSetError(f"{where}: question {qid!r} 'when' must be a list of strings")
    when = tuple(normalise_answer(a, closed=kind == "closed") for a in when_raw)
    if kind == "closed":
        unknown = [w for w in when if w not in {normalise_answer(a, closed=True) for a in answers}]
        if unknown:
            raise QuestionSetError(f"{where}: question {qid!r} 'when' names answers it does not have: {unknown}")
    tag = table.get("tag", "")
    if not isinstance(tag, str):
        raise QuestionSetError(f"{where}: question {qid!r} 'tag' must be a string")
    min_conf = float(_number(table.get("min_confidence", 0.0), f"{where}: question {qid!r} min_confidence"))
    max_new = int(_number(table.get("max_new_tokens", 6), f"{where}: question {qid!r} max_new_tokens", whole=True))
    if not 0.0 <= min_conf <= 1.0:
        raise QuestionSetError(f"{where}: question {qid!r} min_confidence must be within 0..1")
    if not 1 <= max_new <= 64:
        raise QuestionSetError(f"{where}: question {qid!r} max_new_tokens must be within 1..64")
    known = {"id", "text", "kind", "answers", "when", "tag", "min_confidence", "max_new_tokens"}
    extra = sorted(set(table) - known)
    if extra:
        raise QuestionSetError(f"{where}: question {qid!r} has unknown keys {extra}")
    return Question(qid, text, kind, tag, answers, when, min_conf, max_new)


def parse_question_set(text: str, source: str = "<string>") -> QuestionSet:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise QuestionSetError(f"{source}: not valid TOML: {exc}") from None
    tables = data.get("question", [])
    if not isinstance(tables, list) or not tables:
        raise QuestionSetError(f"{source}: no [[question]] tables")
    questions = tuple(_question_from_table(t, f"{source} question {i + 1}") for i, t in enumerate(tables))
    ids = [q.id for q in questions]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise QuestionSetError(f"{source}: repeated question ids {dupes}")
    template = data.get("prompt_template", "Question: {question} Answer:")
    if not isinstance(template, str) or "{question}" not in template:
        raise QuestionSetError(f"{source}: prompt_template must contain {{question}}")
    _check_template(template, source, questions[0])
    caption_prompt = data.get("caption_prompt", "")
    if not isinstance(caption_prompt, str):
        raise QuestionSetError(f"{source}: caption_prompt must be a string")
    cap_tokens = int(_number(data.get("caption_max_new_tokens", 30), f"{source}: caption_max_new_tokens", whole=True))
    if not 1 <= cap_tokens <= 128:
        raise QuestionSetError(f"{source}: caption_max_new_tokens must be within 1..128")
    return QuestionSet(
        version=str(data.get("version", "1")),
        questions=questions,
        prompt_template=template,
        caption_prompt=caption_prompt,
        caption_max_new_tokens=cap_tokens,
    )


def default_question_set_text() -> str:
    return resources.files("autotagger").joinpath("resources/questions.toml").read_text(encoding="utf-8")


def _first_lower(text: str) -> str:
    return text[:1].lower() + text[1:]


def load_question_set(path: str | Path | None = None) -> QuestionSet:
    """The set in ``path``, or the default one shipped with autotagger when ``path`` is empty."""
    if not path:
        return parse_question_set(default_question_set_text(), "default questions")
    p = Path(path).expanduser()
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise QuestionSetError(f"cannot read question set {p}: {_first_lower(exc.strerror or str(exc))}") from None
    except UnicodeDecodeError:
        raise QuestionSetError(f"cannot read question set {p}: not UTF-8 text") from None
    return parse_question_set(text, str(p))
