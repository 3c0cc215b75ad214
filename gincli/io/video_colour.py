"""A video's colour: how its YUV samples map to the RGB frames gin works on, and back.

A frame is converted to RGB by its own matrix (BT.601, BT.709, BT.2020 ...) and range, and the
output is encoded by the input's and tagged with it. Before, a clip tagged BT.709 was read as
BT.709 and written as BT.601, tagged as nothing: 3.2 levels of 255 darker in luma, its chroma
shifted, every pass.

Frames are read exactly (:func:`to_rgb`): an 8-bit 4:2:0 frame by OpenCV from its samples,
every other planar YUV format (4:2:2, 4:4:4, 10-bit ...) by its standard's matrix
(:mod:`gincli.io.yuv_planes`), anything else by swscale's accurate path (``ACCURATE_RND |
FULL_CHR_H_INT``). FFmpeg's default
conversion (swscale's fast path) reads the picture 0.8-1.4 levels of 255 darker than it is, with
a jitter of 0.6 a pixel: read so, every fill and every frame written to a folder carried that
offset. At 720p (``benchmarks/video_colour.py``) the fast path took 0.7-1.4 ms a frame, OpenCV
1.8-2.1 ms for BT.601 and 3.6-4.1 ms for BT.709, swscale's accurate path 5.0-6.2 ms.

A planar YUV input (nearly every camera's, scanner's and distributor's file, 4:2:0, 4:2:2 or
4:4:4, 8 to 16 bits) goes further: where the encoder writes its format, it takes its samples as
they were decoded wherever the job left the picture alone, and converts only the holes' pixels
back from RGB (:func:`with_holes_filled`). Outside the holes nothing passes through RGB at all,
so nothing is lost there to a conversion: not a rounding, and not a colour outside RGB's cube
(a saturated 10-bit colour, clipped in RGB, came back up to 64 codes off).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gincli.core.imagemath import connected_components, from_unit_float, to_unit_float
from gincli.core.lazy import cv2
from gincli.io.yuv_planes import (
    FULL_RANGE,
    LAYOUTS,
    Layout,
    format_name,
    frame_from_planes,
    frame_planes,
    planes_to_rgb,
    rgb_to_planes,
)

UNSPECIFIED = 2  # FFmpeg's code for an unspecified matrix, primaries or transfer (AVCOL_SPC_UNSPECIFIED ...)
# matrices that OpenCV's YUV 4:2:0 conversions use (BT.601, limited range): unspecified is
# BT.601 to FFmpeg as well; BT470BG and SMPTE170M are BT.601's two names
_BT601 = (UNSPECIFIED, 5, 6)
# FFmpeg's matrix codes (AVColorSpace) that swscale converts by -> its own (SWS_CS_*): BT.709,
# FCC, BT.601 (two names), SMPTE 240M, BT.2020 (two); unspecified is BT.601 to both
_SWSCALE_MATRIX = {1: 1, 4: 4, 5: 5, 6: 5, 7: 7, 9: 9, 10: 9, UNSPECIFIED: 5}
# the 8-bit 4:2:0 formats OpenCV's conversion reads as one I420 buffer (the J one is full range,
# and tagged so: Colour.range)
_PLANAR_420 = ("yuv420p", "yuvj420p")
# what a 16-bit RGB image is encoded from by a lossless codec: 16 bits a channel, planar (G, B, R)
DEEP_RGB = "gbrp16le"


@dataclass(frozen=True)
class Colour:
    """A stream's colour description, in FFmpeg's codes: matrix (AVColorSpace), range
    (AVColorRange: 0 unspecified, 1 limited, 2 full), primaries and transfer. Unspecified
    throughout for a folder of frames."""

    matrix: int = UNSPECIFIED
    range: int = 0
    primaries: int = UNSPECIFIED
    transfer: int = UNSPECIFIED

    @classmethod
    def of(cls, codec_context: object) -> Colour:
        """A decoder's description (its stream's codec context)."""
        read = lambda name, default: int(getattr(codec_context, name, default) or default)  # noqa: E731
        matrix = read("colorspace", UNSPECIFIED)
        if matrix not in _SWSCALE_MATRIX:  # RGB or YCgCo samples: read as FFmpeg reads them, written as BT.601
            return cls()
        # the J formats (JPEG's, MJPEG's) hold full-range samples whatever the stream's tag says
        full = str(getattr(codec_context, "pix_fmt", None) or "").startswith("yuvj")
        colour_range = FULL_RANGE if full else read("color_range", 0)
        return cls(matrix, colour_range, read("color_primaries", UNSPECIFIED), read("color_trc", UNSPECIFIED))

    def tag(self, codec_context: object) -> None:
        """Write this description into an encoder's stream (the output carries the input's)."""
        codec_context.colorspace, codec_context.color_range = self.matrix, self.range
        codec_context.color_primaries, codec_context.color_trc = self.primaries, self.transfer

    def opencv_converts(self, pix_fmt: str, width: int, height: int) -> bool:
        """Whether OpenCV's conversion (BT.601, limited range, 4:2:0, even sizes) is this one:
        0.7 ms of CPU at 720p against swscale's 3.2-3.8."""
        return pix_fmt == "yuv420p" and self.matrix in _BT601 and self.range != FULL_RANGE and not (width | height) % 2


