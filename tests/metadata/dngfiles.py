"""DNG test files: laid out as Adobe's DNG Converter and Lightroom leave them (IFD0 first, a small
RGB thumbnail there, the raw CFA image in a SubIFD, EXIF with a maker note, DNGPrivateData, XMP with
a person's keywords and develop settings), and tiffmaker's minimal one (IFD0 last, the raw in IFD0).
LibRaw decodes both as genuine RAW files."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from tests.imageio.tiffmaker import (
    ASCII,
    BYTE,
    LONG,
    RATIONAL,
    SHORT,
    SRATIONAL,
    UNDEFINED,
    Entries,
    TiffBuilder,
    bayer_from_rgb,
    write_dng,
)

# a Nikon type-3 maker note: its own TIFF header and an IFD with MakerNoteVersion "0210"
MAKERNOTE = b"Nikon\x00\x02\x10\x00\x00MM\x00*\x00\x00\x00\x08\x00\x01\x00\x01\x00\x07\x00\x00\x00\x040210\x00\x00\x00\x00"
LIGHTROOM_XMP = """<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="Adobe XMP Core 7.0-c000 1.000000, 0000/00/00-00:00:00">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:lr="http://ns.adobe.com/lightroom/1.0/"
    xmlns:crs="http://ns.adobe.com/camera-raw-settings/1.0/"
   xmp:Rating="4"
   crs:Version="15.0"
   crs:Exposure2012="+0.50"
   crs:WhiteBalance="As Shot">
   <dc:subject><rdf:Bag><rdf:li>Anna</rdf:li><rdf:li>holiday</rdf:li></rdf:Bag></dc:subject>
   <lr:hierarchicalSubject><rdf:Bag><rdf:li>people|Anna</rdf:li></rdf:Bag></lr:hierarchicalSubject>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>"""


def scene(width: int = 64, height: int = 48) -> np.ndarray:
    """Left half red, right half green (linear 0..1): what the sensor saw."""
    out = np.zeros((height, width, 3))
    out[:, : width // 2] = (0.8, 0.05, 0.05)
    out[:, width // 2 :] = (0.05, 0.6, 0.05)
    return out


def minimal_dng(path: Path) -> Path:
    """tiffmaker's DNG: the raw image in IFD0, which is the last thing in the file."""
    return write_dng(path, scene(), captured_at="2024:05:06 07:08:09")


def adobe_dng(path: Path, *, xmp: str | None = LIGHTROOM_XMP, order: str = "<") -> Path:
    """A DNG as DNG Converter writes one: IFD0 right after the header, holding a thumbnail, then the
    raw image (SubIFD), the EXIF IFD with a maker note, and the thumbnail's pixels after IFD0."""
    rgb = scene()
    height, width, _ = rgb.shape
    raw = bayer_from_rgb(rgb).astype(f"{order}u2").tobytes()
    thumb = np.zeros((12, 16, 3), np.uint8)
    thumb[:, :8] = (200, 20, 20)
    thumb[:, 8:] = (20, 160, 20)
    thumb_bytes = thumb.tobytes()

    def ifd0_entries(sub_ifd: int, exif_ifd: int, thumb_at: int) -> Entries:
        entries: Entries = {
            254: (LONG, [1]),  # a reduced-size image: the thumbnail
            256: (LONG, [16]),
            257: (LONG, [12]),
            258: (SHORT, [8, 8, 8]),
            259: (SHORT, [1]),
            262: (SHORT, [2]),
            271: (ASCII, "Testcam"),
            272: (ASCII, "Testcam Pro"),
            273: (LONG, [thumb_at]),
            274: (SHORT, [1]),
            277: (SHORT, [3]),
            278: (LONG, [12]),
            279: (LONG, [len(thumb_bytes)]),
            284: (SHORT, [1]),
            305: (ASCII, "Adobe DNG Converter 16.0"),
            330: (LONG, [sub_ifd]),
            34665: (LONG, [exif_ifd]),
            50706: (BYTE, [1, 4, 0, 0]),
            50707: (BYTE, [1, 1, 0, 0]),
            50708: (ASCII, "Testcam Pro"),
            50721: (SRATIONAL, [(round(v * 10000), 10000) for v in (3.2406, -1.5372, -0.4986, -0.9689,
                                                                       1.8758, 0.0415, 0.0557, -0.2040, 1.0570)]),
            50728: (RATIONAL, [(1, 1), (1, 1), (1, 1)]),
            50740: (BYTE, b"Adobe\x00MakN" + struct.pack(">I", len(MAKERNOTE) + 6) + b"MM"
                    + struct.pack(">I", 1234) + MAKERNOTE),  # DNGPrivateData: the original maker note
            50778: (SHORT, [21]),
        }
        if xmp is not None:
            entries[700] = (BYTE, xmp.encode("utf-8"))
        return entries

    # IFD0's size does not depend on its offsets' values: a trial tells where what follows it starts
    trial = TiffBuilder(order)
    trial.ifd(ifd0_entries(0, 0, 0))
    tiff = TiffBuilder(order)
    tiff.buf += bytes(len(trial.buf) - 8)
    raw_at = tiff.blob(raw)
    sub_ifd = tiff.ifd({
        254: (LONG, [0]),
        256: (LONG, [width]),
        257: (LONG, [height]),
        258: (SHORT, [16]),
        259: (SHORT, [1]),
        262: (SHORT, [32803]),
        273: (LONG, [raw_at]),
        277: (SHORT, [1]),
        278: (LONG, [height]),
        279: (LONG, [len(raw)]),
        284: (SHORT, [1]),
        33421: (SHORT, [2, 2]),
        33422: (BYTE, [0, 1, 1, 2]),
        50714: (LONG, [0]),
        50717: (LONG, [4095]),
    })
    exif_ifd = tiff.ifd({36867: (ASCII, "2024:05:06 07:08:09"), 37500: (UNDEFINED, MAKERNOTE)})
    thumb_at = tiff.blob(thumb_bytes)
    head = TiffBuilder(order)
    assert head.ifd(ifd0_entries(sub_ifd, exif_ifd, thumb_at)) == 8
    assert len(head.buf) == len(trial.buf)
    tiff.buf[8 : len(head.buf)] = head.buf[8:]
    return tiff.save(path, 8)
