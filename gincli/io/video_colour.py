"""A video's colour: how its YUV samples map to the RGB frames gin works on, and back.

A frame is converted to RGB by its own matrix (BT.601, BT.709, BT.2020 ...) and range, and the
output is encoded by the input's and tagged with it. Before, a clip tagged BT.709 was read as
BT.709 and written as BT.601, tagged as nothing: 3.2 levels of 255 darker in luma, its chroma
shifted, every pass.

Frames are read exactly (:func:`to_rgb`): an 8-bit 4:2:0 frame by OpenCV from its samples,
anything else by swscale's accurate path (``ACCURATE_RND | FULL_CHR_H_INT``). FFmpeg's default
conversion (swscale's fast path) reads the picture 0.8-1.4 levels of 255 darker than it is, with
a jitter of 0.6 a pixel: read so, every fill and every frame written to a folder carried that
offset. At 720p (``benchmarks/video_colour.py``) the fast path took 0.7-1.4 ms a frame, OpenCV
1.8-2.1 ms for BT.601 and 3.6-4.1 ms for BT.709, swscale's accurate path 5.0-6.2 ms.

An 8-bit 4:2:0 input (nearly every camera's and distributor's file) goes further: the encoder
takes its samples as they were decoded wherever the job left the picture alone, and converts
only the holes' pixels back from RGB (:func:`with_holes_filled`). Outside the holes nothing
passes through RGB at all, so nothing is lost there to a conversion.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gincli.core.lazy import cv2

UNSPECIFIED, FULL_RANGE = 2, 2  # FFmpeg's codes: AVCOL_SPC_UNSPECIFIED (and primaries, transfer), AVCOL_RANGE_JPEG
# matrices that OpenCV's YUV 4:2:0 conversions use (BT.601, limited range): unspecified is
# BT.601 to FFmpeg as well; BT470BG and SMPTE170M are BT.601's two names
_BT601 = (UNSPECIFIED, 5, 6)
# FFmpeg's matrix codes (AVColorSpace) that swscale converts by -> its own (SWS_CS_*): BT.709,
# FCC, BT.601 (two names), SMPTE 240M, BT.2020 (two); unspecified is BT.601 to both
_SWSCALE_MATRIX = {1: 1, 4: 4, 5: 5, 6: 5, 7: 7, 9: 9, 10: 9, UNSPECIFIED: 5}
# decoded formats whose samples the encoder's yuv420p takes as they are (the J one is full range,
# and tagged so: Colour.range)
_PLANAR_420 = ("yuv420p", "yuvj420p")
# each matrix's luma weights of red and blue (Kr, Kb), as swscale reads them (_SWSCALE_MATRIX)
_BT601_WEIGHTS, _BT2020_WEIGHTS = (0.299, 0.114), (0.2627, 0.0593)
_LUMA_WEIGHTS = {1: (0.2126, 0.0722), 4: (0.30, 0.11), 7: (0.212, 0.087), 9: _BT2020_WEIGHTS, 10: _BT2020_WEIGHTS}


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
    """An RGB image (uint8) as a frame in the encoder's ``pix_fmt``, by ``colour``'s matrix and
    range (RGB formats: as it is, the encoder only reorders the channels)."""
    import av

    height, width = image.shape[:2]
    if not pix_fmt.startswith("yuv"):
        return av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
    if colour.opencv_converts(pix_fmt, width, height):
        frame = av.VideoFrame.from_ndarray(cv2.cvtColor(image, cv2.COLOR_RGB2YUV_I420), format="yuv420p")
    else:
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24").reformat(
            format=pix_fmt, dst_colorspace=_SWSCALE_MATRIX[colour.matrix], dst_color_range=colour.range,
            interpolation=accurate_conversion(), threads=1,
        )  # fmt: skip
    frame.colorspace, frame.color_range = colour.matrix, colour.range
    return frame


def to_rgb(frame: object, colour: Colour, planes: np.ndarray | None = None) -> np.ndarray:
    """A decoded frame as RGB (H x W x 3 uint8), converted exactly by ``colour``'s matrix and
    range (its stream's). 8-bit 4:2:0 at an even size, by OpenCV from its samples (``planes``,
    where the caller already took them out): BT.601 in limited range by its own conversion, any
    other matrix or range by that matrix (:func:`_yuv_to_rgb`; a third faster than swscale's
    accurate path at 720p). Else by swscale's accurate path. OpenCV reads chroma at the nearest
    sample where swscale interpolates it: 0.04-0.05 levels of 255 apart on average."""
    if not _even_420(frame):
        return frame.to_ndarray(format="rgb24", interpolation=accurate_conversion())
    planes = frame.to_ndarray() if planes is None else planes
    if colour.opencv_converts(frame.format.name, frame.width, frame.height):
        return cv2.cvtColor(planes, cv2.COLOR_YUV2RGB_I420)
    height, width = frame.height, frame.width
    luma, *chroma = i420_planes(planes, height, width)
    both = cv2.resize(cv2.merge(chroma), (width, height), interpolation=cv2.INTER_NEAREST)
    return cv2.transform(cv2.merge([luma, both]), _yuv_to_rgb(colour))


def i420_planes(samples: np.ndarray, height: int, width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The Y, U and V planes (H x W, then H / 2 x W / 2 each) of I420 samples, as views: U and V
    follow the Y plane one after the other, each a quarter of its size, which is whole rows of
    W only where H is a multiple of 4 (not at 480 x 270)."""
    flat, size = samples.reshape(-1), (height // 2) * (width // 2)
    chroma = (
        flat[first : first + size].reshape(height // 2, width // 2) for first in (height * width, height * width + size)
    )
    return (samples[:height], *chroma)


def _yuv_to_rgb(colour: Colour) -> np.ndarray:
    """The 3 x 4 matrix that takes (Y, U, V, 1) samples to R, G, B (0-255) by ``colour``'s
    matrix and range: limited range's luma spans 16-235 and its chroma 16-240 around 128, full
    range's both 0-255."""
    red, blue = _LUMA_WEIGHTS.get(colour.matrix, _BT601_WEIGHTS)
    green = 1 - red - blue
    luma_scale, chroma_scale, black = (1.0, 1.0, 0) if colour.range == FULL_RANGE else (255 / 219, 255 / 224, 16)
    v_to_red, u_to_blue = 2 * (1 - red), 2 * (1 - blue)
    weights = np.array(
        [
            [luma_scale, 0, chroma_scale * v_to_red],
            [luma_scale, -chroma_scale * u_to_blue * blue / green, -chroma_scale * v_to_red * red / green],
            [luma_scale, chroma_scale * u_to_blue, 0],
        ]
    )
    return np.hstack([weights, -weights @ np.array([[black], [128], [128]])])


def decoded_planes(frame: object, colour: Colour) -> np.ndarray | None:
    """A decoded frame's samples in the layout that the encoder's ``yuv420p`` takes as they are
    (I420: the Y plane, then U and V, H * 3 / 2 x W, uint8), where it is 8-bit 4:2:0 at an even
    size and ``colour`` (its stream's, which the output is tagged with) describes them; else
    None (it is encoded from RGB)."""
    if not _even_420(frame):
        return None
    if frame.format.name.startswith("yuvj") and colour.range != FULL_RANGE:
        return None  # full-range samples the output's tag would call limited
    return frame.to_ndarray()  # its own samples: a reformat to yuv420p would take yuvj420p's to limited range


def _even_420(frame: object) -> bool:
    """Whether a decoded frame is 8-bit 4:2:0 at an even size: samples OpenCV converts and the
    encoder's ``yuv420p`` takes as they are."""
    return frame.format.name in _PLANAR_420 and not (frame.width | frame.height) % 2


def from_planes(planes: np.ndarray, colour: Colour) -> object:
    """I420 samples (:func:`decoded_planes`) as a ``yuv420p`` frame to encode, tagged as ``colour``."""
    import av

    frame = av.VideoFrame.from_ndarray(planes, format="yuv420p")
    frame.colorspace, frame.color_range = colour.matrix, colour.range
    return frame


def with_holes_filled(decoded: np.ndarray, image: np.ndarray, hole: np.ndarray, colour: Colour) -> np.ndarray:
    """The I420 samples ``decoded`` (:func:`decoded_planes`) with the pixels of ``hole`` (H x W
    bool) taken from ``image`` (the frame inpainted, RGB uint8) by ``colour``'s matrix and range:
    a luma sample where its pixel is in the hole, a chroma sample where any of the four pixels it
    covers is; every other sample as it was decoded."""
    height, width = hole.shape
    filled = from_rgb(image, "yuv420p", colour).to_ndarray()
    planes = decoded.copy()
    in_luma = np.multiply(hole, 255, dtype=np.uint8)
    # any of the four pixels: their mean (OpenCV's exact halving) is at least 255 / 4 where one is in
    in_chroma = cv2.resize(in_luma, (width // 2, height // 2), interpolation=cv2.INTER_AREA)
    for filled_plane, plane, mask in zip(
        i420_planes(filled, height, width),
        i420_planes(planes, height, width),
        (in_luma, in_chroma, in_chroma),
        strict=True,
    ):
        cv2.copyTo(filled_plane, mask, plane)
    return planes
