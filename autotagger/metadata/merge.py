"""Merging a record into a file's fields, and undoing it, guided by our provenance record.

Our namespace records exactly what we put into each field; a re-run first takes that out
(only where the value is still ours) and then adds the new values where they are missing.

A person's edits (a MetadataRecord with ``caption_source="person"``, ``person_tags`` and
``removed_tags``) are written as theirs: undo leaves them. Two of them also take values out:

* A removed tag leaves every keyword field, whoever put it there (the model, the person through
  us, another tool): its path leaves lr:hierarchicalSubject; its leaf leaves dc:subject, IPTC
  Keywords and XPKeywords only where we put that leaf there (our Added* bags, or the Person* bags
  below) and no tag still left uses the same leaf (ours, the person's, or a path still in the
  file's lr:hierarchicalSubject). A plain "family" typed in another tool is not the leaf of
  "people|family": it was there before us, so removing "people|family" keeps it.
* A person's empty caption (``caption=""`` with ``caption_source="person"``) clears the caption:
  the x-default of dc:description, IPTC Caption-Abstract and EXIF ImageDescription. An empty
  caption from the model never clears anything.

The Person* bags record the leaves we added to the flat fields for a person's tags. Undo leaves
those leaves (they are the person's) and drops the bags with the rest of our provenance, so after
an undo a person's leaf counts as one that was already there: removing its tag later takes out
its path, and the leaf stays.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone

from autotagger.metadata import iptc as iptcmod
from autotagger.metadata.model import (
    NS_AUTOTAGGER,
    PREFIX_AUTOTAGGER,
    MetadataRecord,
    Provenance,
    UnsafeToEmbed,
)
from autotagger.metadata.parts import Parts
from autotagger.metadata.xmp import NS_DC, NS_LR, NS_RDF, XmpDoc, q
from autotagger.text import storable

DC_DESCRIPTION = q(NS_DC, "description")
DC_SUBJECT = q(NS_DC, "subject")
LR_HIERARCHICAL = q(NS_LR, "hierarchicalSubject")


def A(name: str) -> str:
    return q(NS_AUTOTAGGER, name)


# field names recorded in autotagger:Wrote
F_DESC, F_IPTC_CAPTION, F_EXIF_DESC = "dc:description", "iptc:Caption-Abstract", "exif:ImageDescription"
F_IPTC_CHARSET = "iptc:CodedCharacterSet"  # the UTF-8 marker, where the IPTC had none before us
# our bags of added keywords, per field
ADDED = {
    "subject": A("AddedSubjects"),
    "hier": A("AddedHierarchical"),
    "iptc": A("AddedIptcKeywords"),
    "xp": A("AddedXPKeywords"),
}
# the leaves we added to the flat fields for a person's tags (theirs: undo keeps the values)
PERSON_ADDED = {
    "subject": A("PersonSubjects"),
    "iptc": A("PersonIptcKeywords"),
    "xp": A("PersonXPKeywords"),
}
# "File": the photo a base-named sidecar (IMG_1.xmp) holds our tags for (sidecars only, see shared)
SCALARS = ("ModelId", "QuestionSetVersion", "Date", "Caption", "CaptionSource", "File")


@dataclass
class Fields:
    """The editable values of one container (file or sidecar)."""

    xmp: XmpDoc
    iim: iptcmod.Iim | None = None  # None: the format has no IPTC, or it is in a charset we cannot read
    exif: bool = False  # whether the format has EXIF
    description: str | None = None
    xpkeywords: list[str] = field(default_factory=list)

    @classmethod
    def from_parts(cls, parts: Parts) -> Fields:
        doc = XmpDoc.parse(parts.xmp) if parts.xmp else XmpDoc.empty()
        doc.prefixes.setdefault(NS_AUTOTAGGER, PREFIX_AUTOTAGGER)
        iim = None
        if parts.supports_iptc:
            iim = iptcmod.Iim.parse(parts.iptc) if parts.iptc else iptcmod.Iim([])
            if not iim.charset_known:  # left as it is (to_parts keeps its bytes), not relabelled
                iim = None
        xp = [k.strip() for k in (parts.xpkeywords or "").split(";") if k.strip()]
        return cls(doc, iim, parts.supports_exif, parts.description, xp)

    def to_parts(self, old: Parts, padding: int) -> Parts:
        xmp = None if self.xmp.is_empty() else self.xmp.serialize(padding)
        iim = old.iptc  # no IPTC, or one we do not edit: as it was
        if self.iim is not None:
            iim = None if self.iim.is_trivial() else self.iim.serialize()
        return Parts(
            xmp=xmp,
            iptc=iim,
            description=self.description if self.exif else old.description,
            xpkeywords=(";".join(self.xpkeywords) or None) if self.exif else old.xpkeywords,
            supports_iptc=old.supports_iptc,
            supports_exif=old.supports_exif,
        )


def has_provenance(doc: XmpDoc) -> bool:
    bags = [k.split("}")[1] for k in (*ADDED.values(), *PERSON_ADDED.values())]
    return any(doc.has(A(n)) for n in (*SCALARS, "Tags", "Wrote", *bags))


def refuse_extended(packet: bytes | None) -> None:
    """UnsafeToEmbed where a JPEG's extended XMP holds a field we write. We do not rewrite that part
    (see jpeg), and ours in the main packet beside it would make two of one property: readers merge
    the parts, and which one they show is theirs to choose. Unreadable, it may hold them too."""
    if packet is None:
        return
    doc = XmpDoc.parse(packet)
    if has_provenance(doc) or any(doc.has(name) for name in (DC_DESCRIPTION, DC_SUBJECT, LR_HIERARCHICAL)):
        raise UnsafeToEmbed("its keywords or caption are in extended XMP, which is not rewritten")


def read_provenance(doc: XmpDoc) -> Provenance | None:
    if not has_provenance(doc):
        return None
    conf: dict[str, float | None] = {}
    tags = doc.get_element(A("Tags"))
    if tags is not None:
        for li in tags.iter(q(NS_RDF, "li")):
            path = li.findtext(A("Path")) or ""
            value = li.findtext(A("Confidence"))
            if path:
                try:
                    conf[path] = float(value) if value else None
                except ValueError:
                    conf[path] = None
    return Provenance(
        model_id=doc.get_text(A("ModelId")),
        question_set_version=doc.get_text(A("QuestionSetVersion")),
        date=doc.get_text(A("Date")),
        caption=doc.get_text(A("Caption")),
        confidences=conf,
    )


def _remove_items(values: list[str], ours: list[str]) -> list[str]:
    drop = set(ours)
    return [v for v in values if v not in drop]


def undo(f: Fields) -> None:
    """Take out what our provenance says we wrote (only where it is still ours), then the provenance."""
    doc = f.xmp
    our_caption = doc.get_text(A("Caption"))
    wrote = set(doc.get_list(A("Wrote")))
    if F_DESC in wrote and doc.get_alt(DC_DESCRIPTION) == our_caption:
        doc.set_alt_default(DC_DESCRIPTION, None)
    doc.set_list(DC_SUBJECT, _remove_items(doc.get_list(DC_SUBJECT), doc.get_list(ADDED["subject"])))
    doc.set_list(LR_HIERARCHICAL, _remove_items(doc.get_list(LR_HIERARCHICAL), doc.get_list(ADDED["hier"])))
    if f.iim is not None:
        iptc_caption = f.iim.get_texts(iptcmod.CAPTION)
        if F_IPTC_CAPTION in wrote and iptc_caption in ([our_caption], [_iptc_caption(our_caption)]):
            f.iim.set_texts(iptcmod.CAPTION, [])
        kws = _remove_items(f.iim.get_texts(iptcmod.KEYWORDS), doc.get_list(ADDED["iptc"]))
        f.iim.set_texts(iptcmod.KEYWORDS, kws)
        if F_IPTC_CHARSET in wrote:
            f.iim.drop_marker_if_ascii()
    if f.exif:
        if F_EXIF_DESC in wrote and f.description == our_caption:
            f.description = None
        f.xpkeywords = _remove_items(f.xpkeywords, doc.get_list(ADDED["xp"]))
    for name in (*SCALARS, "Tags", "Wrote"):
        doc.remove(A(name))
    for name in (*ADDED.values(), *PERSON_ADDED.values()):
        doc.remove(name)


def _add(values: list[str], new: list[str]) -> tuple[list[str], list[str]]:
    """values + the new ones not there yet; and which were added."""
    added = []
    for v in new:
        if v and v not in values and v not in added:
            added.append(v)
    return values + added, added


def _leaf(path: str) -> str:
    return path.rsplit("|", 1)[-1]


def cleaned(record: MetadataRecord) -> MetadataRecord:
    """The record as the fields can hold it (text made storable, empty tags dropped): what apply writes."""
    tags = tuple(replace(t, path=path) for t in record.tags if (path := storable(t.path)))
    return replace(
        record,
        caption=storable(record.caption, caption=True),
        tags=tags,
        person_tags=tuple(p for p in map(storable, record.person_tags) if p),
        removed_tags=tuple(p for p in map(storable, record.removed_tags) if p),
    )


def _iptc_keyword(leaf: str) -> str:
    return iptcmod.fit(leaf, iptcmod.KEYWORD_LIMIT)


def _iptc_caption(caption: str) -> str:
    return iptcmod.fit(caption, iptcmod.CAPTION_LIMIT)


def _xp_keyword(leaf: str) -> str:
    """XPKeywords separates keywords with ";": one that holds it cannot go there ("" = left out)."""
    return "" if ";" in leaf else leaf


def _carry_iptc_into_xmp(f: Fields) -> None:
    """MWG keeps XMP and IPTC in step, and its readers (Lightroom, exiftool -use MWG) take the XMP
    where there is one. A file keyworded the old way has IPTC only: its keywords and caption go
    into the XMP first, or our new XMP would hide them. They stay the person's (not recorded as ours,
    so undo leaves them in both places)."""
    if f.iim is None:
        return
    doc = f.xmp
    keywords = [k for k in f.iim.get_texts(iptcmod.KEYWORDS) if k.strip()]
    if keywords and not doc.get_list(DC_SUBJECT):
        doc.set_list(DC_SUBJECT, keywords)
    caption = "".join(f.iim.get_texts(iptcmod.CAPTION))
    if caption.strip() and not doc.get_alt(DC_DESCRIPTION):
        doc.set_alt_default(DC_DESCRIPTION, caption)


def _marker_is_ours(iim: iptcmod.Iim | None, was_ours: bool) -> bool:
    """Whether the IPTC's UTF-8 marker after this write is one we added: it was ours before, or
    there is none yet and serialize adds one (for text that is not ASCII)."""
    if iim is None:
        return False
    if iim.get_raw(*iptcmod.CODED_CHARSET):
        return was_ours
    return not iim.is_trivial() and not iim.is_ascii()


def apply(f: Fields, record: MetadataRecord) -> None:
    """Write ``record`` into ``f``: our values replace our last ones, a person's edits win (see the
    module docstring for what a removed tag and a person's empty caption take out)."""
    record = cleaned(record)
    marker_was_ours = F_IPTC_CHARSET in f.xmp.get_list(A("Wrote"))
    persons_before = {key: f.xmp.get_list(name) for key, name in PERSON_ADDED.items()}  # undo drops them
    undo(f)
    _carry_iptc_into_xmp(f)
    doc = f.xmp
    removed = set(record.removed_tags)
    ours = [t for t in record.tags if t.path not in removed]
    person = [p for p in record.person_tags if p not in removed]
    our_leaves = [t.leaf for t in ours]
    person_leaves = [_leaf(p) for p in person]

    hier = [h for h in doc.get_list(LR_HIERARCHICAL) if h not in removed]
    hier, add_hier = _add(hier, [t.path for t in ours])
    hier, _ = _add(hier, person)
    still_used = {_leaf(h) for h in hier} | set(our_leaves) | set(person_leaves)
    gone = {_leaf(r) for r in removed} - still_used  # ours went in undo; the person's go here

    def merge_flat(
        values: list[str], key: str, form: Callable[[str], str] = str
    ) -> tuple[list[str], list[str], list[str]]:
        """The field's keywords after the merge, the leaves we added as ours, and those we added
        (now or before) for the person; ``form`` is a leaf as this field can hold it ("": not at all)."""
        theirs_before = persons_before[key]
        gone_here = {form(g) for g in gone}
        values = [v for v in values if not (v in gone_here and v in theirs_before)]
        values, added = _add(values, [form(v) for v in our_leaves])
        values, added_theirs = _add(values, [form(v) for v in person_leaves])
        theirs = [v for v in theirs_before if v in values and v not in added and v not in added_theirs]
        return values, added, theirs + added_theirs

    subjects, add_subj, person_subj = merge_flat(doc.get_list(DC_SUBJECT), "subject")
    doc.set_list(DC_SUBJECT, subjects)
    doc.set_list(LR_HIERARCHICAL, hier)
    wrote: list[str] = []
    person_caption = record.caption_source == "person"
    caption = record.caption.strip()
    clear = person_caption and not caption  # the person emptied the caption: it leaves the file
    # The person's caption in XMP (or carried there from IPTC) is the photo's caption: ours then
    # goes into none of the three fields MWG keeps in step, not even an empty EXIF ImageDescription,
    # which MWG readers take first. (An EXIF one alone is often a camera's "OLYMPUS DIGITAL CAMERA".)
    put = bool(caption) and (person_caption or not doc.get_alt(DC_DESCRIPTION))
    if put:
        doc.set_alt_default(DC_DESCRIPTION, caption)
        wrote.append(F_DESC)
    elif clear:
        doc.set_alt_default(DC_DESCRIPTION, None)  # other languages' entries stay
    add_iptc: list[str] = []
    person_iptc: list[str] = []
    if f.iim is not None:
        kws, add_iptc, person_iptc = merge_flat(f.iim.get_texts(iptcmod.KEYWORDS), "iptc", _iptc_keyword)
        f.iim.set_texts(iptcmod.KEYWORDS, kws)
        if put and (person_caption or not "".join(f.iim.get_texts(iptcmod.CAPTION))):
            f.iim.set_texts(iptcmod.CAPTION, [_iptc_caption(caption)])
            wrote.append(F_IPTC_CAPTION)
        elif clear:
            f.iim.set_texts(iptcmod.CAPTION, [])
    add_xp: list[str] = []
    person_xp: list[str] = []
    if f.exif:
        f.xpkeywords, add_xp, person_xp = merge_flat(f.xpkeywords, "xp", _xp_keyword)
        if put and (person_caption or not f.description):
            f.description = caption
            wrote.append(F_EXIF_DESC)
        elif clear:
            f.description = None

    if person_caption:  # the person's caption is theirs: undo must not take it away
        wrote = []
    if _marker_is_ours(f.iim, marker_was_ours):
        wrote.append(F_IPTC_CHARSET)
    doc.set_text(A("ModelId"), record.model_id)
    doc.set_text(A("QuestionSetVersion"), record.question_set_version)
    doc.set_text(A("Date"), record.date or datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds"))
    doc.set_text(A("Caption"), caption)
    doc.set_text(A("CaptionSource"), record.caption_source)
    tags_el = doc.add_element(A("Tags"))
    bag = ET.SubElement(tags_el, q(NS_RDF, "Bag"))
    for t in ours:
        li = ET.SubElement(bag, q(NS_RDF, "li"), {q(NS_RDF, "parseType"): "Resource"})
        ET.SubElement(li, A("Path")).text = t.path
        if t.confidence is not None:
            ET.SubElement(li, A("Confidence")).text = f"{t.confidence:.4f}"
    if not ours:
        doc.remove(A("Tags"))
    doc.set_list(A("Wrote"), wrote)
    for key, added in (("subject", add_subj), ("hier", add_hier), ("iptc", add_iptc), ("xp", add_xp)):
        doc.set_list(ADDED[key], added)
    for key, added in (("subject", person_subj), ("iptc", person_iptc), ("xp", person_xp)):
        doc.set_list(PERSON_ADDED[key], added)
