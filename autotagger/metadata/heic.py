"""HEIC/HEIF: XMP as a 'mime' item (application/rdf+xml) of the ISOBMFF 'meta' box.

The XMP bytes go into a new 'mdat' box appended at the end of the file; the 'meta' box gets
the item (iinf/infe, iloc, an iref 'cdsc' to the primary image) and every file offset in
iloc that lies after 'meta' is shifted by the size change. Image data is never touched.

iloc keeps the field sizes the file had, base_offset's above all, and our item's position goes
where libheif puts its items' (base_offset when it has one, else extent_offset): exiv2 (digiKam,
darktable, gThumb) does not parse iloc but guesses each item's offset from the per-item record
size, and reads nothing where a file's layout differs from the one its guess expects.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from autotagger.metadata.model import UnsafeToEmbed
from autotagger.metadata.parts import Parts

XMP_MIME = b"application/rdf+xml"


def _boxes(data: bytes, start: int, end: int) -> list[tuple[bytes, int, int, int]]:
    """[(type, box start, payload start, box end)]"""
    out, pos = [], start
    while pos + 8 <= end:
        size, btype = struct.unpack(">I4s", data[pos : pos + 8])
        head = 8
        if size == 1:
            if pos + 16 > end:
                raise UnsafeToEmbed("corrupt HEIF: truncated box header")
            size, head = struct.unpack(">Q", data[pos + 8 : pos + 16])[0], 16
        elif size == 0:
            size = end - pos
        if size < head or pos + size > end:
            raise UnsafeToEmbed(f"corrupt HEIF: {btype!r} box runs past its parent")
        out.append((btype, pos, pos + head, pos + size))
        pos += size
    if pos != end and data[pos:end].strip(b"\x00"):
        raise UnsafeToEmbed("corrupt HEIF: trailing bytes in a box")
    return out


class _Reader:
    def __init__(self, data: bytes, pos: int, end: int) -> None:
        self.d, self.p, self.end = data, pos, end

    def uint(self, n: int) -> int:
        if n == 0:
            return 0
        if self.p + n > self.end:
            raise UnsafeToEmbed("corrupt HEIF: box too short")
        v = int.from_bytes(self.d[self.p : self.p + n], "big")
        self.p += n
        return v

    def cstring(self) -> bytes:
        i = self.d.find(b"\x00", self.p, self.end)
        if i < 0:
            i = self.end  # some writers omit the last terminator
        s = self.d[self.p : i]
        self.p = min(i + 1, self.end)
        return s


@dataclass
class _Loc:
    item_id: int
    method: int
    dref: int
    base: int
    extents: list[tuple[int, int, int]]  # (index, offset, length)


@dataclass
class _Meta:
    version_flags: bytes
    children: list[tuple[bytes, bytes]]  # (type, payload) of the boxes inside meta
    iloc_version: int = 0
    index_size: int = 0
    base_size: int = 4  # iloc base_offset_size: 0 (every base is 0) or 4/8
    locs: list[_Loc] = field(default_factory=list)
    infe: dict[int, tuple[bytes, bytes]] = field(default_factory=dict)  # id -> (item type, content type)
    primary: int = 0


def _parse_meta(data: bytes, start: int, end: int) -> _Meta:
    meta = _Meta(data[start : start + 4], [])
    for btype, _s, p, e in _boxes(data, start + 4, end):
        payload = data[p:e]
        meta.children.append((btype, payload))
        r = _Reader(data, p, e)
        if btype == b"pitm":
            v = r.uint(1)
            r.uint(3)
            meta.primary = r.uint(2 if v == 0 else 4)
        elif btype == b"iloc":
            v = r.uint(1)
            r.uint(3)
            if v > 2:
                raise UnsafeToEmbed("unsupported HEIF iloc version")
            sizes = r.uint(1)
            off_size, len_size = sizes >> 4, sizes & 15
            sizes = r.uint(1)
            base_size, idx_size = sizes >> 4, (sizes & 15) if v else 0
            meta.iloc_version, meta.index_size, meta.base_size = v, idx_size, base_size
            for _ in range(r.uint(2 if v < 2 else 4)):
                item = r.uint(2 if v < 2 else 4)
                method = r.uint(2) & 15 if v else 0
                dref, base = r.uint(2), r.uint(base_size)
                extents = []
                for _ in range(r.uint(2)):
                    extents.append((r.uint(idx_size), r.uint(off_size), r.uint(len_size)))
                meta.locs.append(_Loc(item, method, dref, base, extents))
        elif btype == b"iinf":
            v = r.uint(1)
            r.uint(3)
            r.uint(2 if v == 0 else 4)
            for itype, _s2, ip, ie in _boxes(data, r.p, e):
                if itype != b"infe":
                    continue
                ir = _Reader(data, ip, ie)
                iv = ir.uint(1)
                ir.uint(3)
                if iv < 2:
                    continue
                item = ir.uint(2 if iv == 2 else 4)
                ir.uint(2)
                kind = data[ir.p : ir.p + 4]
                ir.p += 4
                ir.cstring()
                content = ir.cstring() if kind == b"mime" else b""
                meta.infe[item] = (kind, content)
    if not any(t == b"iloc" for t, _ in meta.children) or not any(t == b"iinf" for t, _ in meta.children):
        raise UnsafeToEmbed("HEIF file without iloc/iinf")
    return meta


def _layout(data: bytes) -> tuple[tuple[int, int], _Meta]:
    top = _boxes(data, 0, len(data))
    if not top or top[0][0] != b"ftyp":
        raise UnsafeToEmbed("not a HEIF file")
    if any(t == b"moov" for t, *_ in top):
        raise UnsafeToEmbed("HEIF image sequences are not supported for embedding")
    metas = [(s, p, e) for t, s, p, e in top if t == b"meta"]
    if len(metas) != 1 or metas[0][1] - metas[0][0] != 8:
        raise UnsafeToEmbed("unsupported HEIF layout (meta box)")
    s, p, e = metas[0]
    return (s, e), _parse_meta(data, p, e)


def _xmp_item(meta: _Meta) -> int | None:
    return next((i for i, (k, c) in meta.infe.items() if k == b"mime" and c == XMP_MIME), None)


def read(data: bytes) -> Parts:
    _span, meta = _layout(data)
    item = _xmp_item(meta)
    xmp = None
    if item is not None:
        loc = next((x for x in meta.locs if x.item_id == item), None)
        if loc is None:
            raise UnsafeToEmbed("corrupt HEIF: XMP item without a location")
        idat = next((p for t, p in meta.children if t == b"idat"), b"")
        chunks = []
        for _idx, off, length in loc.extents:
            if loc.method == 0:
                src, at = data, loc.base + off
            elif loc.method == 1:
                src, at = idat, loc.base + off
            else:
                raise UnsafeToEmbed("unsupported HEIF item construction method")
            if at + length > len(src):
                raise UnsafeToEmbed("corrupt HEIF: XMP item past the end")
            chunks.append(src[at : at + length])
        xmp = b"".join(chunks)
    return Parts(xmp, None, None, None, supports_iptc=False, supports_exif=False)


def _box(btype: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + btype + payload


def _iloc(meta: _Meta, wide: bool) -> bytes:
    v = max(meta.iloc_version, 1 if any(x.method for x in meta.locs) else 0)
    if v < 2 and any(x.item_id > 0xFFFF for x in meta.locs):
        v = 2
    n = 8 if wide else 4
    base_n = n if meta.base_size else 0  # a file without bases keeps none: see the module docstring
    out = bytearray(bytes((v, 0, 0, 0)) + bytes(((n << 4) | n, (base_n << 4) | (meta.index_size if v else 0))))
    id_size = 2 if v < 2 else 4
    out += len(meta.locs).to_bytes(id_size, "big")
    for x in meta.locs:
        out += x.item_id.to_bytes(id_size, "big")
        if v:
            out += x.method.to_bytes(2, "big")
        out += x.dref.to_bytes(2, "big") + x.base.to_bytes(base_n, "big") + len(x.extents).to_bytes(2, "big")
        for idx, off, length in x.extents:
            out += idx.to_bytes(meta.index_size, "big") if v else b""
            out += off.to_bytes(n, "big") + length.to_bytes(n, "big")
    return bytes(out)


def _iinf(payload: bytes, add: int | None, drop: int | None) -> bytes:
    v = payload[0]
    n_size = 2 if v == 0 else 4
    entries = []
    for itype, _s, p, e in _boxes(payload, 4 + n_size, len(payload)):
        body = payload[p:e]
        if itype == b"infe" and drop is not None and body[0] >= 2:
            item = int.from_bytes(body[4:6] if body[0] == 2 else body[4:8], "big")
            if item == drop:
                continue
        entries.append(_box(itype, body))
    if add is not None:
        if add > 0xFFFF:
            body = bytes((3, 0, 0, 0)) + add.to_bytes(4, "big")
        else:
            body = bytes((2, 0, 0, 0)) + add.to_bytes(2, "big")
        entries.append(_box(b"infe", body + b"\x00\x00mime\x00" + XMP_MIME + b"\x00"))
    if n_size == 2 and len(entries) > 0xFFFF:
        raise UnsafeToEmbed("too many HEIF items")
    return payload[:4] + len(entries).to_bytes(n_size, "big") + b"".join(entries)


def _iref(payload: bytes | None, add_from: int | None, to: int, drop: int | None) -> bytes | None:
    v = payload[0] if payload else (1 if (add_from or 0) > 0xFFFF or to > 0xFFFF else 0)
    id_size = 2 if v == 0 else 4
    refs = []
    if payload:
        for rtype, _s, p, e in _boxes(payload, 4, len(payload)):
            body = payload[p:e]
            if drop is not None and int.from_bytes(body[:id_size], "big") == drop:
                continue
            refs.append(_box(rtype, body))
    if add_from is not None:
        if id_size == 2 and max(add_from, to) > 0xFFFF:
            raise UnsafeToEmbed("HEIF item id too large for the iref box")
        body = add_from.to_bytes(id_size, "big") + (1).to_bytes(2, "big") + to.to_bytes(id_size, "big")
        refs.append(_box(b"cdsc", body))
    if not refs:
        return None
    return bytes((v, 0, 0, 0)) + b"".join(refs)


def write(data: bytes, parts: Parts) -> bytes:
    (mstart, mend), meta = _layout(data)
    item = _xmp_item(meta)
    old = read(data).xmp
    if parts.xmp == old:
        return data
    top = _boxes(data, 0, len(data))
    body_end = len(data)
    old_loc = next((x for x in meta.locs if x.item_id == item), None) if item is not None else None
    # our own previous XMP mdat at the very end: drop it instead of leaving dead bytes
    last = top[-1]
    if (old_loc is not None and last[0] == b"mdat" and old_loc.method == 0 and len(old_loc.extents) == 1
            and old_loc.base + old_loc.extents[0][1] == last[2] and old_loc.extents[0][2] == last[3] - last[2]
            and not any(x is not old_loc and x.method == 0 and any(last[1] <= x.base + o < last[3]
                        for _, o, _ in x.extents) for x in meta.locs)):
        body_end = last[1]
    for x in meta.locs:
        if x.method != 0 or x.dref != 0 or x is old_loc:
            continue
        for _, off, _length in x.extents:
            if mstart <= x.base + off < mend:
                raise UnsafeToEmbed("unsupported HEIF layout (item data inside meta)")
    new_id = None
    drop = None
    if parts.xmp is None:
        drop = item
        meta.locs = [x for x in meta.locs if x.item_id != item]
    elif item is None:
        new_id = max([*meta.infe, *(x.item_id for x in meta.locs), 0]) + 1
        old_loc = _Loc(new_id, 0, 0, 0, [(0, 0, len(parts.xmp))])
        meta.locs.append(old_loc)
    originals = [(x, x.base, list(x.extents)) for x in meta.locs]

    def build(delta: int, xmp_at: int, wide: bool) -> bytes:
        for x, base, extents in originals:
            if x is old_loc and parts.xmp is not None:  # where libheif (and so exiv2) puts an item's offset
                at_base = xmp_at if meta.base_size else 0
                x.method, x.base, x.extents = 0, at_base, [(0, xmp_at - at_base, len(parts.xmp))]
                continue
            x.base, x.extents = base, extents
            if x.method != 0 or x.dref != 0:
                continue
            if base and base >= mend:
                x.base = base + delta
            elif not base:
                x.extents = [(i, o + delta if o >= mend else o, n) for i, o, n in extents]
        children = []
        has_iref = any(t == b"iref" for t, _ in meta.children)
        for t, payload in meta.children:
            if t == b"iloc":
                children.append(_box(t, _iloc(meta, wide)))
            elif t == b"iinf":
                children.append(_box(t, _iinf(payload, new_id, drop)))
            elif t == b"iref":
                ref = _iref(payload, new_id, meta.primary, drop)
                if ref is not None:
                    children.append(_box(t, ref))
            else:
                children.append(_box(t, payload))
            if t == b"iinf" and not has_iref and new_id is not None:
                ref = _iref(None, new_id, meta.primary, None)
                assert ref is not None
                children.append(_box(b"iref", ref))
        return _box(b"meta", meta.version_flags + b"".join(children))

    wide = body_end + 2 * (len(parts.xmp or b"") + 4096) > 0xFFFFFFFF
    new_meta = build(0, 0, wide)
    for _ in range(3):  # the offsets do not change the size (fixed field widths): settles at once
        delta = len(new_meta) - (mend - mstart)
        xmp_at = body_end + delta + 8
        new_meta = build(delta, xmp_at, wide)
    out = data[:mstart] + new_meta + data[mend:body_end]
    if parts.xmp is not None:
        assert len(out) + 8 == xmp_at
        out += _box(b"mdat", parts.xmp)
    return out
