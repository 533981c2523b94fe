"""Which files are images, by extension, and which decoders Pillow may use."""

from __future__ import annotations

from pathlib import Path

RAW_EXTENSIONS: frozenset[str] = frozenset(
    {
        ".3fr", ".ari", ".arw", ".cr2", ".cr3", ".crw", ".dcr", ".dng", ".erf", ".fff", ".gpr",
        ".iiq", ".k25", ".kdc", ".mef", ".mos", ".mrw", ".nef", ".nrw", ".orf", ".pef", ".raf",
        ".raw", ".rw2", ".rwl", ".sr2", ".srf", ".srw", ".x3f",
    }
)  # fmt: skip
HEIF_EXTENSIONS: frozenset[str] = frozenset({".heic", ".heif", ".hif"})
PILLOW_EXTENSIONS: frozenset[str] = frozenset(
    {".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".tif", ".tiff", ".webp", ".bmp", ".gif", ".avif"}
)
#: Every extension load_image reads (lower case, with the dot, as ``Path.suffix``).
SUPPORTED_EXTENSIONS: frozenset[str] = PILLOW_EXTENSIONS | HEIF_EXTENSIONS | RAW_EXTENSIONS

#: The Pillow decoders we let Image.open try, whatever the extension says (content decides).
#: Anything else (EPS through Ghostscript, PSD, ICO, ...) is refused as "not an image".
#: (MPO, the multi-picture JPEG of some cameras, comes through the JPEG opener.)
PILLOW_FORMATS: tuple[str, ...] = ("JPEG", "PNG", "TIFF", "WEBP", "BMP", "DIB", "GIF", "HEIF", "AVIF")
JPEG_FORMATS: frozenset[str] = frozenset({"JPEG", "MPO"})


def _suffix(path: str | Path) -> tuple[str, str]:
    p = Path(path)
    return p.name, p.suffix.lower()


def is_image_path(path: str | Path) -> bool:
    """True when the name has an extension we read (case-insensitive). macOS "._" resource-fork
    files (AppleDouble, common on shares and cards) are not images whatever their extension."""
    name, suffix = _suffix(path)
    return suffix in SUPPORTED_EXTENSIONS and not name.startswith("._")


def is_raw_path(path: str | Path) -> bool:
    return _suffix(path)[1] in RAW_EXTENSIONS


def pillow_formats() -> tuple[str, ...]:
    """The allowed decoders this Pillow has (HEIF registered first; AVIF needs Pillow >= 11.3)."""
    from PIL import Image

    ensure_heif_opener()
    Image.init()  # loads Pillow's plugins once; a no-op after that
    return tuple(f for f in PILLOW_FORMATS if f in Image.OPEN)


def ensure_heif_opener() -> None:
    """Register pillow-heif's HEIF opener with Pillow; cheap and idempotent."""
    from PIL import Image

    if "HEIF" in Image.OPEN:
        return
    import pillow_heif

    pillow_heif.register_heif_opener()