def accurate_conversion() -> object:
    """swscale's accurate path, as ``interpolation`` of a PyAV reformat: rounded to nearest,
    chroma interpolated at every pixel."""
    from av.video.reformatter import Interpolation

    return Interpolation.BILINEAR | Interpolation.ACCURATE_RND | Interpolation.FULL_CHR_H_INT


def from_rgb(image: np.ndarray, pix_fmt: str, colour: Colour) -> object:
    """An RGB image (uint8, or uint16 for deep footage) as a frame in the encoder's ``pix_fmt``,
    by ``colour``'s matrix and range (RGB formats: as it is, the encoder only reorders the
    channels). 8-bit 4:2:0 from an 8-bit image by OpenCV (BT.601, limited range) or swscale;
    every other planar YUV format by :func:`rgb_to_planes`, which swscale's 16-bit paths are not."""
    import av

    height, width = image.shape[:2]
    if pix_fmt == DEEP_RGB:
        deep = image if image.dtype == np.uint16 else image.astype(np.uint16) * 257
        return frame_from_planes((deep[..., 1], deep[..., 2], deep[..., 0]), pix_fmt)
    if not pix_fmt.startswith("yuv"):
        eight_bit = image if image.dtype == np.uint8 else from_unit_float(to_unit_float(image), np.uint8)
        return av.VideoFrame.from_ndarray(np.ascontiguousarray(eight_bit), format="rgb24")
    if image.dtype != np.uint8 or pix_fmt != "yuv420p":
        frame = frame_from_planes(rgb_to_planes(image, LAYOUTS[pix_fmt], colour), pix_fmt)
    elif colour.opencv_converts(pix_fmt, width, height):
        frame = av.VideoFrame.from_ndarray(cv2.cvtColor(image, cv2.COLOR_RGB2YUV_I420), format="yuv420p")
    else:
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24").reformat(
            format=pix_fmt, dst_colorspace=_SWSCALE_MATRIX[colour.matrix], dst_color_range=colour.range,
            interpolation=accurate_conversion(), threads=1,
        )  # fmt: skip
    frame.colorspace, frame.color_range = colour.matrix, colour.range
    return frame


def to_rgb(frame: object, colour: Colour, planes: tuple[np.ndarray, ...] | None = None) -> np.ndarray:
    """A decoded frame as RGB (H x W x 3: uint8, or uint16 from samples deeper than 8 bits),
    converted exactly by ``colour``'s matrix and range (its stream's). 8-bit 4:2:0 at an even
    size by OpenCV where it is BT.601 in limited range; every other planar YUV format by its
    matrix (:func:`planes_to_rgb`, from ``planes`` where the caller already took them out; at
    8-bit 4:2:0 a third faster than swscale's accurate path at 720p); anything else (RGB,
    paletted) by swscale's accurate path. Chroma is read at its nearest sample where swscale
    interpolates it: 0.04-0.05 levels of 255 apart on average."""
    layout = LAYOUTS.get(frame.format.name)
    if layout is None:
        return frame.to_ndarray(format="rgb24", interpolation=accurate_conversion())
    if _even_420(frame) and colour.opencv_converts(frame.format.name, frame.width, frame.height):
        return cv2.cvtColor(frame.to_ndarray(), cv2.COLOR_YUV2RGB_I420)  # OpenCV reads the I420 buffer whole
    return planes_to_rgb(planes or decoded_samples(frame), layout, colour)


