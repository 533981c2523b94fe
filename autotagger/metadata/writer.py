"""write_metadata / undo_metadata / read_metadata: embedded and sidecar XMP, safely."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from autotagger.metadata import iptc as iptcmod
from autotagger.metadata import merge, shared
from autotagger.metadata.formats import handler_for, is_dng_name, sidecar_only
from autotagger.metadata.merge import DC_DESCRIPTION, DC_SUBJECT, LR_HIERARCHICAL, Fields
from autotagger.metadata.model import (
    NS_AUTOTAGGER,
    PREFIX_AUTOTAGGER,
    MetadataError,
    MetadataRecord,
    ReadBack,
    UnsafeToEmbed,
    WriteOutcome,
    sidecar_path,
)
from autotagger.metadata.parts import Parts
from autotagger.metadata.safefile import (
    Snapshot,
    read_with_snapshot,
    real_path,
    remove_file,
    remove_stale_temps,
    replace_file,
)
from autotagger.metadata.xmp import XmpDoc

MODES = ("auto", "embed", "sidecar", "both", "none")
EMBED_PADDING = 1024


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _os_error(path: Path, exc: OSError) -> MetadataError:
    return MetadataError(f"{path}: {exc.strerror or exc}")


def _no_write_bits(path: Path) -> bool:
    try:
        return stat.S_IMODE(os.stat(path).st_mode) & 0o222 == 0
    except OSError:
        return False


def _file_read_only(path: Path) -> bool:
    """No write bit for anyone (chmod 444), or we may not write it.

    The bits decide even for root (a Docker or NAS service): access() says yes to root for every
    file, and a person who made a photo read-only meant it for us too.
    """
    return _no_write_bits(path) or not os.access(path, os.W_OK)


def _folder_read_only(folder: Path) -> bool:
    """No write bit for anyone (chmod 555), or we may not create files in it; as ``_file_read_only``.

    Not the bits on Windows: there a folder's read-only attribute only marks it as customised
    (Pictures has it) and files in it can still be made.
    """
    return (os.name != "nt" and _no_write_bits(folder)) or not os.access(folder, os.W_OK)


def _embed_blocker(path: Path) -> str | None:
    """Why the file itself may not be written (RAW other than DNG, read-only), or None.

    Through a symlink it is the real file and its folder that count: the write goes there.
    """
    if sidecar_only(path):
        return "RAW file"
    real = real_path(path)
    if _file_read_only(real):
        return "file is read-only"
    if _folder_read_only(real.parent):
        return "folder is read-only"
    return None


def _holds_our_tags(path: Path) -> bool:
    """Whether the file's own XMP carries our provenance (read only; unreadable or damaged: no)."""
    try:
        data = path.read_bytes()
        fields = Fields.from_parts(handler_for(path, data).read(data))
    except Exception:  # OSError, UnsafeToEmbed, struct/index errors: as if nothing were found
        return False
    return merge.has_provenance(fields.xmp)


def _older_sidecar_of_ours(path: Path, sidecar_name: str) -> bool:
    """Whether a DNG has a sidecar with our provenance: we wrote one for every DNG before we wrote
    into DNGs, and one left as it was would go stale beside the file's new tags."""
    sc = sidecar_path(path, sidecar_name)
    if not is_dng_name(path) or not sc.is_file():
        return False
    try:
        return merge.has_provenance(XmpDoc.parse(sc.read_bytes()))
    except (MetadataError, OSError):  # unreadable: not ours to touch
        return False


def _parses_as(packet: bytes | None, meant: XmpDoc) -> bool:
    """Whether ``packet`` (the XMP the new file holds) parses, as another XMP reader will parse it,
    into the caption and keywords of ``meant``: the same bytes reading back proves the container, this
    proves the packet (a serializer slip would otherwise leave XMP that no tool, ours included, can
    read, and our tags stuck in the file)."""
    if packet is None:
        return meant.is_empty()
    try:
        doc = XmpDoc.parse(packet)
    except Exception:  # UnsafeToEmbed, or any parser error
        return False
    return _readback_xmp(doc) == _readback_xmp(meant)


