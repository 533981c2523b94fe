"""An XMP packet as an editable tree: robust parsing, our own serializer (original prefixes kept)."""

from __future__ import annotations

import codecs
import io
import re
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape, quoteattr

from autotagger.metadata.model import UnsafeToEmbed

NS_X = "adobe:ns:meta/"
NS_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
NS_XML = "http://www.w3.org/XML/1998/namespace"
NS_DC = "http://purl.org/dc/elements/1.1/"
NS_LR = "http://ns.adobe.com/lightroom/1.0/"

WELL_KNOWN = {
    NS_X: "x",
    NS_RDF: "rdf",
    NS_DC: "dc",
    NS_LR: "lr",
    "http://ns.adobe.com/xap/1.0/": "xmp",
    "http://ns.adobe.com/photoshop/1.0/": "photoshop",
    "http://ns.adobe.com/exif/1.0/": "exif",
    "http://ns.adobe.com/tiff/1.0/": "tiff",
}

PACKET_ID = "W5M0MpCehiHzreSzNTczkc9d"
_CONTAINERS = {f"{{{NS_RDF}}}{k}" for k in ("Bag", "Seq", "Alt")}
LI = f"{{{NS_RDF}}}li"
DESCRIPTION = f"{{{NS_RDF}}}Description"


def q(ns: str, name: str) -> str:
    return f"{{{ns}}}{name}"


