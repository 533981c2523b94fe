from __future__ import annotations

import re

import pytest

from autotagger.engine.questions import (
    QuestionSetError,
    clean_text,
    load_question_set,
    normalise_answer,
    parse_question_set,
    render_tag,
    tag_for_answer,
)
from autotagger.types import Answer, Question


def test_default_set_has_the_photographers_questions() -> None:
    qs = load_question_set()
    ids = {q.id for q in qs.questions}
    assert {"setting", "time_of_day", "people", "people_count", "subject", "place", "animals", "weather", "style"} <= ids
    assert qs.prompt_for(qs.questions[0]) == "Question: Is this photo taken indoors or outdoors? Answer:"
    assert all(len(q.answers) >= 2 for q in qs.questions if q.kind == "closed")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  The Beach!  ", "beach"),
        ("a dog.", "dog"),
        ("An old CHURCH", "old church"),
        ("two", "two"),
        ("the", ""),
        ("Café, über", "café über"),
        ("dog\x1c\x00 park", "dog park"),
        ("it's a cat", "it's a cat"),
        ("", ""),
    ],
)
def test_normalise_answer(raw: str, expected: str) -> None:
    assert normalise_answer(raw) == expected


def test_clean_text_removes_control_characters() -> None:
    assert clean_text("a\x00b\x1f c\n d") == "a b c d"


def test_clean_text_drops_what_the_tokenizer_could_not_decode() -> None:
    assert clean_text("a sunset over the sea \ufffd") == "a sunset over the sea"
    assert clean_text("caf\ufffd\ufffd terrace") == "caf terrace"


def test_render_tag_templates() -> None:
    assert render_tag("setting|{answer}", "outdoors") == "setting|outdoors"
    assert render_tag("people", "yes") == "people"
    assert render_tag("subject|{answer}", "a|b") == "subject|a b"  # an answer cannot add a level
    assert render_tag("subject|{answer}", "") == ""
    assert render_tag("", "x") == ""


def _q(**kw: object) -> Question:
    base: dict[str, object] = {"id": "people", "text": "Are there people?", "kind": "closed", "tag": "people",
                               "answers": ("yes", "no"), "when": ("yes",), "min_confidence": 0.6}
    base.update(kw)
    return Question(**base)  # type: ignore[arg-type]


def test_conditions_and_confidence_threshold() -> None:
    q = _q()
    assert tag_for_answer(q, Answer("people", "p", "yes", 0.9)) is not None
    assert tag_for_answer(q, Answer("people", "p", "no", 0.99)) is None  # condition
    assert tag_for_answer(q, Answer("people", "p", "yes", 0.55)) is None  # below threshold
    t = tag_for_answer(_q(tag="people|{answer}", when=()), Answer("people", "p", "no", 0.7))
    assert t is not None and t.path == "people|no" and t.leaf == "no" and t.confidence == 0.7
    open_q = _q(kind="open", answers=(), when=(), tag="subject|{answer}", min_confidence=0.0)
    t2 = tag_for_answer(open_q, Answer("people", "p", "dog", None))
    assert t2 is not None and t2.path == "subject|dog"


GOOD = """
version = "7"
prompt_template = "Q: {question} A:"
[[question]]
id = "setting"
text = "Indoors or outdoors?"
answers = ["indoors", "outdoors"]
tag = "setting|{answer}"
[[question]]
id = "subject"
text = "What is it?"
kind = "open"
tag = "subject|{answer}"
max_new_tokens = 3
"""


def test_parse_question_set() -> None:
    qs = parse_question_set(GOOD)
    assert qs.version == "7"
    assert [q.kind for q in qs.questions] == ["closed", "open"]  # kind inferred from answers
    assert qs.prompt_for(qs.questions[1]) == "Q: What is it? A:"
    assert qs.questions[1].max_new_tokens == 3


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not toml [", "not valid TOML"),
        ("version='1'", "no [[question]]"),
        ("[[question]]\nid='a'\ntext='x'\nkind='closed'\nanswers=['yes']", "at least two answers"),
        ("[[question]]\nid='a b'\ntext='x'", "may only use"),
        ("[[question]]\nid='a'\ntext='x'\nkind='maybe'", "kind must be"),
        ("[[question]]\nid='a'\ntext='x'\n[[question]]\nid='a'\ntext='y'", "repeated question ids"),
        ("[[question]]\nid='a'\ntext='x'\nanswers=['y','n']\nwhen=['maybe']", "names answers it does not have"),
        ("[[question]]\nid='a'\ntext='x'\nbogus=1", "unknown keys"),
        ("prompt_template='no placeholder'\n[[question]]\nid='a'\ntext='x'", "prompt_template"),
        ("[[question]]\nid='a'\ntext='x'\nmin_confidence=2", "within 0..1"),
    ],
)
def test_bad_question_sets_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(QuestionSetError, match=re.escape(message)) as info:
        parse_question_set(text, "q.toml")
    assert "\n" not in str(info.value)


def test_missing_question_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(QuestionSetError, match="cannot read question set"):
        load_question_set(tmp_path / "nope.toml")


def test_a_closed_answer_with_an_article_keeps_it_and_its_condition_holds() -> None:
    """The shipped "How many people?" answers "a few": its keyword is people|a few, not people|few
    (an answer the question does not have)."""
    qs = load_question_set()
    q = next(q for q in qs.questions if "a few" in q.answers)
    assert "a few" in q.when and normalise_answer("a few", closed=True) == "a few"
    tag = tag_for_answer(q, Answer(q.id, "", normalise_answer("a few", closed=True), 0.9))
    assert tag is not None and tag.path.endswith("a few"), tag
