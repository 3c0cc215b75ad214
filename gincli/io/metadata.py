"""Photo metadata carried from an input file to its output: EXIF (camera, date, GPS), the ICC
colour profile and XMP, between JPEG, PNG, WebP and TIFF files in any direction (and a PNG's
text). TIFF directories are read and written by ``tiff_tags``.

OpenCV decodes pixels and drops everything else, so an inpainted photo would lose its date
and, worse, its colour profile (a wide-gamut photo then changes colour in any colour-managed
viewer). This module reads those blocks from the input's bytes and splices them into the
encoded output's bytes, without touching pixels. The EXIF orientation is reset to 1 (upright)
because pixels are written upright: keeping the old tag would turn the picture twice.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, replace
from pathlib import Path

from gincli.io.dpx import MAGICS as DPX_MAGICS
from gincli.io.tiff_tags import (
    DESCRIPTIVE_TAGS,
    EXTRA_SAMPLES_TAG,
    ICC_TAG,
    PHOTOMETRIC_TAG,
    XMP_TAG,
    Tag,
    add_tags_to_tiff,
    byte_order,
    exif_block,
    first_directory,
    short_value,
    tag_value,
)

_EXIF_HEADER = b"Exif\x00\x00"
_XMP_HEADER = b"http://ns.adobe.com/xap/1.0/\x00"
_ICC_HEADER = b"ICC_PROFILE\x00"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_ICC_CHUNK = 65_519  # the most profile bytes one JPEG APP2 segment holds
_ORIENTATION = 0x0112


@dataclass(frozen=True)
class Metadata:
    exif: bytes | None = None  # a TIFF structure ("II*\0..." or "MM\0*...")
    icc: bytes | None = None  # the whole ICC profile
    xmp: bytes | None = None  # the XMP packet (XML)
    converted: str | None = None  # a stored form that is written back as RGB: "CMYK JPEG", "palette PNG"...
    png_text: tuple[tuple[bytes, bytes], ...] = ()  # a PNG's own text chunks (kind, payload), XMP aside
    palette: tuple[bytes, bytes] | None = None  # a palette PNG's PLTE and tRNS payloads (tRNS may be empty)
    premultiplied: bool = False  # a TIFF's associated alpha: its colour is stored premultiplied by it
    dpx: bytes | None = None  # a DPX file's bytes: its picture is written back over them, header and all

    def for_rgb_pixels(self) -> Metadata:
        """This metadata for RGB pixels: a CMYK file's profile describes inks, so it is left out."""
        return replace(self, icc=None) if self.converted and self.converted.startswith("CMYK") else self

    def __bool__(self) -> bool:
        return any((self.exif, self.icc, self.xmp, self.png_text, self.palette))


def _jpeg_segments(data: bytes) -> list[tuple[int, bytes]]:
    """(marker, payload) of every segment before the image data."""
    segments, i = [], 2
    while i + 4 <= len(data) and data[i] == 0xFF:
        marker = data[i + 1]
        if marker == 0xDA:  # start of scan: the image data follows
            break
        length = int.from_bytes(data[i + 2 : i + 4], "big")
        segments.append((marker, data[i + 4 : i + 2 + length]))
        i += 2 + length
    return segments


def _png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    chunks, i = [], len(PNG_SIGNATURE)
    while i + 8 <= len(data):
        length = int.from_bytes(data[i : i + 4], "big")
        kind = data[i + 4 : i + 8]
        chunks.append((kind, data[i + 8 : i + 8 + length]))
        if kind == b"IEND":
            break
        i += 12 + length
    return chunks


def read_metadata(data: bytes) -> Metadata:
    """The EXIF, ICC and XMP blocks of a JPEG, PNG, WebP or TIFF file's bytes (empty for other
    formats or for blocks that cannot be parsed: metadata never stops an image from being processed)."""
    try:
        if data[:2] == b"\xff\xd8":
            return _read_jpeg(data)
        if data[:8] == PNG_SIGNATURE:
            return _read_png(data)
        if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
            return _read_webp(data)
        if byte_order(data):
            return _read_tiff(data)
        if data[:4] in DPX_MAGICS:
            return Metadata(dpx=data)
    except (ValueError, IndexError, zlib.error, struct.error):
        pass
    return Metadata()


def _read_jpeg(data: bytes) -> Metadata:
    exif = xmp = converted = None
    icc_parts: dict[int, bytes] = {}
    for marker, payload in _jpeg_segments(data):
        if marker == 0xE1 and payload.startswith(_EXIF_HEADER):
            exif = payload[len(_EXIF_HEADER) :]
        elif marker == 0xE1 and payload.startswith(_XMP_HEADER):
            xmp = payload[len(_XMP_HEADER) :]
        elif marker == 0xE2 and payload.startswith(_ICC_HEADER):
            icc_parts[payload[len(_ICC_HEADER)]] = payload[len(_ICC_HEADER) + 2 :]  # sequence number, count
        elif 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC) and payload[5:6] == b"\x04":
            converted = "CMYK JPEG"  # four components in the frame header
    icc = b"".join(icc_parts[k] for k in sorted(icc_parts)) or None
    return Metadata(exif, icc, xmp, converted)