def _edit_embedded(path: Path, edit: str, record: MetadataRecord | None, keep_backup: bool) -> tuple[bool, str]:
    """Apply (edit="apply") or undo our fields inside the file: whether the file changed, and the
    caption (XMP dc:description x-default) it holds now."""
    try:
        data, snap = read_with_snapshot(path)
    except OSError as exc:
        raise _os_error(path, exc) from None
    handler = handler_for(path, data)
    try:
        parts: Parts = handler.read(data)
    except UnsafeToEmbed:
        raise
    except Exception as exc:  # struct/index errors on a damaged file
        raise UnsafeToEmbed(f"corrupt metadata ({type(exc).__name__}: {exc})") from None
    fields = Fields.from_parts(parts)
    if edit == "apply":
        assert record is not None
        merge.refuse_extended(parts.extended_xmp)
        merge.apply(fields, record)
    else:
        if not merge.has_provenance(fields.xmp):
            return False, fields.xmp.get_alt(DC_DESCRIPTION)
        merge.undo(fields)
    caption = fields.xmp.get_alt(DC_DESCRIPTION)
    new_parts = fields.to_parts(parts, EMBED_PADDING)
    try:
        new = handler.write(data, new_parts)
        check = handler.read(new)  # what we made must read back as what we meant
    except UnsafeToEmbed:
        raise
    except Exception as exc:  # a bug or a strange file: never write what we cannot read back
        raise UnsafeToEmbed(f"internal check failed ({type(exc).__name__}: {exc})") from None
    if check.xmp != new_parts.xmp or (check.iptc != new_parts.iptc and new_parts.supports_iptc):
        raise UnsafeToEmbed("internal check failed (metadata did not read back)")
    if not _parses_as(check.xmp, fields.xmp):
        raise UnsafeToEmbed("internal check failed (the new XMP does not parse as what was meant)")
    if new == data:
        return False, caption
    try:
        replace_file(path, new, snap, keep_backup=keep_backup)
    except OSError as exc:
        raise _os_error(path, exc) from None
    return True, caption


def _edit_sidecar(
    path: Path, sidecar_name: str, edit: str, record: MetadataRecord | None
) -> tuple[Path | None, str | None]:
    """Apply to / undo from the sidecar (merging into an existing one): the sidecar path (or None:
    none touched) and the caption (XMP dc:description x-default) it holds now (None with no path).

    The sidecar is named after ``path`` as given, a symlink not resolved: for an album of links to
    RAW files it lies beside the link, where a person browsing the album and a DAM that imported
    the album look, and where sidecars written before symlinks were followed already are (undo and
    read_metadata find them by the same name). Only a sidecar that is itself a symlink is written
    through to its target (safefile.real_path).

    A base-named sidecar another photo owns (see shared) is left as it is: shared.SidecarTaken.
    """
    sc = sidecar_path(path, sidecar_name)
    try:
        if sc.exists():
            data, snap = read_with_snapshot(sc)
            try:
                doc = XmpDoc.parse(data)
            except UnsafeToEmbed as exc:
                raise MetadataError(f"{sc}: existing sidecar is unreadable, left alone: {exc}") from None
        else:
            if edit != "apply":
                return None, None
            snap, doc = Snapshot(False), XmpDoc.empty()
        fields = Fields(doc)
        doc.prefixes.setdefault(NS_AUTOTAGGER, PREFIX_AUTOTAGGER)
        if edit != "apply" and not merge.has_provenance(doc):
            return None, None
        owner = shared.owner_of(path, sc, doc if snap.exists else None) if sidecar_name == "base" else None
        if owner is not None:
            raise shared.SidecarTaken(path, sc, owner.path, owner.by_raw)
        if edit == "apply":
            assert record is not None
            merge.apply(fields, record)
            if sidecar_name == "base":  # whose it is, for the photos that share its name
                doc.set_text(shared.FILE, path.name)
        else:
            merge.undo(fields)
            _refuse_read_only_folder(sc)
            if doc.is_empty():
                remove_file(sc, snap)
                return sc, ""
        _refuse_read_only_folder(sc)
        packet = doc.serialize()
        if not _parses_as(packet, doc):  # never a sidecar no tool can read over one that could be read
            raise MetadataError(f"{sc}: internal check failed (the new XMP does not parse as what was meant), "
                                "left unchanged")
        replace_file(sc, packet, snap)
    except OSError as exc:
        raise _os_error(sc, exc) from None
    return sc, doc.get_alt(DC_DESCRIPTION)


