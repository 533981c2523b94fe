"""Camera RAW files through rawpy (LibRaw): the embedded JPEG preview when it is large enough,
else a half-size demosaic. A file with a RAW name that holds a plain image goes to Pillow
(by_content): the content decides, not the extension."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

from PIL import Image

from autotagger.imageio.convert import swaps_axes, to_rgb
from autotagger.imageio.decode import Decoded, DraftBox, decode
from autotagger.imageio.errors import ImageLoadError, bomb_reason, one_line, sniff

T = TypeVar("T")

# LibRaw's ``sizes.flip`` (dcraw numbering) -> EXIF orientation.
FLIP_TO_ORIENTATION: MappingProxyType[int, int] = MappingProxyType(
    {0: 1, 1: 2, 2: 4, 3: 3, 4: 5, 5: 8, 6: 6, 7: 7}
)


#: What a file with a RAW name may hold instead, which no RAW container starts like: cameras and
#: renaming tools do put JPEGs under RAW names.
_PLAIN_FORMATS = frozenset({"JPEG", "PNG", "GIF", "BMP", "WEBP", "HEIF", "AVIF"})
_NEW_SUBFILE_TYPE, _SUB_IFDS, _DNG_VERSION = 254, 330, 50706


class NotRawError(ImageLoadError):
    """LibRaw does not recognise the data at all (rather than recognising a RAW it cannot read)."""


# How RAW containers start: TIFF (DNG, NEF, CR2, ARW, PEF...), Olympus, Panasonic, Canon CR3, Fuji.
_RAW_MAGIC = (b"II*\0", b"MM\0*", b"IIRO", b"IIRS", b"IIU\0", b"FUJIFILMCCD-RAW")


def _looks_like_raw(path: Path) -> bool:
    try:
        with open(path, "rb") as source:
            head = source.read(16)
    except OSError:
        return False
    return head.startswith(_RAW_MAGIC) or head[4:11] == b"ftypcrx"


def raw_reason(exc: BaseException, path: Path | None = None) -> str:
    import rawpy

    if isinstance(exc, rawpy.LibRawFileUnsupportedError):
        if path is not None and _looks_like_raw(path):
            return "corrupt or truncated RAW file (LibRaw cannot open it)"
        return "not a supported RAW file (unrecognised data)"
    if isinstance(exc, rawpy.LibRawIOError):
        return "truncated or unreadable RAW file"
    if isinstance(exc, rawpy.LibRawDataError):
        return "corrupt RAW data"
    if isinstance(exc, (rawpy.LibRawTooBigError, rawpy.LibRawUnsufficientMemoryError, MemoryError)):
        return "RAW image too large to decode"
    detail = one_line(exc)
    return f"cannot decode RAW ({type(exc).__name__}{': ' + detail if detail else ''})"


def raw_damage(exc: BaseException) -> bool:
    """LibRaw's own errors say the data is bad (a short read is a truncated file); memory and OS
    errors may pass."""
    import rawpy

    if isinstance(exc, rawpy.LibRawTooBigError | rawpy.LibRawUnsufficientMemoryError | MemoryError):
        return False
    return isinstance(exc, rawpy.LibRawError | ValueError) or not (isinstance(exc, OSError) and exc.strerror)


def open_raw(path: Path) -> Any:
    """rawpy.imread with errors as ImageLoadError (reads the header only)."""
    import rawpy

    try:
        return rawpy.imread(str(path))
    except (rawpy.LibRawError, OSError, ValueError) as exc:
        kind = NotRawError if isinstance(exc, rawpy.LibRawFileUnsupportedError) else ImageLoadError
        raise kind(path, raw_reason(exc, path), damaged=raw_damage(exc)) from None


def by_content(path: Path, read_raw: Callable[[], T], read_plain: Callable[[], T]) -> T:
    """Read a file with a RAW name (``read_raw``: LibRaw) or with Pillow (``read_plain``), as its
    first bytes say.

    A JPEG (PNG, ...) goes to Pillow first: LibRaw refuses it, or "opens" a camera JPEG by its EXIF
    and then fails to unpack it; LibRaw is still tried if Pillow fails (some compacts write raw data
    behind a JPEG-like header), and Pillow's error stands if both fail. A TIFF-like file goes to
    LibRaw first (NEF, DNG, CR2... are TIFFs); one LibRaw does not recognise is read by Pillow,
    unless it is a RAW container (its small first image is a thumbnail, not the photograph).
    """
    claimed = _claimed_format(path)
    if claimed in _PLAIN_FORMATS:
        try:
            return read_plain()
        except ImageLoadError as plain_error:
            if not plain_error.damaged:
                raise
            try:
                return read_raw()
            except ImageLoadError:
                raise plain_error from None
    try:
        return read_raw()
    except NotRawError as raw_error:
        if claimed != "TIFF" or _is_raw_container(path):
            raise
        try:
            return read_plain()
        except ImageLoadError:
            raise raw_error from None


def _claimed_format(path: Path) -> str | None:
    try:
        with open(path, "rb") as source:
            return sniff(source.read(16))
    except OSError:
        return None  # LibRaw reports it


def _is_raw_container(path: Path) -> bool:
    """Whether a TIFF's first directory has what RAW containers have and plain TIFFs do not: DNG
    tags, SubIFDs (the full image elsewhere), or a first image marked as a reduced-size one."""
    from PIL import TiffImagePlugin

    try:
        with open(path, "rb") as source:
            ifd = TiffImagePlugin.ImageFileDirectory_v2(source.read(8))
            source.seek(ifd.next)
            ifd.load(source)
    except Exception:  # no readable directory: nothing says "plain TIFF" either
        return True
    subfile = ifd.get(_NEW_SUBFILE_TYPE, 0)
    reduced = isinstance(subfile, int) and bool(subfile & 1)
    return reduced or _SUB_IFDS in ifd or _DNG_VERSION in ifd


def raw_orientation(raw: Any) -> int:
    return FLIP_TO_ORIENTATION.get(int(raw.sizes.flip), 1)


def decode_raw(path: Path, *, draft_box: DraftBox, max_pixels: int) -> Decoded:
    import rawpy

    raw = open_raw(path)
    try:
        with raw:
            sizes = raw.sizes
            if sizes.raw_width * sizes.raw_height > max_pixels:
                raise ImageLoadError(
                    path, bomb_reason(sizes.raw_width, sizes.raw_height, max_pixels), damaged=True
                )
            want = draft_box(sizes.width, sizes.height)
            preview = _preview(path, raw, want, max_pixels)
            if preview is not None:
                return _orient_preview(preview, raw_orientation(raw), (sizes.width, sizes.height))
            # half-size skips demosaicing (4x fewer pixels) when that still fills the box;
            # postprocess() applies the flip itself
            half = want is not None and sizes.width // 2 >= want[0] and sizes.height // 2 >= want[1]
            rgb = raw.postprocess(half_size=half, use_camera_wb=True, output_bps=8)
            return Decoded(to_rgb(Image.fromarray(rgb)), 1, (sizes.width, sizes.height), "RAW")
    except ImageLoadError:
        raise
    except (rawpy.LibRawError, OSError, ValueError, MemoryError) as exc:
        raise ImageLoadError(path, raw_reason(exc, path), damaged=raw_damage(exc)) from None


def _preview(path: Path, raw: Any, want: tuple[int, int] | None, max_pixels: int) -> Decoded | None:
    """The embedded preview if there is one, it decodes, and it is at least ``want`` in size."""
    import rawpy

    try:
        thumb = raw.extract_thumb()
    except (rawpy.LibRawError, OSError, ValueError):
        return None  # no preview, an unsupported kind, or a damaged one: demosaic instead
    try:
        if thumb.format == rawpy.ThumbFormat.JPEG:
            decoded = decode(
                path, io.BytesIO(bytes(thumb.data)), draft_box=lambda _w, _h: want, max_pixels=max_pixels
            )
        elif thumb.format == rawpy.ThumbFormat.BITMAP:
            bitmap = to_rgb(Image.fromarray(thumb.data))
            decoded = Decoded(bitmap, 1, bitmap.size, "RAW")
        else:
            return None
    except ImageLoadError:
        return None
    if want is not None:
        width, height = decoded.stored_size
        if (width < want[0] or height < want[1]) and (width < want[1] or height < want[0]):
            return None  # too small for the model (some cameras embed 160x120)
    return decoded


def _orient_preview(preview: Decoded, flip_orientation: int, raw_size: tuple[int, int]) -> Decoded:
    """Previews mostly carry no orientation of their own: use the RAW's, unless the preview's
    own EXIF says otherwise or its aspect shows it is already upright."""
    orientation = preview.orientation if preview.orientation != 1 else flip_orientation
    if swaps_axes(orientation) and preview.orientation == 1:
        width, height = preview.stored_size
        if (width > height) != (raw_size[0] > raw_size[1]) and width != height:
            orientation = 1  # stored already rotated
    return Decoded(preview.image, orientation, preview.stored_size, "RAW", preview.profile)