def _read_png(data: bytes) -> Metadata:
    exif = icc = xmp = None
    text, palette = [], {}
    for kind, payload in _png_chunks(data):
        if kind in (b"PLTE", b"tRNS"):
            palette[kind] = payload
        elif kind in (b"tEXt", b"zTXt") or (kind == b"iTXt" and not payload.startswith(b"XML:com.adobe.xmp\x00")):
            text.append((kind, payload))  # title, author, description, software...
        elif kind == b"eXIf":
            exif = payload
        elif kind == b"iCCP":
            name_end = payload.index(b"\x00")
            icc = zlib.decompress(payload[name_end + 2 :])
        elif kind == b"iTXt" and payload.startswith(b"XML:com.adobe.xmp\x00"):
            # keyword, 0, compression flag, method, language tag 0, translated keyword 0, text
            rest = payload[len(b"XML:com.adobe.xmp\x00") :]
            compressed, rest = rest[0], rest[2:]
            rest = rest[rest.index(b"\x00") + 1 :]
            rest = rest[rest.index(b"\x00") + 1 :]
            xmp = zlib.decompress(rest) if compressed else rest
    if data[25:26] != b"\x03" or b"PLTE" not in palette:  # IHDR colour type 3: indexed colour
        return Metadata(exif, icc, xmp, None, tuple(text))
    return Metadata(exif, icc, xmp, "palette PNG", tuple(text), (palette[b"PLTE"], palette.get(b"tRNS", b"")))


def _read_tiff(data: bytes) -> Metadata:
    tags = first_directory(data)
    converted = {3: "palette TIFF", 5: "CMYK TIFF"}.get(short_value(tags, PHOTOMETRIC_TAG) or 0)
    descriptive = [t for t in tags if t.tag in DESCRIPTIVE_TAGS]
    exif = exif_block(descriptive) if descriptive else None
    premultiplied = short_value(tags, EXTRA_SAMPLES_TAG) == 1
    return Metadata(exif, tag_value(tags, ICC_TAG), tag_value(tags, XMP_TAG), converted, premultiplied=premultiplied)


def _embed_tiff(encoded: bytes, exif: bytes | None, meta: Metadata) -> bytes:
    extra = [t for t in first_directory(exif) if t.tag in DESCRIPTIVE_TAGS] if exif else []
    extra += [Tag(ICC_TAG, 7, len(meta.icc), meta.icc)] if meta.icc else []
    extra += [Tag(XMP_TAG, 1, len(meta.xmp), meta.xmp)] if meta.xmp else []
    return add_tags_to_tiff(encoded, extra)


def _riff_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    chunks, i = [], 12
    while i + 8 <= len(data):
        kind, size = data[i : i + 4], int.from_bytes(data[i + 4 : i + 8], "little")
        chunks.append((kind, data[i + 8 : i + 8 + size]))
        i += 8 + size + (size & 1)  # chunks are padded to an even length
    return chunks


def _read_webp(data: bytes) -> Metadata:
    found = dict(_riff_chunks(data))
    exif = found.get(b"EXIF")
    if exif is not None and exif.startswith(_EXIF_HEADER):  # some writers keep the JPEG-style prefix
        exif = exif[len(_EXIF_HEADER) :]
    return Metadata(exif, found.get(b"ICCP"), found.get(b"XMP "))


def _riff_chunk(kind: bytes, payload: bytes) -> bytes:
    return kind + len(payload).to_bytes(4, "little") + payload + b"\x00" * (len(payload) & 1)


