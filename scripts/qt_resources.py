"""Read the files out of a compiled Qt resource bundle (``.rcc``), with no Qt installed.

The format (Qt's ``rcc``): a 20-byte header (``qres``, version, then the offsets of
the tree, the data and the names), a tree of fixed-size nodes (22 bytes from
version 2 on: name offset, flags, then either child count + first child or
locale + data offset, then a modification time), names as UTF-16BE with a length
and a hash, and data blobs each preceded by its length; flag 1 marks a blob
compressed with ``qCompress`` (a 4-byte uncompressed length, then zlib).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator

COMPRESSED, DIRECTORY, COMPRESSED_ZSTD = 1, 2, 4


def rcc_files(blob: bytes) -> Iterator[tuple[str, bytes]]:
    """Yield (path inside the bundle, file bytes) for every file of a ``.rcc`` bundle."""
    if blob[:4] != b"qres":
        raise ValueError("not a Qt resource bundle (no 'qres' magic)")
    version, tree, data, names = struct.unpack(">IIII", blob[4:20])
    node_size = 22 if version >= 2 else 14

    def name_at(offset: int) -> str:
        (length,) = struct.unpack_from(">H", blob, names + offset)
        start = names + offset + 6  # length (2) + hash (4)
        return blob[start : start + 2 * length].decode("utf-16-be")

    stack = [(0, "")]
    while stack:
        index, parent = stack.pop()
        node = tree + index * node_size
        name_offset, flags = struct.unpack_from(">IH", blob, node)
        path = f"{parent}/{name_at(name_offset)}" if index else ""
        if flags & DIRECTORY:
            count, first = struct.unpack_from(">II", blob, node + 6)
            stack.extend((child, path) for child in range(first, first + count))
            continue
        (offset,) = struct.unpack_from(">I", blob, node + 10)
        (size,) = struct.unpack_from(">I", blob, data + offset)
        payload = blob[data + offset + 4 : data + offset + 4 + size]
        if flags & COMPRESSED_ZSTD:
            raise ValueError(f"{path}: zstd-compressed resources are not supported")
        if flags & COMPRESSED:
            payload = zlib.decompress(payload[4:])
        yield path, payload
