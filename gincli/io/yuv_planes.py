"""Planar YUV samples of any chroma subsampling and bit depth (4:2:0, 4:2:2, 4:4:4; 8 to 16
bits), and RGB from and to them by a stream's matrix and range, computed here rather than by
FFmpeg's swscale. No file I/O: frames in, frames out.

swscale is not exact at high bit depths (PyAV 18, a 720p frame of Big Buck Bunny): its path from
10-bit samples to 16-bit RGB reads the picture 0.4 levels of 255 dark, its path back writes luma
1.7 codes of 1023 high, and from 4:2:0 with chroma interpolated at every pixel it loses a quarter
of the light. Here chroma is read at its nearest sample (as OpenCV reads 4:2:0) and written as the
mean of the pixels it covers, so that a picture read and written again keeps its chroma.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from gincli.core.lazy import cv2

if TYPE_CHECKING:
    from gincli.io.video_colour import Colour

FULL_RANGE = 2  # FFmpeg's AVCOL_RANGE_JPEG
# each matrix's luma weights of red and blue (Kr, Kb), by FFmpeg's matrix codes (AVColorSpace):
# BT.709, FCC, SMPTE 240M, BT.2020 (two); every other one is read as BT.601
_BT601_WEIGHTS, _BT2020_WEIGHTS = (0.299, 0.114), (0.2627, 0.0593)
_LUMA_WEIGHTS = {1: (0.2126, 0.0722), 4: (0.30, 0.11), 7: (0.212, 0.087), 9: _BT2020_WEIGHTS, 10: _BT2020_WEIGHTS}


class Layout(NamedTuple):
    """A planar YUV format's shape: chroma is ``2 ** shift_x`` times narrower and ``2 ** shift_y``
    times shorter than luma, and every sample has ``depth`` bits."""

    shift_x: int
    shift_y: int
    depth: int

    @property
    def dtype(self) -> type:
        return np.uint8 if self.depth == 8 else np.uint16


# the planar YUV formats read here (FFmpeg's names; the J ones are full range, see Colour.of)
LAYOUTS = {
    **{f"yuv{j}{name}p": Layout(*shifts, 8) for j in ("", "j") for name, shifts in
       (("420", (1, 1)), ("422", (1, 0)), ("444", (0, 0)))},
    **{f"yuv{name}p{depth}le": Layout(*shifts, depth) for depth in (10, 12, 16) for name, shifts in
       (("420", (1, 1)), ("422", (1, 0)), ("444", (0, 0)))},
}  # fmt: skip


def format_name(layout: Layout) -> str:
    """FFmpeg's name of a (limited or full range) planar YUV format of ``layout``."""
    subsampling = {(1, 1): "420", (1, 0): "422", (0, 0): "444"}[(layout.shift_x, layout.shift_y)]
    return f"yuv{subsampling}p" + ("" if layout.depth == 8 else f"{layout.depth}le")


def chroma_size(layout: Layout, height: int, width: int) -> tuple[int, int]:
    """(height, width) of a chroma plane of a frame ``height`` x ``width`` (rounded up, as FFmpeg's)."""
    return -(-height >> layout.shift_y), -(-width >> layout.shift_x)


def frame_planes(frame: object) -> tuple[np.ndarray, ...]:
    """A decoded frame's planes as arrays of their samples (copies: the decoder reuses its buffers)."""
    dtype = np.uint8 if frame.format.components[0].bits <= 8 else np.dtype("<u2")
    return tuple(
        np.frombuffer(plane, dtype).reshape(plane.height, -1)[:, : plane.width].copy() for plane in frame.planes
    )


def frame_from_planes(planes: tuple[np.ndarray, ...], pix_fmt: str) -> object:
    """A frame of ``pix_fmt`` holding ``planes`` (each the size and dtype of that format's plane)."""
    import av

    height, width = planes[0].shape
    frame = av.VideoFrame(width, height, pix_fmt)
    for plane, samples in zip(frame.planes, planes, strict=True):
        buffer = np.frombuffer(plane, samples.dtype).reshape(plane.height, -1)
        buffer[:, : plane.width] = samples
    return frame


def yuv_to_rgb(colour: Colour, depth: int = 8, white: int = 255) -> np.ndarray:
    """The 3 x 4 matrix that takes (Y, U, V, 1) samples of ``depth`` bits to R, G, B (0 to
    ``white``) by ``colour``'s matrix and range: limited range's luma spans 16-235 and its chroma
    16-240 around 128 (times ``2 ** (depth - 8)``), full range's both span every code."""
    red, blue = _LUMA_WEIGHTS.get(colour.matrix, _BT601_WEIGHTS)
    green = 1 - red - blue
    step = 2 ** (depth - 8)
    if colour.range == FULL_RANGE:
        top = 2**depth - 1
        luma_scale, chroma_scale, black, centre = white / top, white / top, 0, 2 ** (depth - 1)
    else:
        luma_scale, chroma_scale, black, centre = white / (219 * step), white / (224 * step), 16 * step, 128 * step
    v_to_red, u_to_blue = 2 * (1 - red), 2 * (1 - blue)
    weights = np.array(
        [
            [luma_scale, 0, chroma_scale * v_to_red],
            [luma_scale, -chroma_scale * u_to_blue * blue / green, -chroma_scale * v_to_red * red / green],
            [luma_scale, chroma_scale * u_to_blue, 0],
        ]
    )
    return np.hstack([weights, -weights @ np.array([[black], [centre], [centre]])])


def planes_to_rgb(planes: tuple[np.ndarray, ...], layout: Layout, colour: Colour) -> np.ndarray:
    """Y, U and V ``planes`` of ``layout`` as RGB (H x W x 3): uint8 from 8-bit samples, uint16
    (0-65535) from deeper ones, each chroma sample read at every pixel it covers."""
    luma, *chroma = planes
    height, width = luma.shape
    both = cv2.merge(chroma)
    both = cv2.resize(
        both, (both.shape[1] << layout.shift_x, both.shape[0] << layout.shift_y), interpolation=cv2.INTER_NEAREST
    )
    samples = cv2.merge([luma, both[:height, :width]])
    white = 255 if layout.depth == 8 else 65535
    return cv2.transform(samples, yuv_to_rgb(colour, layout.depth, white))  # rounded and held in the samples' dtype


def rgb_to_planes(image: np.ndarray, layout: Layout, colour: Colour) -> tuple[np.ndarray, ...]:
    """An RGB image (uint8 or uint16) as Y, U and V planes of ``layout``: the inverse of
    :func:`planes_to_rgb`'s matrix, each chroma sample the mean of the pixels it covers."""
    white = 255 if image.dtype == np.uint8 else 65535
    forward = yuv_to_rgb(colour, layout.depth, white)
    inverse = np.linalg.inv(forward[:, :3])
    samples = cv2.transform(image.astype(np.float32), np.hstack([inverse, -inverse @ forward[:, 3:]]))
    height, width = image.shape[:2]
    chroma_height, chroma_width = chroma_size(layout, height, width)
    chroma = cv2.resize(samples[..., 1:], (chroma_width, chroma_height), interpolation=cv2.INTER_AREA)
    top = 2**layout.depth - 1
    return tuple(
        np.clip(np.rint(plane), 0, top).astype(layout.dtype)
        for plane in (samples[..., 0], chroma[..., 0], chroma[..., 1])
    )
