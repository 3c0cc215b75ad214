"""Motion between frames for the film-damage detector: dense optical flow, warping, and the
picture's motion around a pixel. No I/O."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gincli.core.boxes import at_pixels
from gincli.core.lazy import cv2

DIS_FINEST_LEVEL = 2  # DISOPTICAL_FLOW_PRESET_FAST's: a quarter of the size it is given
FINEST_LEVEL_WIDTH = 160  # px: the finest level large frames' flows stop at (see _finest_scale)
# DIS's variational refinement smooths the patch flow at each level: half a flow's time. With
# FINEST_LEVEL_WIDTH px or more at the finest level (40 patches across) the patch flow alone gave
# the same precision and recall (Big Buck Bunny and bikes, `benchmarks/scratches.py`); on the
# small clips, whose finest level is 40 px wide, recall fell without it (movie.avi: 0.903 -> 0.895)
REFINED_BELOW_WIDTH = 2**DIS_FINEST_LEVEL * FINEST_LEVEL_WIDTH


class FlowFrame:
    """A grey frame (H x W float32 in [0, 1]) as the optical flow reads it: 8-bit, at the size a
    flow asks for. Each size is made once however many flows read the frame (at 720p the
    detector's five flows a frame shrank each of their two frames anew: ten resizes a frame)."""

    def __init__(self, grey: np.ndarray) -> None:
        self.shape: tuple[int, int] = grey.shape[:2]
        self._grey: np.ndarray | None = grey
        self._sized: dict[tuple[int, int], np.ndarray] = {}

    @classmethod
    def only_for(cls, grey: np.ndarray, scale: float) -> FlowFrame:
        """The frame as flows at ``scale`` read it (:func:`dense_flow`), holding that size only:
        no full-size copy kept for a frame that only such flows read."""
        frame = cls(grey)
        frame.at(flow_size(frame.shape, scale))
        frame._grey = None
        return frame

    def at(self, size: tuple[int, int]) -> np.ndarray:
        """The frame at ``size`` (width, height), 8-bit; threads may race to make one: both make the same."""
        if size not in self._sized:
            if self._grey is None:
                raise ValueError(f"this frame is held at {list(self._sized)} only, not at {size}")
            height, width = self.shape
            full = self._grey
            shrunk = full if size == (width, height) else cv2.resize(full, size, interpolation=cv2.INTER_AREA)
            self._sized[size] = cv2.convertScaleAbs(shrunk, alpha=255)
        return self._sized[size]


def flow_size(shape: tuple[int, int], scale: float = 1.0) -> tuple[int, int]:
    """(width, height) at which :func:`dense_flow` at ``scale`` reads frames of ``shape`` (H, W):
    never under 320 px wide, where the picture's detail would be lost to the flow, and shrunk so
    that DIS's finest level is the preset's (see :func:`_finest_scale`)."""
    height, width = shape
    scale = max(scale, min(1.0, 320 / width))
    # DIS stops at the level _finest_scale chooses; the frames are shrunk so that this is their
    # quarter size, the preset's finest level, and the finer levels are never built
    scale *= 2.0 ** (DIS_FINEST_LEVEL - _finest_scale(round(width * scale)))
    return round(width * scale), round(height * scale)


def dense_flow(
    reference: np.ndarray | FlowFrame, moving: np.ndarray | FlowFrame, scale: float = 1.0, enlarge: bool = True
) -> np.ndarray:
    """H x W x 2 flow such that ``reference[p]`` shows what ``moving[p + flow[p]]`` shows (DIS
    optical flow on grey frames in [0, 1], or their :class:`FlowFrame`): camera motion and moving objects alike. ``scale``
    below 1 computes it on the frames shrunk by that factor (a quarter of the work at 0.5),
    for tests that use the motion only coarsely (see :func:`flow_size`). ``enlarge=False``
    leaves it at that size (still in full-size px), for a caller that shrinks it further."""
    reference, moving = (f if isinstance(f, FlowFrame) else FlowFrame(f) for f in (reference, moving))
    height, width = reference.shape
    small = flow_size(reference.shape, scale)
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_FAST)
    dis.setFinestScale(DIS_FINEST_LEVEL)
    if small[0] >= REFINED_BELOW_WIDTH:
        dis.setVariationalRefinementIterations(0)
    flow = dis.calc(reference.at(small), moving.at(small), None)
    if small == (width, height):
        return flow
    # to full-size px (before enlarging: 4 x less work); OpenCV's per-channel product, the same
    # values as numpy's broadcast one in a ninth of the time
    flow = cv2.multiply(flow, tuple(float(np.float32(v)) for v in (width / small[0], height / small[1], 0, 0)))
    if not enlarge:
        return flow
    return cv2.resize(flow, (width, height), interpolation=cv2.INTER_LINEAR)


def _finest_scale(width: int) -> int:
    """The pyramid level the flow of frames ``width`` px wide stops at: the preset's 2 (a
    quarter of the size) up to 1279 px; above, the coarsest level that is still at least
    ``FINEST_LEVEL_WIDTH`` px wide. At 1280 x 720 that is an eighth of the size: a quarter
    less time for the whole detector, with the same precision and recall on Big Buck Bunny and
    the photo pans (the dust tests' roughness, trail and stand-out rules keep the coarser
    flow's misses out)."""
    return max(DIS_FINEST_LEVEL, int(np.log2(width / FINEST_LEVEL_WIDTH)))


