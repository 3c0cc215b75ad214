"""TIFF tag directories (IFDs) read and written: the structure both TIFF files and EXIF
blocks are made of. Used to carry EXIF, ICC and XMP into and out of TIFF files.

A TIFF keeps its photo metadata as tags of its first directory (camera, date, orientation,
pointers to the EXIF and GPS sub-directories, the ICC profile, the XMP packet), beside the
tags that describe the pixels (size, compression, strip offsets). Moving metadata between a
TIFF and an EXIF block therefore means copying the descriptive tags with their
sub-directories to new offsets. Values are kept as bytes; every directory is written
little-endian, so big-endian sources have their values swapped element by element.
Offsets inside a maker note (a camera's private block) are not rewritten; most readers
locate maker-note data relative to the note itself.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

# bytes per element of each TIFF field type; rationals swap as two 4-byte integers
_TYPE_SIZE = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4}
_SWAP_SIZE = {5: 4, 10: 4}
_SUB_DIRECTORIES = (34665, 34853, 40965)  # EXIF, GPS, interoperability
XMP_TAG, ICC_TAG, ORIENTATION_TAG, PHOTOMETRIC_TAG = 700, 34675, 274, 262
SAMPLES_PER_PIXEL_TAG, EXTRA_SAMPLES_TAG = 277, 338
# first-directory tags that describe the photo, not its pixel layout: what an EXIF block holds
DESCRIPTIVE_TAGS = frozenset({
    269, 270, 271, 272, 274, 282, 283, 285, 296, 305, 306, 315, 316, 318, 319, 33432,
    18246, 18249, 40091, 40092, 40093, 40094, 40095, *_SUB_DIRECTORIES,
})  # fmt: skip


@dataclass(frozen=True)
class Tag:
    tag: int
    kind: int
    count: int
    value: bytes  # little-endian; empty for a sub-directory
    directory: tuple[Tag, ...] | None = None  # the entries a sub-directory pointer leads to


def alpha_tag(premultiplied: bool) -> Tag:
    """ExtraSamples naming the channel after the colour ones alpha: associated (the colour
    premultiplied by it, 1) or unassociated (2)."""
    return Tag(EXTRA_SAMPLES_TAG, 3, 1, (1 if premultiplied else 2).to_bytes(2, "little"))


def byte_order(data: bytes) -> str | None:
    """'<' or '>' for a classic TIFF structure (a TIFF file or an EXIF block), else None."""
    if data[:4] == b"II*\x00":
        return "<"
    if data[:4] == b"MM\x00*":
        return ">"
    return None


def _little_endian(raw: bytes, kind: int, order: str) -> bytes:
    size = _SWAP_SIZE.get(kind, _TYPE_SIZE[kind])
    if order == "<" or size == 1:
        return raw
    return b"".join(raw[i : i + size][::-1] for i in range(0, len(raw), size))


def read_directory(data: bytes, order: str, offset: int, depth: int = 0) -> tuple[Tag, ...]:
    """The entries of the directory at ``offset``, sub-directories read into ``Tag.directory``.
    Entries of unknown types or pointing outside the data are left out."""
    (count,) = struct.unpack_from(order + "H", data, offset)
    tags = []
    for n in range(count):
        at = offset + 2 + 12 * n
        tag, kind, elements = struct.unpack_from(order + "HHI", data, at)
        if kind not in _TYPE_SIZE:
            continue
        length = _TYPE_SIZE[kind] * elements
        start = at + 8 if length <= 4 else struct.unpack_from(order + "I", data, at + 8)[0]
        raw = data[start : start + length]
        if len(raw) < length:
            continue
        if tag in _SUB_DIRECTORIES and depth < 2 and kind in (4, 13) and elements == 1:
            child_at = struct.unpack_from(order + "I", raw)[0]
            if child_at + 2 <= len(data):
                tags.append(Tag(tag, 4, 1, b"", read_directory(data, order, child_at, depth + 1)))
            continue
        tags.append(Tag(tag, kind, elements, _little_endian(raw, kind, order)))
    return tuple(tags)


def first_directory(data: bytes) -> tuple[Tag, ...]:
    """The first directory of a TIFF file or EXIF block (empty if ``data`` is neither)."""
    order = byte_order(data)
    if order is None or len(data) < 8:
        return ()
    return read_directory(data, order, struct.unpack_from(order + "I", data, 4)[0])


SUBFILE_TYPE_TAG = 254  # NewSubfileType: bit 0 a reduced-resolution copy, bit 2 a transparency mask
MOST_DIRECTORIES = 100_000  # a chain longer than this (or one that loops) is damaged: counting stops


def full_size_pages(data: bytes) -> int:
    """The pages of a TIFF file: directories in its main chain that are not a reduced-resolution
    copy (a preview) or a transparency mask of another (NewSubfileType bits 0 and 2)."""
    order = byte_order(data)
    if order is None or len(data) < 8:
        return 0
    pages, seen = 0, set()
    (offset,) = struct.unpack_from(order + "I", data, 4)
    while 8 <= offset <= len(data) - 2 and offset not in seen and len(seen) < MOST_DIRECTORIES:
        seen.add(offset)
        kind = short_value(read_directory(data, order, offset), SUBFILE_TYPE_TAG) or 0
        pages += not kind & 0b101
        (count,) = struct.unpack_from(order + "H", data, offset)
        next_at = offset + 2 + 12 * count
        if next_at + 4 > len(data):
            break
        (offset,) = struct.unpack_from(order + "I", data, next_at)
    return pages


def write_directory(tags: tuple[Tag, ...] | list[Tag], at: int) -> bytes:
    """The bytes of a little-endian directory that will sit at file offset ``at`` (even),
    followed by its out-of-line values and sub-directories; no next directory."""
    tags = sorted(tags, key=lambda t: t.tag)  # TIFF requires ascending tag order
    table = struct.pack("<H", len(tags))
    heap = bytearray()
    heap_at = at + 2 + 12 * len(tags) + 4
    for t in tags:
        if len(heap) % 2:
            heap += b"\x00"  # values start on word boundaries
        if t.directory is not None:
            table += struct.pack("<HHII", t.tag, 4, 1, heap_at + len(heap))
            heap += write_directory(t.directory, heap_at + len(heap))
        elif len(t.value) <= 4:
            table += struct.pack("<HHI", t.tag, t.kind, t.count) + t.value.ljust(4, b"\x00")
        else:
            table += struct.pack("<HHII", t.tag, t.kind, t.count, heap_at + len(heap))
            heap += t.value
    return table + struct.pack("<I", 0) + bytes(heap)


def exif_block(tags: tuple[Tag, ...] | list[Tag]) -> bytes:
    """A standalone EXIF block (a little-endian TIFF structure) holding ``tags``."""
    return b"II*\x00" + struct.pack("<I", 8) + write_directory(tags, 8)


def tag_value(tags: tuple[Tag, ...], tag: int) -> bytes | None:
    return next((t.value for t in tags if t.tag == tag and t.directory is None), None)


def short_value(tags: tuple[Tag, ...], tag: int) -> int | None:
    """The first element of a SHORT or LONG tag."""
    for t in tags:
        if t.tag == tag and t.kind in (3, 4) and t.value:
            return struct.unpack_from("<H" if t.kind == 3 else "<I", t.value)[0]
    return None


def add_tags_to_tiff(tiff: bytes, extra: list[Tag]) -> bytes:
    """``tiff`` (a file as OpenCV writes it: one directory) with ``extra`` tags added to its
    first directory; its own tags win where both have one. The pixel data stays where it
    is; the enlarged directory is appended and the header pointed at it."""
    own = first_directory(tiff)
    if not own or byte_order(tiff) != "<":
        return tiff
    have = {t.tag for t in own}
    merged = list(own) + [t for t in extra if t.tag not in have]
    at = len(tiff) + len(tiff) % 2
    body = tiff + b"\x00" * (at - len(tiff)) + write_directory(merged, at)
    return body[:4] + struct.pack("<I", at) + body[8:]
