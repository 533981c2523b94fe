"""Question-set values refused as written, not coerced; prompt templates filled once when the file is
read, so a stray brace is one line naming the file, not a KeyError on every photo."""

from __future__ import annotations

import re

import pytest

from autotagger.engine.questions import QuestionSetError, load_question_set, parse_question_set

ONE = '[[question]]\nid = "setting"\ntext = "Indoors or outdoors?"\nanswers = ["indoors", "outdoors"]\n'


def _refused(text: str, source: str = "q.toml") -> str:
    with pytest.raises(QuestionSetError) as info:
        parse_question_set(text, source)
    msg = str(info.value)
    assert "\n" not in msg and msg.startswith(source)
    return msg


# -- 4. prompt_template ------------------------------------------------------------------------------
@pytest.mark.parametrize(("template", "why"), [
    ("Question: {question} {x} Answer:", "unknown placeholder {x}"),
    ("Question: {question} Answer: {", "Single '{' encountered"),
    ("Question: {question} Answer: }", "Single '}' encountered"),
    ("Question: {question} {} Answer:", "Replacement index 0 out of range"),
    ("Question: {question} {question.title.x} Answer:", "has no attribute 'x'"),
    ("Question: {{question}} Answer:", "the question text never reaches the prompt"),
])
def test_a_template_with_other_braces_is_refused_naming_file_and_question(template: str, why: str) -> None:
    msg = _refused(f"prompt_template = {template!r}\n{ONE}")
    assert f"prompt_template {template!r} cannot make the prompt for question 'setting': " in msg
    assert why in msg


def test_a_template_with_escaped_braces_is_fine() -> None:
    qs = parse_question_set(f'prompt_template = "{{{{note}}}} Q: {{question}} A:"\n{ONE}', "q.toml")
    assert qs.prompt_for(qs.questions[0]) == "{note} Q: Indoors or outdoors? A:"


def test_a_bad_template_in_a_file_names_the_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "questions.toml"
    path.write_text(f'prompt_template = "Q: {{question}} {{x}} A:"\n{ONE}', encoding="utf-8")
    with pytest.raises(QuestionSetError, match=f"^{re.escape(str(path))}: prompt_template "):
        load_question_set(path)


# -- 6. values as written ----------------------------------------------------------------------------
@pytest.mark.parametrize(("setting", "message"), [
    ("min_confidence = true", "question 'setting' min_confidence must be a number, not True"),
    ('min_confidence = "0.5"', "question 'setting' min_confidence must be a number, not '0.5'"),
    ("max_new_tokens = 2.9", "question 'setting' max_new_tokens must be a whole number, not 2.9"),
    ("max_new_tokens = true", "question 'setting' max_new_tokens must be a whole number, not True"),
    ('max_new_tokens = "6"', "question 'setting' max_new_tokens must be a whole number, not '6'"),
])
def test_question_settings_are_not_coerced(setting: str, message: str) -> None:
    assert _refused(ONE + setting + "\n") == f"q.toml question 1: {message}"


def test_caption_max_new_tokens_is_not_coerced() -> None:
    assert _refused("caption_max_new_tokens = 12.5\n" + ONE) == (
        "q.toml: caption_max_new_tokens must be a whole number, not 12.5"
    )


def test_whole_numbers_and_integer_confidences_still_parse() -> None:
    qs = parse_question_set("caption_max_new_tokens = 20\n" + ONE + "min_confidence = 1\nmax_new_tokens = 5\n")
    q = qs.questions[0]
    assert (q.min_confidence, q.max_new_tokens) == (1.0, 5) and isinstance(q.min_confidence, float)


@pytest.mark.parametrize(("answers", "message"), [
    ('["Yes", "yes"]', "answers 'Yes' and 'yes' are the same answer ('yes') once normalised"),
    ('["a dog", "A dog!", "a cat"]', "answers 'a dog' and 'A dog!' are the same answer ('a dog') once normalised"),
    ('["no", "!!!"]', "answer '!!!' is empty once normalised"),
])
def test_closed_answers_that_collide_once_normalised_are_refused(answers: str, message: str) -> None:
    text = f'[[question]]\nid = "q"\ntext = "Which?"\nanswers = {answers}\n'
    assert _refused(text) == f"q.toml question 1: question 'q' {message}"


def test_the_default_set_passes_the_new_checks() -> None:
    assert len(load_question_set().questions) >= 9
