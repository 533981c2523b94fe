"""Text as every place we keep it can hold it: the files' XMP, IPTC and EXIF fields, and the
catalogue. One rule for both, so that what the catalogue (and its search) says was saved is what
the file holds. Imports nothing of the package (like config and types)."""

from __future__ import annotations

import re

#: What XML 1.0 cannot hold (C0 controls but TAB/LF/CR, surrogates, U+FFFE/U+FFFF), and so no XMP.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def storable(text: str, *, caption: bool = False) -> str:
    """``text`` as every field can hold it and read it back the same: no character XML cannot hold
    (the packet would be unreadable, to us too), a CR as XML reads it back (LF), and, but in a
    caption, no line break or tab (a keyword is one line everywhere, and XPKeywords is read back
    stripped); no spaces around it."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not caption:
        text = text.replace("\n", " ").replace("\t", " ")
    return NOT_XML.sub("", text).strip()
