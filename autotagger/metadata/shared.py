"""Base-named sidecars that two photos map to: whose IMG_1.xmp is, and what the other photo gets.

With ``--sidecar-name base`` IMG_1.CR2 and IMG_1.JPG (or photo.jpg and photo.png, IMG_1.dng and
IMG_1.tif) name the same IMG_1.xmp. Lightroom reads that file for the RAW only (a JPEG's metadata it
reads from the JPEG itself), so it has one owner, and only the owner's record is written into it:

* A RAW we never write into (any but DNG), when it is the only one there, owns it: Lightroom attaches
  it to that file. Its pair's files never write it (a pair shares one model result; where a person
  edited the JPEG only, that edit stays in the JPEG and the catalogue, and a warning says so).
* Otherwise nothing says which photo it is for: the first one written owns it, as the sidecar records
  (autotagger:File). Another photo's record goes in only where it says the same (a capture's copies
  with one result); two different photos never overwrite each other's tags: the second is refused.

Undo of a photo that does not own the sidecar leaves it alone: the tags there are the owner's.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

from autotagger.metadata import merge
from autotagger.metadata.formats import EMBED_EXTENSIONS, sidecar_only
from autotagger.metadata.merge import LR_HIERARCHICAL
from autotagger.metadata.model import RAW_EXTENSIONS, MetadataError, MetadataRecord
from autotagger.metadata.xmp import XmpDoc

FILE = merge.A("File")
_PHOTO_EXTENSIONS = EMBED_EXTENSIONS | RAW_EXTENSIONS


class SidecarTaken(MetadataError):
    """The sidecar belongs to another photo (``owner``); it was left as it was."""

    def __init__(self, path: Path, sidecar: Path, owner: Path, by_raw: bool) -> None:
        self.path, self.sidecar, self.owner, self.by_raw = path, sidecar, owner, by_raw
        super().__init__(f"{path}: {sidecar} holds the tags of {owner.name}")


@dataclass(frozen=True)
class Owner:
    path: Path
    by_raw: bool  # a RAW's (Lightroom's rule), not merely the first photo written


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def sharers(path: Path, sidecar: Path) -> list[Path]:
    """The other photos beside ``path`` whose base-named sidecar is ``sidecar`` (on a case-insensitive
    disk IMG_1.xmp and img_1.xmp are one file, so a stem that differs in case counts there)."""
    folder = path.parent
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    stem = path.stem.lower()
    out = []
    for name in sorted(names):
        other = folder / name
        if name.startswith(".") or other.suffix.lower() not in _PHOTO_EXTENSIONS or other.stem.lower() != stem:
            continue
        if name == path.name or _same_file(other, path) or not other.is_file():
            continue
        theirs = other.with_suffix(".xmp")
        if theirs == sidecar or (sidecar.exists() and _same_file(theirs, sidecar)):
            out.append(other)
    return out


def owner_of(path: Path, sidecar: Path, doc: XmpDoc | None) -> Owner | None:
    """The other photo that owns ``sidecar`` (``doc``: its contents, None if there is none yet), or
    None where ``path`` may write it (it owns it, or nobody else does)."""
    others = sharers(path, sidecar)
    if not others:
        return None
    raws = [p for p in (path, *others) if sidecar_only(p)]
    if len(raws) == 1:
        return None if raws[0] == path else Owner(raws[0], by_raw=True)
    recorded = doc.get_text(FILE) if doc is not None else ""
    for other in others:
        if recorded and other.name == recorded:
            return Owner(other, by_raw=False)
    return None  # none recorded, or the one recorded is gone (renamed, deleted): first come


def agrees(doc: XmpDoc, record: MetadataRecord) -> bool:
    """Whether the sidecar already holds what ``record`` would put there: the same caption (as the
    model's or as a person's) and the same tags, ours and the person's, none of the removed ones."""
    prov = merge.read_provenance(doc)
    if prov is None:
        return False
    rec = merge.cleaned(record)
    removed = set(rec.removed_tags)
    hier = set(doc.get_list(LR_HIERARCHICAL))
    return (
        prov.caption == rec.caption.strip()
        and doc.get_text(merge.A("CaptionSource")) == rec.caption_source
        and set(prov.confidences) == {t.path for t in rec.tags if t.path not in removed}
        and all(p in hier for p in rec.person_tags if p not in removed)
        and not removed & hier
    )


def has_persons_edit(record: MetadataRecord) -> bool:
    return record.caption_source == "person" or bool(record.person_tags) or bool(record.removed_tags)


def current(sidecar: Path) -> XmpDoc | None:
    """The sidecar's XMP, None where there is none or it cannot be read (the writer says why later)."""
    with contextlib.suppress(MetadataError, OSError):
        return XmpDoc.parse(sidecar.read_bytes())
    return None


def declined(exc: SidecarTaken, record: MetadataRecord, wrote_file: bool) -> str | None:
    """What to say when ``record`` was not written into another photo's sidecar: a warning (None: no
    need to say anything), or MetadataError where nothing was written and the photo would lose its tags.
    """
    doc = current(exc.sidecar)
    if doc is not None and agrees(doc, record):
        return None  # the same record is there: the photo is served as well as by its own write
    owner, sc = exc.owner.name, exc.sidecar
    if exc.by_raw:  # the RAW's sidecar (Lightroom's): the pair's one result is written there by the RAW
        if wrote_file or not has_persons_edit(record):
            return None
        return (f"edits not written to {sc.name}: it is {owner}'s sidecar (Lightroom reads it for the RAW "
                "only); they stay in the catalogue; use --sidecar-name ext for a sidecar of its own")
    message = (f"not written to {sc.name}: it holds the tags of {owner}, another photo with the same name; "
               "use --sidecar-name ext to give each photo its own sidecar")
    if wrote_file:
        return message
    raise MetadataError(f"{exc.path}: {message}")
