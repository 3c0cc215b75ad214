"""Film-damage detection: line scratches and dust, as a hole mask (1 = damage). No I/O.

Two kinds of damage look different and are found differently:

- Line scratches are thin (a few pixels), long, near-vertical lines, brighter or darker than
  the picture beside them, often lasting several frames. A horizontal top-hat (the frame minus
  its opening / closing by a short horizontal bar) keeps only structures narrower than the bar;
  a tall running mean of that response keeps only what is coherent over many rows, which grain
  is not; connected lines shorter than ``line_min_length`` of the frame height are dropped.
  A line that moves with the picture (dense optical flow carries it to where it lies in the
  neighbour frames) is picture: a tree trunk, a mast. A line still at the same place
  ``PERSISTENCE`` frames before and after is a persistent edge of the scene: picture as well.
  A scratch holds its place on the film while the picture moves, and comes and goes.
- Dust and blotches sit in one frame only: after warping both neighbours onto the frame by
  dense optical flow (DIS; weave, pans and moving objects alike), a pixel much brighter (or
  darker) than the same place in the previous *and* the next frame, while those two agree, is a
  temporal outlier.

:func:`damage_masks` runs the detector over a stream of frames with the window it needs.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from gincli.core.imagemath import LUMA_BT601, dilate_mask, to_unit_float
from gincli.core.lazy import cv2

COHERENCE_ROWS = 31  # rows a scratch response is averaged over; grain averages away, lines do not
VERTICAL_RUN = 15  # rows a scratch pixel's column run must span (1 / line_max_slant, roughly)
MAX_DRIFT = 2  # px a scratch may wander sideways from one frame to the next
PERSISTENCE = 12  # frames: a static line present this far before and after is part of the scene
MIN_MOTION = 3.0  # px of local motion above which a line that went along with it is told apart


@dataclass(frozen=True)
class DamageThresholds:
    """Detector settings; intensities are fractions of full scale (0-1)."""

    line_contrast: float = 0.07  # how much brighter or darker than its sides a scratch must be
    line_width: int = 7  # widest scratch (px); wider vertical features are picture, not damage
    line_min_length: float = 0.2  # shortest scratch, as a fraction of the frame height
    line_max_slant: float = 0.06  # columns a scratch may move sideways per row (about 3.5 degrees)
    dust_contrast: float = 0.12  # how far a speck differs from both neighbour frames
    dust_max_area: float = 0.002  # largest speck, as a fraction of the frame area
    grow: int = 1  # pixels added around everything found (scratch edges are soft)


def grey(image: np.ndarray) -> np.ndarray:
    """H x W (x 3) image of any dtype -> float32 luma in [0, 1]."""
    unit = to_unit_float(image)
    return unit if unit.ndim == 2 else unit[..., :3] @ LUMA_BT601


def _line_responses(frame_grey: np.ndarray, line_width: int) -> list[np.ndarray]:
    """Horizontal top-hats: how much each pixel stands above (bright) or below (dark) the
    picture within ``line_width`` px to its sides; only features narrower than that respond."""
    bar = cv2.getStructuringElement(cv2.MORPH_RECT, (2 * line_width + 1, 1))
    bright = frame_grey - cv2.morphologyEx(frame_grey, cv2.MORPH_OPEN, bar)
    dark = cv2.morphologyEx(frame_grey, cv2.MORPH_CLOSE, bar) - frame_grey
    return [bright, dark]


def dense_flow(reference: np.ndarray, moving: np.ndarray) -> np.ndarray:
    """H x W x 2 flow such that ``reference[p]`` shows what ``moving[p + flow[p]]`` shows (DIS
    optical flow on grey frames in [0, 1]): camera motion and moving objects alike."""
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_FAST)
    as_u8 = lambda g: np.clip(g * 255 + 0.5, 0, 255).astype(np.uint8)  # noqa: E731
    return dis.calc(as_u8(reference), as_u8(moving), None)


def _warp(image: np.ndarray, flow: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(``image`` carried onto the reference frame by ``flow``, where it had real pixels)."""
    h, w = image.shape
    xs = np.arange(w, dtype=np.float32)[None, :] + flow[..., 0]
    ys = np.arange(h, dtype=np.float32)[:, None] + flow[..., 1]
    warped = cv2.remap(image, xs, ys, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return warped, (xs >= 0) & (xs <= w - 1) & (ys >= 0) & (ys <= h - 1)


def _local_motion(flow: np.ndarray, size: int = 31) -> np.ndarray:
    """How far the picture around each pixel moves (px): a thin scratch barely sways it."""
    return cv2.blur(np.hypot(flow[..., 0], flow[..., 1]), (size, size))


class _Components:
    """Connected candidate lines of one frame, with the means of any per-pixel map over each.
    Candidates cover a tiny share of a frame, so means are taken over their pixels only."""

    def __init__(self, candidate: np.ndarray) -> None:
        self.count, self.labels, self.stats, _ = cv2.connectedComponentsWithStats(candidate, connectivity=8)
        self._pixels = np.flatnonzero(self.labels)
        self._owners = self.labels.ravel()[self._pixels]
        self._sizes = np.maximum(np.bincount(self._owners, minlength=self.count), 1)

    def means(self, values: np.ndarray) -> np.ndarray:
        sums = np.bincount(self._owners, weights=values.ravel()[self._pixels], minlength=self.count)
        return sums / self._sizes


def line_scratch_mask(
    frame_grey: np.ndarray,
    thresholds: DamageThresholds = DamageThresholds(),
    neighbours: list[tuple[np.ndarray, np.ndarray]] = (),  # type: ignore[assignment]
    distant: list[tuple[np.ndarray, np.ndarray]] = (),  # type: ignore[assignment]
) -> np.ndarray:
    """Thin, long, near-vertical bright or dark lines in one frame (H x W bool).

    ``neighbours`` and ``distant``: the adjacent frames and frames about ``PERSISTENCE`` away,
    each with its :func:`dense_flow` from this one. A line that the picture's motion carries
    (found where the flow puts it in another frame, not where it sits on the film) is picture,
    a tree trunk or a mast. A line at the same place in every distant frame too is a
    persistent edge of the scene: scratches seldom last ``2 * PERSISTENCE`` frames. Scratches stay put on the film while the picture
    moves, or come and go while it stays."""
    h, _ = frame_grey.shape
    min_rows = max(COHERENCE_ROWS, thresholds.line_min_length * h)
    t = thresholds
    around = np.ones((1, 2 * MAX_DRIFT + 1), np.uint8)
    # every other frame given, with the picture's motion from this one: adjacent frames see fast
    # motion, distant ones slow motion too (over PERSISTENCE frames a slow pan adds up)
    others = [(_line_responses(f, t.line_width), flow, _local_motion(flow)) for f, flow in [*neighbours, *distant]]
    far = others[len(neighbours) :]
    found = np.zeros(frame_grey.shape, bool)
    for polarity, response in enumerate(_line_responses(frame_grey, t.line_width)):
        # tolerate a slight slant: widen by a pixel each side before averaging down the rows
        coherent = cv2.blur(cv2.dilate(response, np.ones((1, 3), np.uint8)), (1, COHERENCE_ROWS))
        # a scratch pixel carries a good share of the line's strength; grain beside it does not
        candidate = (coherent > 0.6 * t.line_contrast) & (response > np.maximum(0.5 * t.line_contrast, 0.4 * coherent))
        # keep vertical runs only: slanted picture detail touching a scratch must not merge with it
        candidate = cv2.morphologyEx(candidate.astype(np.uint8), cv2.MORPH_OPEN, np.ones((VERTICAL_RUN, 1), np.uint8))
        parts = _Components(candidate)
        count, labels = parts.count, parts.labels
        height, width, area = (parts.stats[:, k] for k in (cv2.CC_STAT_HEIGHT, cv2.CC_STAT_WIDTH, cv2.CC_STAT_AREA))
        keep = (
            (height >= min_rows)
            & (area <= (t.line_width + 2) * height)
            & (width <= t.line_width + 2 + t.line_max_slant * height)
        )
        strength = parts.means(response)
        for responses, flow, motion in others:
            # the picture moved clearly, and the line went with it: picture
            moved = parts.means(motion) >= MIN_MOTION
            on_film = parts.means(cv2.dilate(responses[polarity], around))
            in_scene = parts.means(cv2.dilate(_warp(responses[polarity], flow)[0], around))
            keep &= ~(moved & (in_scene > np.maximum(2 * on_film, 0.6 * strength)))
        if far:
            # the line is there, in the same place, in the distant frames too: the scene's
            persistent = np.ones(count, bool)
            for responses, _, _ in far:
                there = parts.means(cv2.dilate(responses[polarity], around))
                persistent &= there > np.maximum(0.5 * t.line_contrast, 0.5 * strength)
            keep &= ~persistent
        keep[0] = False
        lines = keep[labels]
        # hysteresis along each line: scratches are straight, so fainter stretches of a line
        # (over busy picture) are taken back where they lie on the line's own course
        faint = (response > 0.4 * t.line_contrast) & (coherent > 0.4 * t.line_contrast)
        found |= lines | (faint & _along_lines(labels, np.flatnonzero(keep), t.line_width))
    return found


def _along_lines(labels: np.ndarray, kept: np.ndarray, line_width: int) -> np.ndarray:
    """Pixels within the half-width (plus one) of each kept component's fitted straight course x = a y + b."""
    band = np.zeros(labels.shape, bool)
    if not kept.size:
        return band
    rows = np.arange(labels.shape[0])
    ys, xs = np.nonzero(np.isin(labels, kept))
    owners = labels[ys, xs]
    for label in kept:
        mine = owners == label
        y, x = ys[mine], xs[mine]
        slope, offset = np.polyfit(y, x, 1)
        half = min(line_width, y.size / (np.ptp(y) + 1)) / 2 + 1
        centre = slope * rows + offset
        for left in range(-int(half), int(half) + 1):
            cols = np.round(centre + left).astype(int)
            inside = (cols >= 0) & (cols < labels.shape[1])
            band[rows[inside], cols[inside]] = True
    return band


def global_shift(reference: np.ndarray, moving: np.ndarray) -> tuple[float, float]:
    """(dx, dy) that moves ``moving`` onto ``reference`` (phase correlation: weave and pans)."""
    window = cv2.createHanningWindow(reference.shape[::-1], cv2.CV_32F)
    (dx, dy), _ = cv2.phaseCorrelate(moving.astype(np.float32), reference.astype(np.float32), window)
    return dx, dy


def dust_mask(
    previous: np.ndarray,
    current: np.ndarray,
    following: np.ndarray,
    thresholds: DamageThresholds = DamageThresholds(),
    flows: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """One-frame specks and blotches: temporal outliers against both neighbours warped onto
    ``current`` (H x W bool). ``flows``: each neighbour's :func:`dense_flow` from ``current``."""
    flows = flows or (dense_flow(current, previous), dense_flow(current, following))
    (before, covered_before), (after, covered_after) = _warp(previous, flows[0]), _warp(following, flows[1])
    t = thresholds.dust_contrast
    to_before, to_after = current - before, current - after
    neighbours_agree = np.abs(before - after) < t
    outlier = (np.minimum(to_before, to_after) > t) | (np.maximum(to_before, to_after) < -t)
    candidate = outlier & neighbours_agree & covered_before & covered_after
    _, labels, stats, _ = cv2.connectedComponentsWithStats(candidate.astype(np.uint8), connectivity=8)
    keep = stats[:, cv2.CC_STAT_AREA] <= thresholds.dust_max_area * current.size
    keep[0] = False
    return keep[labels]


def film_damage_mask(
    previous: np.ndarray | None,
    current: np.ndarray,
    following: np.ndarray | None,
    thresholds: DamageThresholds = DamageThresholds(),
    distant: list[np.ndarray] = (),  # type: ignore[assignment]
) -> np.ndarray:
    """Scratches and dust in ``current`` (H x W float32, 1 = damage). Neighbour frames may be
    None at the ends of a clip (the one that exists stands in for both; none: lines only).
    ``distant``: frames about ``PERSISTENCE`` away, to tell persistent scene lines (see
    :func:`line_scratch_mask`); :func:`damage_masks` supplies them."""
    frame = grey(current)
    neighbours = [grey(f) for f in (previous, following) if f is not None]
    flows = [dense_flow(frame, n) for n in neighbours]
    far = [grey(d) for d in distant]
    found = line_scratch_mask(frame, thresholds, list(zip(neighbours, flows, strict=True)),
                              [(d, dense_flow(frame, d)) for d in far])  # fmt: skip
    if neighbours:
        found |= dust_mask(neighbours[0], frame, neighbours[-1], thresholds, (flows[0], flows[-1]))
    return dilate_mask(found.astype(np.float32), thresholds.grow)


def damage_masks(
    images: Iterable[np.ndarray], thresholds: DamageThresholds = DamageThresholds()
) -> Iterator[np.ndarray]:
    """The damage mask of every frame of a clip, in order, each found with its neighbours and
    the frames ``PERSISTENCE`` before and after (those that exist at the clip's ends). Streams:
    holds ``2 * PERSISTENCE + 1`` frames."""
    buffer: deque[np.ndarray] = deque()
    first = 0  # the clip index of buffer[0]
    upcoming = 0  # the next frame to detect

    def detect(i: int) -> np.ndarray:
        at = lambda j: buffer[j - first] if first <= j < first + len(buffer) else None  # noqa: E731
        distant = [f for f in (at(i - PERSISTENCE), at(i + PERSISTENCE)) if f is not None]
        return film_damage_mask(at(i - 1), buffer[i - first], at(i + 1), thresholds, distant)

    for newest, image in enumerate(images):
        buffer.append(image)
        while upcoming + PERSISTENCE <= newest:
            yield detect(upcoming)
            upcoming += 1
            while first < upcoming - PERSISTENCE:
                buffer.popleft()
                first += 1
    while upcoming < first + len(buffer):
        yield detect(upcoming)
        upcoming += 1