def _webp_canvas(kind: bytes, payload: bytes) -> tuple[int, int, bool]:
    """(width, height, has alpha) of a simple WebP's image chunk."""
    if kind == b"VP8L":  # signature 0x2f, then 14 bits width - 1, 14 bits height - 1, 1 bit alpha
        bits = int.from_bytes(payload[1:5], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1, bool(bits >> 28 & 1)
    # VP8: a 3-byte frame tag, the start code 9d 01 2a, then 14-bit width and height
    return int.from_bytes(payload[6:8], "little") & 0x3FFF, int.from_bytes(payload[8:10], "little") & 0x3FFF, False


def _embed_webp(encoded: bytes, exif: bytes | None, meta: Metadata) -> bytes:
    """The extended (VP8X) form: ICCP before the image, EXIF and XMP after it, flags set."""
    chunks = _riff_chunks(encoded)
    if chunks[0][0] == b"VP8X":
        header, body = bytearray(chunks[0][1]), chunks[1:]
    else:
        width, height, alpha = _webp_canvas(*chunks[0])
        header = bytearray(b"\x10" if alpha else b"\x00") + bytes(3)
        header += (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
        body = chunks
    header[0] |= (0x20 if meta.icc else 0) | (0x08 if exif else 0) | (0x04 if meta.xmp else 0)
    parts = [_riff_chunk(b"VP8X", bytes(header))]
    parts += [_riff_chunk(b"ICCP", meta.icc)] if meta.icc else []
    parts += [_riff_chunk(kind, payload) for kind, payload in body if kind not in (b"ICCP", b"EXIF", b"XMP ")]
    parts += [_riff_chunk(b"EXIF", exif)] if exif else []
    parts += [_riff_chunk(b"XMP ", meta.xmp)] if meta.xmp else []
    content = b"WEBP" + b"".join(parts)
    return b"RIFF" + len(content).to_bytes(4, "little") + content


def read_file_metadata(path: str | Path) -> Metadata:
    """:func:`read_metadata` of a file (empty if it cannot be read: the pixels decide errors)."""
    try:
        return read_metadata(Path(path).read_bytes())
    except OSError:
        return Metadata()


def upright_exif(exif: bytes) -> bytes:
    """The EXIF with its orientation tag set to 1 (pixels are written upright)."""
    order = {b"II": "<", b"MM": ">"}.get(exif[:2])
    if order is None or len(exif) < 8:
        return exif
    out = bytearray(exif)
    ifd = struct.unpack_from(order + "I", exif, 4)[0]
    if ifd + 2 > len(exif):
        return exif
    for n in range(struct.unpack_from(order + "H", exif, ifd)[0]):
        entry = ifd + 2 + 12 * n
        if entry + 12 > len(exif):
            break
        tag, kind = struct.unpack_from(order + "HH", exif, entry)
        if tag == _ORIENTATION and kind == 3:  # SHORT, stored in the entry itself
            struct.pack_into(order + "H", out, entry + 8, 1)
    return bytes(out)


def _segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + (len(payload) + 2).to_bytes(2, "big") + payload


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(kind + payload).to_bytes(4, "big")
    return len(payload).to_bytes(4, "big") + kind + payload + crc


def embed_metadata(encoded: bytes, meta: Metadata) -> bytes:
    """``encoded`` (a JPEG, PNG, WebP or TIFF file's bytes, as OpenCV writes them) with ``meta``
    added; other formats (BMP) are returned unchanged."""
    if not meta:
        return encoded
    exif = upright_exif(meta.exif) if meta.exif else None
    if encoded[:2] == b"\xff\xd8":
        blocks = []
        if exif and len(exif) + len(_EXIF_HEADER) <= 65_533:
            blocks.append(_segment(0xE1, _EXIF_HEADER + exif))
        if meta.xmp and len(meta.xmp) + len(_XMP_HEADER) <= 65_533:
            blocks.append(_segment(0xE1, _XMP_HEADER + meta.xmp))
        if meta.icc:
            parts = [meta.icc[i : i + _ICC_CHUNK] for i in range(0, len(meta.icc), _ICC_CHUNK)]
            blocks += [_segment(0xE2, _ICC_HEADER + bytes([k + 1, len(parts)]) + p) for k, p in enumerate(parts)]
        # after SOI and, when present, the JFIF APP0 segment (which must come first)
        at = 2 + (2 + int.from_bytes(encoded[4:6], "big") if encoded[2:4] == b"\xff\xe0" else 0)
        return encoded[:at] + b"".join(blocks) + encoded[at:]
    if encoded[:8] == PNG_SIGNATURE:
        chunks = []
        if meta.icc:  # iCCP must precede the image data; it and sRGB are exclusive, OpenCV writes neither
            chunks.append(png_chunk(b"iCCP", b"icc\x00\x00" + zlib.compress(meta.icc)))
        if exif:
            chunks.append(png_chunk(b"eXIf", exif))
        if meta.xmp:
            chunks.append(png_chunk(b"iTXt", b"XML:com.adobe.xmp\x00\x00\x00\x00\x00" + meta.xmp))
        chunks += [png_chunk(kind, payload) for kind, payload in meta.png_text]
        at = len(PNG_SIGNATURE) + 12 + int.from_bytes(encoded[8:12], "big")  # after IHDR
        return encoded[:at] + b"".join(chunks) + encoded[at:]
    if encoded[:4] == b"RIFF" and encoded[8:12] == b"WEBP" and (exif or meta.icc or meta.xmp):
        return _embed_webp(encoded, exif, meta)
    if byte_order(encoded) and (exif or meta.icc or meta.xmp):
        return _embed_tiff(encoded, exif, meta)
    return encoded