def _refuse_read_only_folder(sc: Path) -> None:
    """A read-only folder gets no sidecar either: what a normal user meets as "Permission denied",
    root (who may write anyway) meets too, and nothing is written."""
    if _folder_read_only(real_path(sc).parent):
        raise MetadataError(f"{sc}: folder is read-only, nothing written")


def write_metadata(
    path: Path, record: MetadataRecord, *, mode: str = "auto", sidecar_name: str = "ext", keep_backup: bool = False
) -> WriteOutcome:
    """Write ``record`` into the file and/or its sidecar; MetadataError when nothing was written.

    The outcome's ``caption`` is what the file holds after the write, the file's own first (as
    read_metadata reads it): ours, or a person's that was there and stays.
    """
    path = Path(path)
    if mode not in MODES:
        raise MetadataError(f"unknown write mode {mode!r} (use {', '.join(MODES)})")
    sidecar_path(path, sidecar_name)  # validates the style
    if not path.is_file():
        raise MetadataError(f"{path}: no such file")
    if mode == "none":
        return WriteOutcome(str(path), False, None, ())
    remove_stale_temps(path)
    remove_stale_temps(sidecar_path(path, sidecar_name))
    warnings: list[str] = []
    embedded = False
    caption: str | None = None
    want_sidecar = mode in ("sidecar", "both")
    if mode in ("auto", "embed", "both"):
        blocker = _embed_blocker(path)
        if blocker is not None:
            if mode == "embed" or not (blocker == "RAW file" and mode == "auto"):
                warnings.append(f"not embedded ({blocker}); wrote sidecar instead")
            want_sidecar = True
        else:
            try:
                _, caption = _edit_embedded(path, "apply", record, keep_backup)
                embedded = True
            except UnsafeToEmbed as exc:
                if mode == "embed":
                    raise MetadataError(_one_line(f"{path}: cannot embed safely, file left unchanged: {exc}")) from None
                warnings.append(_one_line(f"embedding failed: {exc}; wrote sidecar instead"))
                want_sidecar = True
    sc, sc_caption = None, None
    if want_sidecar:
        try:
            sc, sc_caption = _edit_sidecar(path, sidecar_name, "apply", record)
        except shared.SidecarTaken as exc:  # another photo's IMG_1.xmp: left as it is
            note = shared.declined(exc, record, wrote_file=embedded)  # MetadataError where nothing was written
            warnings += [note] if note else []
    if embedded and mode == "auto" and not want_sidecar and _older_sidecar_of_ours(path, sidecar_name):
        try:  # the file has them now; the sidecar must not keep our old ones for the tools that read it
            sc, sc_caption = _edit_sidecar(path, sidecar_name, "apply", record)
        except shared.SidecarTaken:
            pass  # another photo's (a RAW's beside this DNG): its tags are not ours to update
        except MetadataError as exc:
            warnings.append(_one_line(f"our older sidecar was not updated: {exc}"))
    if not caption and sc_caption is not None:
        caption = sc_caption
    return WriteOutcome(str(path), embedded, None if sc is None else str(sc), tuple(warnings), caption)


