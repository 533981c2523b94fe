"""Image decoding for the model and the GUI: every supported format to upright RGB, fast
(JPEG draft mode, RAW previews), with one-line per-file errors (ImageLoadError).

No import-time side effects: pillow-heif is registered with Pillow on first use, rawpy and
numpy are imported when needed, and Pillow's global limits are never changed.
"""

from __future__ import annotations

from autotagger.imageio.decode import DEFAULT_MAX_PIXELS
from autotagger.imageio.errors import ImageLoadError
from autotagger.imageio.formats import RAW_EXTENSIONS, SUPPORTED_EXTENSIONS, is_image_path, is_raw_path
from autotagger.imageio.loader import DEFAULT_MIN_SIZE, load_image, make_thumbnail
from autotagger.imageio.probe import ImageInfo, probe

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "DEFAULT_MIN_SIZE",
    "RAW_EXTENSIONS",
    "SUPPORTED_EXTENSIONS",
    "ImageInfo",
    "ImageLoadError",
    "is_image_path",
    "is_raw_path",
    "load_image",
    "make_thumbnail",
    "probe",
]
