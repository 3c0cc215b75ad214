"""DPX (SMPTE 268M) film scans: read to pixels, and written back over their own file.

A scanner's DPX holds one RGB picture, 10 bits a sample packed three to a 32-bit word
(or 8, 12 or 16 bits), after a header that carries what a film lab needs: the frame's time code,
its film edge code, the scanner and the film's transfer. OpenCV reads no DPX. gin reads
these and writes a picture back *over its source file's bytes*: every header byte, and every
sample outside the holes, comes out as it came in. Other kinds of DPX (several elements,
alpha, packing without filling, run-length coding, a flipped picture) are refused with
their reason.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

MAGICS = {b"SDPX": ">", b"XPDS": "<"}  # the byte order the magic number is written in
_RGB = 50  # image element descriptor: R, G, B
_FILLED = 1  # packing: samples filled to 32-bit words (method A)
# a sample of fewer bits v stands for its 16-bit spread, as swscale spreads it: v << (16 - bits) | v >> ...
_SPREAD = {10: 6, 12: 4}
_TIME_CODE = 1920  # the television header's SMPTE time code: hours, minutes, seconds, frames in BCD


class DpxError(ValueError):
    """A DPX file gin cannot read or write; the message says what it is."""


@dataclass(frozen=True)
class DpxLayout:
    """Where and how a DPX file stores its picture."""

    order: str  # "<" or ">"
    width: int
    height: int
    bits: int  # 8, 10, 12 or 16
    offset: int  # of the image data
    line_bytes: int  # one line's bytes, end-of-line padding included

    @property
    def size(self) -> int:
        return self.line_bytes * self.height


def dpx_layout(data: bytes) -> DpxLayout:
    """The picture's layout in the DPX file ``data``; DpxError for a kind gin does not take."""
    order = MAGICS.get(data[:4])
    if order is None or len(data) < 820:
        raise DpxError("not a DPX file (no SDPX magic number)")
    offset = struct.unpack_from(order + "I", data, 4)[0]
    orientation, elements, width, height = struct.unpack_from(order + "HHII", data, 768)
    descriptor, bits = data[800], data[803]
    packing, encoding = struct.unpack_from(order + "HH", data, 804)
    element_offset, line_padding = struct.unpack_from(order + "II", data, 808)
    kind = f"{elements} elements, descriptor {descriptor}, {bits} bits, packing {packing}, encoding {encoding}"
    if elements != 1 or descriptor != _RGB or encoding != 0 or orientation != 0 or bits not in (8, 10, 12, 16):
        raise DpxError(f"a DPX gin cannot take ({kind}, orientation {orientation}): it takes one RGB picture "
                       "of 8, 10, 12 or 16 bits, uncompressed, stored top line first")  # fmt: skip
    if bits in _SPREAD and packing != _FILLED:
        raise DpxError(f"{bits}-bit DPX packed without filling to words (packing {packing}): gin takes packing 1")
    offset = element_offset or offset
    words = {8: -(-3 * width // 4), 10: width, 12: -(-3 * width // 2), 16: -(-3 * width // 2)}[bits]  # a line's
    line_bytes = 4 * words + (line_padding if line_padding != 0xFFFFFFFF else 0)
    layout = DpxLayout(order, width, height, bits, offset, line_bytes)
    if width == 0 or height == 0 or offset + layout.size > len(data):
        raise DpxError(f"truncated: {width} x {height} needs {offset + layout.size} bytes, the file has {len(data)}")
    return layout


def dpx_time_code(data: bytes) -> str | None:
    """The scan's SMPTE time code, "HH:MM:SS:FF", as its header records it; None where it
    records none (all ones) or no valid one."""
    order = MAGICS.get(data[:4])
    if order is None or len(data) < _TIME_CODE + 4:
        return None
    digits = f"{struct.unpack_from(order + 'I', data, _TIME_CODE)[0]:08x}"
    if not digits.isdigit():
        return None
    return ":".join(digits[i : i + 2] for i in range(0, 8, 2))


def read_dpx(data: bytes) -> np.ndarray:
    """The picture of a DPX file: H x W x 3 RGB, uint8 for 8 bits, else uint16 (10- and 12-bit
    samples spread over 16 bits, v << 6 | v >> 4 for 10, as gin holds every deep picture)."""
    layout = dpx_layout(data)
    raw = np.frombuffer(data, np.uint8, layout.size, layout.offset).reshape(layout.height, layout.line_bytes)
    if layout.bits == 8:
        return raw[:, : 3 * layout.width].reshape(layout.height, layout.width, 3).copy()
    if layout.bits in (12, 16):  # a sample a 16-bit word; 12 bits in its top bits
        samples = raw[:, : 6 * layout.width].copy().view(layout.order + "u2").astype(np.uint16)
        samples = samples.reshape(layout.height, layout.width, 3)
        return samples if layout.bits == 16 else _spread(samples >> 4, 12)
    words = raw[:, : 4 * layout.width].copy().view(layout.order + "u4").astype(np.uint32)
    return _spread(np.stack([(words >> shift) & 0x3FF for shift in (22, 12, 2)], axis=-1).astype(np.uint16), 10)


def _spread(samples: np.ndarray, bits: int) -> np.ndarray:
    return samples << _SPREAD[bits] | samples >> (bits - _SPREAD[bits])


def write_dpx(image: np.ndarray, source: bytes) -> bytes:
    """``source`` (a DPX file's bytes) with its picture replaced by ``image`` (H x W x 3, its
    size, uint8 or uint16), stored in the source's own depth and packing: every other byte,
    header and padding, is the source's, and samples that :func:`read_dpx` read come back
    the same."""
    layout = dpx_layout(source)
    if image.shape != (layout.height, layout.width, 3):
        raise DpxError(f"a {layout.width} x {layout.height} RGB picture goes into this DPX, not {image.shape}")
    wide = image.astype(np.uint32) * 257 if image.dtype == np.uint8 else image.astype(np.uint32)
    if layout.bits == 8:
        packed = ((wide * 255 + 32767) // 65535).astype(np.uint8).reshape(layout.height, -1)
    elif layout.bits in (12, 16):
        samples = wide if layout.bits == 16 else (wide * 4095 + 32767) // 65535 << 4  # the nearest 12-bit step
        packed = samples.astype(layout.order + "u2").view(np.uint8).reshape(layout.height, -1)
    else:
        ten = (wide * 1023 + 32767) // 65535  # to the nearest 10-bit step: v << 6 | v >> 4 goes back to v
        words = ten[..., 0] << 22 | ten[..., 1] << 12 | ten[..., 2] << 2
        packed = words.astype(layout.order + "u4").view(np.uint8).reshape(layout.height, -1)
    out = bytearray(source)
    lines = np.frombuffer(out, np.uint8, layout.size, layout.offset).reshape(layout.height, layout.line_bytes)
    lines[:, : packed.shape[1]] = packed
    return bytes(out)