def undo_metadata(path: Path, *, sidecar_name: str = "ext") -> WriteOutcome:
    """Remove exactly what we wrote (per our provenance record) from the file and its sidecar."""
    path = Path(path)
    sidecar_path(path, sidecar_name)
    if not path.exists() and not sidecar_path(path, sidecar_name).exists():
        raise MetadataError(f"{path}: no such file")
    warnings: list[str] = []
    embedded = False
    kept_by = None  # why our tags must stay in the file
    if path.is_file():
        blocker = _embed_blocker(path)
        if blocker is None:
            try:
                embedded, _ = _edit_embedded(path, "undo", None, False)
            except UnsafeToEmbed as exc:
                warnings.append(_one_line(f"file not changed: {exc}"))
        elif blocker != "RAW file" and _holds_our_tags(path):
            kept_by = blocker
    left_alone = False
    try:
        sc, _ = _edit_sidecar(path, sidecar_name, "undo", None)
    except shared.SidecarTaken as exc:  # IMG_1.xmp also serves IMG_1.CR2: its tags are not this file's
        sc, left_alone = None, True
        warnings.append(f"{exc.sidecar.name} left alone: it holds the tags of {exc.owner.name} "
                        "(undo that file to remove them)")
    if kept_by is not None:  # an error, not "nothing found": the person must make it writable and retry
        done = "; removed them from its sidecar" if sc is not None else ""
        raise MetadataError(f"{path}: {kept_by}: our tags are still in it{done}")
    if not embedded and sc is None and not left_alone:
        warnings.append("nothing written by autotagger found")
    return WriteOutcome(str(path), embedded, None if sc is None else str(sc), tuple(warnings))


def _readback_xmp(doc: XmpDoc) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    return doc.get_alt(DC_DESCRIPTION), tuple(doc.get_list(DC_SUBJECT)), tuple(doc.get_list(LR_HIERARCHICAL))


def read_metadata(path: Path, *, sidecar_name: str = "ext") -> ReadBack:
    """What the file and its sidecar say (file first); unreadable parts become warnings.

    A JPEG's extended XMP (the part of a large packet its main packet names) counts as the file's:
    exiftool, Lightroom and our writer (merge.refuse_extended) read the two as one packet, and a long
    keyword list is what ends up there."""
    path = Path(path)
    warnings: list[str] = []
    docs: list[XmpDoc] = []  # the file's packet(s), then the sidecar's
    iptc_caption, exif_desc = "", ""
    iptc_kw: tuple[str, ...] = ()
    xp: tuple[str, ...] = ()
    if path.is_file() and not sidecar_only(path):
        extended = None
        try:
            data = path.read_bytes()
            parts = handler_for(path, data).read(data)
            extended = parts.extended_xmp
            f = Fields.from_parts(parts)
            docs.append(f.xmp)
            if f.iim is not None:
                iptc_caption = "".join(f.iim.get_texts(iptcmod.CAPTION))
                iptc_kw = tuple(f.iim.get_texts(iptcmod.KEYWORDS))
            exif_desc, xp = f.description or "", tuple(f.xpkeywords)
        except (MetadataError, OSError) as exc:
            warnings.append(_one_line(f"file: {exc}"))
        if extended is not None:
            try:
                docs.append(XmpDoc.parse(extended))
            except MetadataError as exc:
                warnings.append(_one_line(f"file: extended XMP: {exc}"))
    sc = sidecar_path(path, sidecar_name)
    found_sc = None
    if sc.is_file():
        found_sc = str(sc)
        try:
            docs.append(XmpDoc.parse(sc.read_bytes()))
        except (MetadataError, OSError) as exc:
            warnings.append(_one_line(f"sidecar: {exc}"))
    caption, subjects, hier = "", [], []
    prov = None
    for doc in docs:
        c, s, h = _readback_xmp(doc)
        caption = caption or c
        subjects += [x for x in s if x not in subjects]
        hier += [x for x in h if x not in hier]
        prov = prov or merge.read_provenance(doc)
    return ReadBack(
        caption=caption,
        subjects=tuple(subjects),
        hierarchical=tuple(hier),
        provenance=prov,
        iptc_caption=iptc_caption,
        iptc_keywords=iptc_kw,
        exif_description=exif_desc,
        xp_keywords=xp,
        sidecar=found_sc,
        warnings=tuple(warnings),
    )
