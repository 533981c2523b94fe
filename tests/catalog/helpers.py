"""Small builders shared by the catalogue tests."""

from __future__ import annotations

from autotagger.types import Answer, Tag, TagResult


def result(
    path: str,
    caption: str = "a dog on the beach",
    tags: tuple[str, ...] = ("setting|outdoors", "animal|dog"),
    model_id: str = "test/model",
    error: str | None = None,
) -> TagResult:
    return TagResult(
        path=path,
        caption=caption,
        answers=(Answer("setting", "Question: Is this indoors or outdoors? Answer:", "outdoors", 0.91),),
        tags=tuple(Tag(t, 0.75, t.split("|")[0]) for t in tags),
        model_id=model_id,
        question_set_version="1",
        error=error,
    )
