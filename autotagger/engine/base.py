"""The small interface every tagger (the real BLIP-2 one, the fakes in tests and benchmarks) offers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from autotagger.types import TagResult

if TYPE_CHECKING:
    from PIL import Image

# (path, decoded RGB image). Decoding errors never reach a tagger: the caller reports them.
ImageInput = tuple[str, "Image.Image"]


@runtime_checkable
class Tagger(Protocol):
    model_id: str
    device: str

    def tag_images(self, images: Sequence[ImageInput]) -> list[TagResult]:
        """One TagResult per input, in order. Must not raise for one bad image: set ``error``."""
        ...


def is_oom(exc: BaseException) -> bool:
    """Whether ``exc`` is the accelerator running out of memory (torch's OutOfMemoryError, or a
    RuntimeError saying so), told without importing torch."""
    return type(exc).__name__ == "OutOfMemoryError" or (
        isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()
    )