@dataclass(frozen=True)
class Motion:
    """Another frame's placement relative to this one, from the flow: where each pixel of this
    frame is found there, and whether that lies inside it."""

    flow: np.ndarray

    def covers(self, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
        """Whether the places of pixels (``ys``, ``xs``) in the other frame lie inside it."""
        (height, width), (dx, dy) = self.flow.shape[:2], self.flow[ys, xs].T
        there_x, there_y = xs.astype(np.float32) + dx, ys.astype(np.float32) + dy
        return (there_x >= 0) & (there_x <= width - 1) & (there_y >= 0) & (there_y <= height - 1)

    def warp(self, image: np.ndarray) -> np.ndarray:
        """``image`` (of the other frame) carried onto this frame."""
        # the flow itself as a relative map: no absolute coordinates to build
        return cv2.remap(
            image, self.flow, None, cv2.INTER_LINEAR | cv2.WARP_RELATIVE_MAP, borderMode=cv2.BORDER_REPLICATE
        )


def flow_roughness(flow: np.ndarray, frame_shape: tuple[int, int], ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """How far the flow at pixels (``ys``, ``xs``) of a frame of ``frame_shape`` departs from
    its mean over about 9 x 9 px of the frame (px): high on the edges of moving things, where
    the flow jumps and warping cannot be trusted. ``flow`` may be at a reduced size (in
    full-size px, see :func:`dense_flow`): it is judged at that size, over as many of its
    pixels as cover 9 of the frame's, and read off at the nearest one."""
    (height, width), (frame_height, frame_width) = flow.shape[:2], frame_shape
    box = max(1, round(9 * width / frame_width)) | 1

    def roughness(flow: np.ndarray) -> np.ndarray:
        deviation = flow - cv2.blur(flow, (box, box))
        return cv2.magnitude(deviation[..., 0], deviation[..., 1])

    return at_pixels(ys * height // frame_height, xs * width // frame_width, box // 2, roughness, flow)


# cv2.remap takes maps under 32,767 px a side: the points read are laid out in rows this long
READ_ROW = 4096


def read_at(image: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """``image`` read at the points (``xs``, ``ys``) (any number, float px), bilinear, its edge
    replicated beyond it: N values, or N x C for C channels. The points go to ``cv2.remap`` in
    rows of ``READ_ROW`` (one row of them all failed past 32,766 points: five full-height
    scratches in a 2160-line frame)."""
    count = xs.size
    width = max(1, min(count, READ_ROW))
    rows = -(-count // width) or 1
    maps = [np.resize(np.asarray(v, np.float32), rows * width).reshape(rows, width) for v in (xs, ys)]
    read = cv2.remap(image, maps[0], maps[1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return read.reshape(rows * width, *image.shape[2:])[:count]


class PictureMotion:
    """The picture's motion around each pixel rather than at it: the flow averaged over a
    square of ``surroundings`` px, leaving out the ``excluded`` pixels. The average is smooth, so it is
    taken at a quarter of the size and read off at the pixels asked for, as a full-size
    (bilinear) enlargement of it would show them."""

    def __init__(self, excluded: np.ndarray, surroundings: int) -> None:
        height, width = excluded.shape
        self.small = (max(1, width // 4), max(1, height // 4))
        weights = cv2.resize(1.0 - excluded.astype(np.float32), self.small, interpolation=cv2.INTER_AREA)
        self.box = (surroundings // 4 | 1,) * 2
        total = np.maximum(cv2.blur(weights, self.box), 1e-3)
        # both held for the flow's two channels: OpenCV's products of two-channel maps, the same
        # values as numpy's broadcast ones in a fraction of the time
        self.weights, self.total = cv2.merge([weights, weights]), cv2.merge([total, total])
        self.ratio = np.float32([self.small[0] / width, self.small[1] / height])

    def around(self, flow: np.ndarray) -> np.ndarray:
        """The averaged flow (quarter size) and its speed (px a frame, or per the frames
        between) as a third channel."""
        small = cv2.multiply(cv2.resize(flow, self.small, interpolation=cv2.INTER_AREA), self.weights)
        across, down = cv2.split(cv2.divide(cv2.blur(small, self.box), self.total))
        return cv2.merge([across, down, cv2.magnitude(across, down)])

    def at(self, averaged: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
        """N x 3: :meth:`around`'s channels at the full-size pixels (``ys``, ``xs``)."""
        # cv2.resize's bilinear mapping: pixel centres line up
        return read_at(averaged, (xs + 0.5) * self.ratio[0] - 0.5, (ys + 0.5) * self.ratio[1] - 0.5)


def global_shift(reference: np.ndarray, moving: np.ndarray) -> tuple[float, float]:
    """(dx, dy) that moves ``moving`` onto ``reference`` (phase correlation: weave and pans)."""
    window = cv2.createHanningWindow(reference.shape[::-1], cv2.CV_32F)
    (dx, dy), _ = cv2.phaseCorrelate(moving.astype(np.float32), reference.astype(np.float32), window)
    return dx, dy