def i420_planes(samples: np.ndarray, height: int, width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The Y, U and V planes (H x W, then H / 2 x W / 2 each) of I420 samples, as views: U and V
    follow the Y plane one after the other, each a quarter of its size, which is whole rows of
    W only where H is a multiple of 4 (not at 480 x 270)."""
    flat, size = samples.reshape(-1), (height // 2) * (width // 2)
    chroma = (
        flat[first : first + size].reshape(height // 2, width // 2) for first in (height * width, height * width + size)
    )
    return (samples[:height], *chroma)


def decoded_samples(frame: object) -> tuple[np.ndarray, ...]:
    """A planar YUV frame's Y, U and V planes (copies: the decoder reuses its buffers); 8-bit
    4:2:0 at an even size as views of one I420 copy, PyAV's own fast path."""
    if _even_420(frame):
        return i420_planes(frame.to_ndarray(), frame.height, frame.width)
    return frame_planes(frame)


def decoded_planes(frame: object, colour: Colour) -> tuple[np.ndarray, ...] | None:
    """A decoded frame's samples as an encoder of its format may take them as they are (Y, U
    and V planes), where it is planar YUV (any subsampling and depth of :data:`LAYOUTS`) and
    ``colour`` (its stream's, which the output is tagged with) describes them; else None (it is
    encoded from RGB)."""
    if frame.format.name not in LAYOUTS:
        return None
    if frame.format.name.startswith("yuvj") and colour.range != FULL_RANGE:
        return None  # full-range samples the output's tag would call limited
    return decoded_samples(frame)


def _even_420(frame: object) -> bool:
    """Whether a decoded frame is 8-bit 4:2:0 at an even size: samples OpenCV converts."""
    return frame.format.name in _PLANAR_420 and not (frame.width | frame.height) % 2


def from_planes(planes: tuple[np.ndarray, ...], layout: Layout, colour: Colour) -> object:
    """Y, U and V planes of ``layout`` (:func:`decoded_planes`) as a frame to encode, tagged as ``colour``."""
    frame = frame_from_planes(planes, format_name(layout))
    frame.colorspace, frame.color_range = colour.matrix, colour.range
    return frame


def with_holes_filled(
    decoded: tuple[np.ndarray, ...], layout: Layout, image: np.ndarray, hole: np.ndarray, colour: Colour
) -> tuple[np.ndarray, ...]:
    """The samples ``decoded`` (planes of ``layout``, :func:`decoded_planes`) with the pixels of
    ``hole`` (H x W bool) taken from ``image`` (the frame inpainted, RGB of the samples' depth)
    by ``colour``'s matrix and range, as :func:`from_rgb` converts: a luma sample where its pixel
    is in the hole, a chroma sample where any of the pixels it covers is; every other sample as
    it was decoded. Only boxes around the holes are converted (:func:`_boxes_around`): a whole
    720p frame took 15 ms in 10-bit 4:2:2, its scratches and dust a few per cent of that."""
    in_luma = np.multiply(hole, 255, dtype=np.uint8)
    in_chroma = _any_in_blocks(in_luma, 1 << layout.shift_y, 1 << layout.shift_x)  # the pixels a chroma sample covers
    planes = tuple(plane.copy() for plane in decoded)
    for top, left, bottom, right in _boxes_around(in_luma):
        filled = frame_planes(from_rgb(image[top:bottom, left:right], format_name(layout), colour))
        luma_box = (slice(top, bottom), slice(left, right))
        chroma_box = (
            slice(top >> layout.shift_y, -(-bottom >> layout.shift_y)),
            slice(left >> layout.shift_x, -(-right >> layout.shift_x)),
        )
        for filled_plane, plane, mask, box in zip(
            filled, planes, (in_luma, in_chroma, in_chroma), (luma_box, chroma_box, chroma_box), strict=True
        ):
            np.copyto(plane[box], filled_plane, where=mask[box] > 0)
    return planes


MOST_BOXES = 32  # boxes converted one by one; more (a frame peppered with dust) convert it whole
CELL = 8  # px: boxes are made of cells this size, a whole number of chroma samples


def _boxes_around(in_luma: np.ndarray) -> list[tuple[int, int, int, int]]:
    """(top, left, bottom, right) boxes, bottom and right past the end, that hold every hole pixel
    of ``in_luma`` (uint8, non-zero in the holes) with at least a cell of picture around (two
    chroma samples: swscale's chroma filter reads that far), made of whole cells: each box
    converts to the same samples as the whole frame does around its holes. Nearby holes share
    one; the whole frame where boxes would be many or cover half of it. (Found on the cells:
    labelling the pixels took 4 ms of a 720p frame.)"""
    height, width = in_luma.shape
    cells = cv2.dilate(_any_in_blocks(in_luma, CELL, CELL), np.ones((3, 3), np.uint8))  # grown by a cell all round
    count, _, stats = connected_components(cells)
    boxes = [
        (y * CELL, x * CELL, min(height, (y + h) * CELL), min(width, (x + w) * CELL))
        for x, y, w, h, _ in stats[1:count]
    ]
    if len(boxes) > MOST_BOXES or sum((b - t) * (r - left) for t, left, b, r in boxes) > height * width / 2:
        return [(0, 0, height, width)]
    return boxes


def _any_in_blocks(mask: np.ndarray, block_height: int, block_width: int) -> np.ndarray:
    """One uint8 value a block of ``block_height`` x ``block_width`` pixels of ``mask`` (uint8,
    0 or 255), non-zero where any of its pixels is: their mean, which one pixel of 255 keeps
    above 0 (255 / 64 rounds to 4). A last partial row or column of blocks (an odd size, as
    FFmpeg's chroma planes round up) covers the pixels there are."""
    height, width = mask.shape
    rows, columns = -(-height // block_height), -(-width // block_width)
    padded = cv2.copyMakeBorder(
        mask, 0, rows * block_height - height, 0, columns * block_width - width, cv2.BORDER_CONSTANT, value=0
    )
    return cv2.resize(padded, (columns, rows), interpolation=cv2.INTER_AREA)