class XmpDoc:
    """One XMP packet. Properties are looked up in every rdf:Description, as elements or attributes."""

    def __init__(self, root: ET.Element, prefixes: dict[str, str]) -> None:
        self.root = root  # x:xmpmeta
        self.prefixes = prefixes  # uri -> prefix, as the packet spelled them

    # ---- parse / serialize -------------------------------------------------------------
    @classmethod
    def empty(cls) -> XmpDoc:
        root = ET.Element(q(NS_X, "xmpmeta"))
        rdf = ET.SubElement(root, q(NS_RDF, "RDF"))
        ET.SubElement(rdf, DESCRIPTION, {q(NS_RDF, "about"): ""})
        return cls(root, {})

    @classmethod
    def parse(cls, data: bytes) -> XmpDoc:
        """Parse a packet; raise UnsafeToEmbed when it is not readable XML/RDF."""
        texts = [t.strip(b"\x00 \t\r\n") for t in _as_utf8(data)]
        if not texts[-1]:
            return cls.empty()
        last_error = ""
        for candidate in (c for text in texts for c in _candidates(text)):
            try:
                prefixes: dict[str, str] = {}
                root: ET.Element | None = None
                for event, item in ET.iterparse(io.BytesIO(candidate), events=("start-ns", "start")):
                    if event == "start-ns":
                        prefix, uri = item
                        if prefix and uri not in prefixes:
                            prefixes[uri] = prefix
                    elif root is None:
                        root = item
                assert root is not None
            except (ET.ParseError, AssertionError) as exc:
                last_error = str(exc)
                continue
            if root.tag == q(NS_RDF, "RDF"):
                wrapper = ET.Element(q(NS_X, "xmpmeta"))
                wrapper.append(root)
                root = wrapper
            if root.tag != q(NS_X, "xmpmeta") or root.find(q(NS_RDF, "RDF")) is None:
                last_error = "no rdf:RDF element"
                continue
            return cls(root, prefixes)
        raise UnsafeToEmbed(f"unreadable XMP packet ({last_error})")

    def serialize(self, padding: int = 0) -> bytes:
        out = io.StringIO()
        out.write(f'<?xpacket begin="\ufeff" id="{PACKET_ID}"?>\n')
        _write_elem(out, self.root, self._prefix_map(), set(), 0)
        out.write("\n")
        if padding:
            line = " " * 99 + "\n"
            out.write(line * (padding // 100))
        out.write('<?xpacket end="w"?>')
        return out.getvalue().encode("utf-8")

    def _prefix_map(self) -> dict[str, str]:
        used: dict[str, str] = {}
        taken: set[str] = {"xml"}
        for uri in _namespaces(self.root):
            if uri == NS_XML:
                continue
            prefix = self.prefixes.get(uri) or WELL_KNOWN.get(uri) or _guess_prefix(uri)
            base, n = prefix, 1
            while prefix in taken:
                prefix, n = f"{base}{n}", n + 1
            taken.add(prefix)
            used[uri] = prefix
        return used

    # ---- property access ---------------------------------------------------------------
    def descriptions(self) -> list[ET.Element]:
        rdf = self.root.find(q(NS_RDF, "RDF"))
        assert rdf is not None
        found = rdf.findall(DESCRIPTION)
        if not found:
            found = [ET.SubElement(rdf, DESCRIPTION, {q(NS_RDF, "about"): ""})]
        return found

    def _find(self, name: str) -> tuple[ET.Element, ET.Element | None] | None:
        for desc in self.descriptions():
            if name in desc.attrib:
                return desc, None
            child = desc.find(name)
            if child is not None:
                return desc, child
        return None

    def remove(self, name: str) -> None:
        for desc in self.descriptions():
            desc.attrib.pop(name, None)
            for child in desc.findall(name):
                desc.remove(child)

    def has(self, name: str) -> bool:
        return self._find(name) is not None

    def get_text(self, name: str) -> str:
        hit = self._find(name)
        if hit is None:
            return ""
        desc, child = hit
        if child is None:
            return desc.attrib[name]
        return (child.text or "") if len(child) == 0 else ""

    def set_text(self, name: str, value: str) -> None:
        self.remove(name)
        ET.SubElement(self._target(), name).text = value

    def get_list(self, name: str) -> list[str]:
        hit = self._find(name)
        if hit is None:
            return []
        desc, child = hit
        if child is None:
            return [desc.attrib[name]]
        container = next((c for c in child if c.tag in _CONTAINERS), None)
        if container is None:
            return [child.text] if child.text and child.text.strip() else []
        return [li.text or "" for li in container.findall(LI) if len(li) == 0]

    def set_list(self, name: str, items: list[str], kind: str = "Bag") -> None:
        """Replace a Bag/Seq; list items that are structures (not text) are kept."""
        hit = self._find(name)
        keep: list[ET.Element] = []
        if hit is not None and hit[1] is not None:
            container = next((c for c in hit[1] if c.tag in _CONTAINERS), None)
            if container is not None:
                keep = [li for li in container.findall(LI) if len(li) != 0]
        self.remove(name)
        if not items and not keep:
            return
        prop = ET.SubElement(self._target(), name)
        container = ET.SubElement(prop, q(NS_RDF, kind))
        for item in items:
            ET.SubElement(container, LI).text = item
        container.extend(keep)

    def get_alt(self, name: str) -> str:
        """The x-default (or first) entry of a language alternative."""
        hit = self._find(name)
        if hit is None:
            return ""
        desc, child = hit
        if child is None:
            return desc.attrib[name]
        container = next((c for c in child if c.tag in _CONTAINERS), None)
        if container is None:
            return child.text or ""
        items = container.findall(LI)
        for li in items:
            if li.get(q(NS_XML, "lang")) == "x-default":
                return li.text or ""
        return (items[0].text or "") if items else ""

    def set_alt_default(self, name: str, value: str | None) -> None:
        """Set (or with None remove) the x-default entry; other languages are kept."""
        hit = self._find(name)
        others: list[ET.Element] = []
        if hit is not None and hit[1] is not None:
            container = next((c for c in hit[1] if c.tag in _CONTAINERS), None)
            if container is not None:
                others = [li for li in container.findall(LI) if li.get(q(NS_XML, "lang")) != "x-default"]
        self.remove(name)
        if value is None and not others:
            return
        prop = ET.SubElement(self._target(), name)
        alt = ET.SubElement(prop, q(NS_RDF, "Alt"))
        if value is not None:
            ET.SubElement(alt, LI, {q(NS_XML, "lang"): "x-default"}).text = value
        alt.extend(others)

    def get_element(self, name: str) -> ET.Element | None:
        hit = self._find(name)
        return None if hit is None else hit[1]

    def add_element(self, name: str) -> ET.Element:
        self.remove(name)
        return ET.SubElement(self._target(), name)

    def is_empty(self) -> bool:
        """True when no rdf:Description holds any property."""
        for desc in self.descriptions():
            if len(desc) or any(k != q(NS_RDF, "about") for k in desc.attrib):
                return False
        return True

    def _target(self) -> ET.Element:
        return self.descriptions()[0]


_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"),
)  # fmt: skip


def _wide_encoding(data: bytes) -> tuple[str | None, bool]:
    """(the UTF-16/32 encoding the packet looks to be in, or None; whether a BOM says so)."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return encoding, True
    z = [b == 0 for b in data[:4].ljust(4, b"\x01")]
    if z == [False, True, True, True]:
        return "utf-32-le", False
    if z == [True, True, True, False]:
        return "utf-32-be", False
    if z[:2] == [False, True]:
        return "utf-16-le", False
    if z[:2] == [True, False]:
        return "utf-16-be", False
    return None, False


def _as_utf8(data: bytes) -> list[bytes]:
    """The packet in UTF-8, as the ways it may be read (the likeliest first). The XMP spec allows
    UTF-16 and UTF-32 (sidecars from Windows tools): their NUL bytes would be taken for padding and
    their XML declaration names the old encoding, so the text is decoded and the declaration
    dropped. Without a BOM that is a guess from the NULs: UTF-8 with NUL padding is tried too.
    We always write UTF-8 back."""
    encoding, bom = _wide_encoding(data)
    if encoding is None:
        return [data]
    try:
        text = data.decode(encoding).lstrip("\ufeff")
    except UnicodeDecodeError as exc:
        if bom:
            raise UnsafeToEmbed(f"unreadable XMP packet (bad {encoding.upper()}: {exc.reason})") from None
        return [data]
    utf8 = re.sub(r"^\s*<\?xml\b[^>]*\?>", "", text).encode("utf-8")
    return [utf8] if bom else [utf8, data]


def _candidates(text: bytes) -> list[bytes]:
    out = [text]
    for pattern in (rb"<x:xmpmeta\b.*</x:xmpmeta>", rb"<rdf:RDF\b.*</rdf:RDF>"):
        m = re.search(pattern, text, re.S)
        if m:
            out.append(m.group(0))
    return out


def _namespaces(elem: ET.Element) -> list[str]:
    seen: dict[str, None] = {}
    for e in elem.iter():
        for name in (e.tag, *e.attrib):
            if name.startswith("{"):
                seen.setdefault(name[1:].split("}", 1)[0], None)
    return list(seen)


def _guess_prefix(uri: str) -> str:
    parts = [p for p in re.split(r"[/#:.]", uri) if p and p.isalpha() and p not in ("http", "https", "www", "ns")]
    return (parts[-1].lower() if parts else "ns")[:12]


def _qname(name: str, prefixes: dict[str, str]) -> tuple[str, str | None]:
    if not name.startswith("{"):
        return name, None
    uri, local = name[1:].split("}", 1)
    if uri == NS_XML:
        return f"xml:{local}", None
    return f"{prefixes[uri]}:{local}", uri


def _write_elem(out: io.StringIO, elem: ET.Element, prefixes: dict[str, str], declared: set[str], depth: int) -> None:
    pad = "  " * depth
    tag, uri = _qname(elem.tag, prefixes)
    needed: list[str] = []
    if elem.tag == DESCRIPTION or elem.tag == q(NS_X, "xmpmeta"):
        scope = [u for u in _namespaces(elem) if u != NS_XML]
        if elem.tag == q(NS_X, "xmpmeta"):
            scope = [NS_X]
    else:
        scope = [u for u in [uri, *(_qname(a, prefixes)[1] for a in elem.attrib)] if u]
    for u in scope:
        if u not in declared and u not in needed:
            needed.append(u)
    inner = declared | set(needed)
    attrs = "".join(f" xmlns:{prefixes[u]}={quoteattr(u)}" for u in needed)
    for key, value in elem.attrib.items():
        attrs += f" {_qname(key, prefixes)[0]}={quoteattr(value)}"
    text = elem.text or ""
    if len(elem) == 0:
        if text:
            out.write(f"{pad}<{tag}{attrs}>{escape(text)}</{tag}>\n")
        else:
            out.write(f"{pad}<{tag}{attrs}/>\n")
        return
    out.write(f"{pad}<{tag}{attrs}>\n")
    for child in elem:
        _write_elem(out, child, prefixes, inner, depth + 1)
    out.write(f"{pad}</{tag}>\n")
