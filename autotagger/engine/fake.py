"""A tagger that returns at once, deterministically from the pixels: for tests and pipeline benchmarks."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from autotagger.engine.base import ImageInput
from autotagger.types import Answer, QuestionSet, Tag, TagResult


class FakeTagger:
    """Caption and tags derived from a hash of the image's pixels (so renames give the same result)."""

    def __init__(self, questions: QuestionSet | None = None, model_id: str = "fake/instant") -> None:
        self.model_id = model_id
        self.device = "cpu"
        self.questions = questions
        self.calls = 0
        self.images_seen = 0

    def tag_images(self, images: Sequence[ImageInput]) -> list[TagResult]:
        self.calls += 1
        self.images_seen += len(images)
        out = []
        for path, image in images:
            small = image.resize((8, 8))
            digest = hashlib.sha1(small.tobytes()).hexdigest()
            setting = "indoors" if int(digest[0], 16) % 2 else "outdoors"
            answers = (Answer("setting", "Question: Is this indoors or outdoors? Answer:", setting, 0.9),)
            out.append(
                TagResult(
                    path=path,
                    caption=f"a test photo {digest[:6]}",
                    answers=answers,
                    tags=(Tag(f"setting|{setting}", 0.9, "setting"), Tag("test", None, None)),
                    model_id=self.model_id,
                    question_set_version=self.questions.version if self.questions else "fake",
                )
            )
        return out
