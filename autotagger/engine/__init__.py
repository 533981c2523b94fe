"""The tagging engine. Import the heavy parts lazily: ``from autotagger.engine.blip2 import Blip2Tagger``."""

from autotagger.engine.base import ImageInput, Tagger

__all__ = ["ImageInput", "Tagger"]
