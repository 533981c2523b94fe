"""Which files the watcher cares about, and how RAW+JPEG(+XMP) files from one capture group together."""

from __future__ import annotations

import os
from collections.abc import Iterable

RAW_EXTS = frozenset(
    [
        ".3fr",
        ".ari",
        ".arw",
        ".cr2",
        ".cr3",
        ".crw",
        ".dcr",
        ".dng",
        ".erf",
        ".fff",
        ".iiq",
        ".k25",
        ".kdc",
        ".mef",
        ".mos",
        ".mrw",
        ".nef",
        ".nrw",
        ".orf",
        ".pef",
        ".raf",
        ".raw",
        ".rw2",
        ".rwl",
        ".sr2",
        ".srf",
        ".srw",
        ".x3f",
    ]
)
# Rendered formats, in order of preference as the one image of a capture that the model sees.
RENDERED_EXTS = (".jpg", ".jpeg", ".heic", ".heif", ".png", ".tif", ".tiff", ".webp")
IMAGE_EXTS = frozenset(RENDERED_EXTS) | RAW_EXTS
# How temp files end: our own metadata writer's (metadata.safefile.TEMP_MARK, on a hidden name) and those of
# browsers, copy tools and editors (``x.jpg.part``, ``x.jpg.crdownload``, ``x.jpg~``). Only the END of a name
# counts: ``new.years.party.jpg``, ``moon.partial.eclipse.jpg`` and ``IMG~1.JPG`` (a DOS short name) are
# photos. rsync's and sync clients' temp files are hidden (``.x.jpg.Ab12Cd``), so they are ignored anyway.
_TEMP_SUFFIXES = (".autotagger-tmp", ".tmp", ".part", ".partial", ".crdownload", "~")


def ext_of(path: str) -> str:
    return os.path.splitext(path)[1].lower()


def is_raw(path: str) -> bool:
    return ext_of(path) in RAW_EXTS


def is_ignored_name(name: str) -> bool:
    """Hidden files, temp files (ours and copy tools'), sidecars: never queued, never watched."""
    low = name.lower()
    if low.startswith(".") or low.startswith("~$"):
        return True
    return low.endswith(".xmp") or low.endswith(_TEMP_SUFFIXES)


def is_hidden_under(path: str, root: str) -> bool:
    """True when ``path`` or a folder between ``root`` and it has an ignored name (``.Trash-1000/``,
    ``.thumbs/``, ``.git/``): the scan never walks into those, so the live watcher must not either. The
    root's own name does not count (a person may watch a hidden folder on purpose)."""
    try:
        rel = os.path.relpath(path, root)
    except ValueError:  # another drive (Windows)
        rel = os.pardir
    if rel == os.curdir:
        return False
    outside = rel == os.pardir or rel.startswith(os.pardir + os.sep)
    return any(is_ignored_name(part) for part in ([os.path.basename(path)] if outside else rel.split(os.sep)))


def is_candidate(path: str) -> bool:
    """A photo the watcher should tag: a known image extension, not a temp file or sidecar, and a name
    the catalogue can hold (see ``bad_name``)."""
    name = os.path.basename(path)
    return not is_ignored_name(name) and ext_of(name) in IMAGE_EXTS and not bad_name(name)


def bad_name(path: str) -> bool:
    """A path whose bytes are not UTF-8 (an old archive, a share with the wrong character set): Python
    holds it with surrogate escapes, which SQLite, XMP and the terminal cannot take."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


#: What is said of a file (or folder) whose name is not UTF-8.
BAD_NAME = "name is not valid UTF-8 (rename it to have it tagged)"


def bad_name_photo(path: str) -> str | None:
    """The one-line warning for a photo we would tag but for a name that is not UTF-8, else None."""
    if bad_name(path) and not is_ignored_name(os.path.basename(path)) and ext_of(path) in IMAGE_EXTS:
        return f"{printable(path)}: file {BAD_NAME}"
    return None


def printable(path: str) -> str:
    """``path`` for a message: bytes that are not UTF-8 shown as \\xNN."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace") if bad_name(path) else path


def group_key(path: str) -> str:
    """Same folder and same stem (case-insensitive) = same capture: IMG_1.CR2 + IMG_1.JPG."""
    folder, name = os.path.split(path)
    stem = os.path.splitext(name)[0]
    return os.path.join(folder, stem.lower())


def _rank(path: str) -> int:
    ext = ext_of(path)
    if ext in RENDERED_EXTS:
        return RENDERED_EXTS.index(ext)
    return len(RENDERED_EXTS)  # RAW last: its embedded preview is the fallback


def _preference(path: str) -> tuple[int, str]:
    return _rank(path), path


def primary_of(paths: Iterable[str]) -> str:
    """The member of a capture group the model looks at: the JPEG (or other rendering), else the RAW."""
    return min(paths, key=_preference)


def by_preference(paths: Iterable[str]) -> list[str]:
    """A capture group's members in the order the model should try them: ``primary_of`` first, the
    RAW's embedded preview last."""
    return sorted(paths, key=_preference)


def group_members(path: str, names: Iterable[str] | None = None) -> list[str]:
    """Every image on disk in ``path``'s capture group (including ``path`` if it exists), sorted.
    ``names``: the folder's listing when the caller already has it (saves a listdir per file)."""
    folder = os.path.dirname(path) or "."
    key = group_key(path)
    if names is None:
        try:
            names = os.listdir(folder)
        except OSError:
            return [path] if os.path.exists(path) else []
    members = [os.path.join(folder, n) for n in names if is_candidate(n)]
    return sorted(m for m in members if group_key(m) == key)


def capture_groups(paths: Iterable[str]) -> list[list[str]]:
    """``paths`` as capture groups (see ``group_key``), each group's members and the groups in the
    order given (a group where its first member was given)."""
    groups: dict[str, list[str]] = {}
    for p in paths:
        groups.setdefault(group_key(p), []).append(p)
    return list(groups.values())


def group_paths(paths: Iterable[str]) -> dict[str, list[str]]:
    """Group ``paths`` by capture; keys are each group's primary, values all members (sorted)."""
    return {primary_of(members): sorted(members) for members in capture_groups(paths)}
