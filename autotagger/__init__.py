"""autotagger: captions and keyword-tags photographs with BLIP-2."""

__version__ = "0.1.0"
