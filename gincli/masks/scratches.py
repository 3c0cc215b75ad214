"""Film-damage detection: line scratches and dust, as a hole mask (1 = damage). No I/O.

Two kinds of damage look different and are found differently:

- Line scratches are thin (a few pixels), long, near-vertical lines, brighter or darker than
  the picture beside them, often lasting several frames. A horizontal top-hat (the frame minus
  its opening / closing by a short horizontal bar) keeps only structures narrower than the bar;
  a tall running mean of that response keeps only what is coherent over many rows, which grain
  is not; connected lines shorter than ``line_min_length`` of the frame height are dropped.
- Dust and blotches sit in one frame only: after aligning both neighbours to the frame (global
  shift, film weave and camera pans), a pixel much brighter (or darker) than the same place in
  the previous *and* the next frame, while those two agree, is a temporal outlier.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gincli.core.imagemath import LUMA_BT601, dilate_mask, to_unit_float
from gincli.core.lazy import cv2

COHERENCE_ROWS = 31  # rows a scratch response is averaged over; grain averages away, lines do not
VERTICAL_RUN = 15  # rows a scratch pixel's column run must span (1 / line_max_slant, roughly)
MIN_PAN = 3.0  # px of sideways camera motion between frames needed to tell picture lines from scratches
MAX_DRIFT = 2  # px a scratch may wander sideways from one frame to the next


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


def _shifted(image: np.ndarray, dx: float, dy: float) -> np.ndarray:
    matrix = np.float32([[1, 0, dx], [0, 1, dy]])
    return cv2.warpAffine(image, matrix, image.shape[::-1], flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def _component_means(labels: np.ndarray, count: int, values: np.ndarray) -> np.ndarray:
    sums = np.bincount(labels.ravel(), weights=values.ravel(), minlength=count)
    sizes = np.bincount(labels.ravel(), minlength=count)
    return sums / np.maximum(sizes, 1)


def line_scratch_mask(
    frame_grey: np.ndarray,
    thresholds: DamageThresholds = DamageThresholds(),
    neighbours: list[tuple[np.ndarray, tuple[float, float]]] = (),  # type: ignore[assignment]
) -> np.ndarray:
    """Thin, long, near-vertical bright or dark lines in one frame (H x W bool).

    ``neighbours``: nearby frames with their global shift onto this one. A line that the camera
    carried sideways (found where the shift puts it in a neighbour, not where it sits in the
    frame) is picture, a tree trunk or a mast, and is dropped; scratches stay put on the film."""
    h, _ = frame_grey.shape
    min_rows = max(COHERENCE_ROWS, thresholds.line_min_length * h)
    t = thresholds
    moving = [(n, shift) for n, shift in neighbours if abs(shift[0]) >= MIN_PAN]
    around = np.ones((1, 2 * MAX_DRIFT + 1), np.uint8)
    neighbour_responses = [(_line_responses(n, t.line_width), shift) for n, shift in moving]
    found = np.zeros(frame_grey.shape, bool)
    for polarity, response in enumerate(_line_responses(frame_grey, t.line_width)):
        # tolerate a slight slant: widen by a pixel each side before averaging down the rows
        coherent = cv2.blur(cv2.dilate(response, np.ones((1, 3), np.uint8)), (1, COHERENCE_ROWS))
        # a scratch pixel carries a good share of the line's strength; grain beside it does not
        candidate = (coherent > 0.6 * t.line_contrast) & (response > np.maximum(0.5 * t.line_contrast, 0.4 * coherent))
        # keep vertical runs only: slanted picture detail touching a scratch must not merge with it
        candidate = cv2.morphologyEx(candidate.astype(np.uint8), cv2.MORPH_OPEN, np.ones((VERTICAL_RUN, 1), np.uint8))
        count, labels, stats, _ = cv2.connectedComponentsWithStats(candidate, connectivity=8)
        height, width, area = (stats[:, k] for k in (cv2.CC_STAT_HEIGHT, cv2.CC_STAT_WIDTH, cv2.CC_STAT_AREA))
        keep = (
            (height >= min_rows)
            & (area <= (t.line_width + 2) * height)
            & (width <= t.line_width + 2 + t.line_max_slant * height)
        )
        for responses, (dx, dy) in neighbour_responses:
            on_film = _component_means(labels, count, cv2.dilate(responses[polarity], around))
            in_scene = _component_means(labels, count, cv2.dilate(_shifted(responses[polarity], dx, dy), around))
            keep &= ~(in_scene > np.maximum(on_film, 0.5 * t.line_contrast))
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
    """(dx, dy) that moves ``moving`` onto ``reference`` (phase correlation; weave and pans)."""
    window = cv2.createHanningWindow(reference.shape[::-1], cv2.CV_32F)
    (dx, dy), _ = cv2.phaseCorrelate(moving.astype(np.float32), reference.astype(np.float32), window)
    return dx, dy


def _covered(shape: tuple[int, int], dx: float, dy: float) -> np.ndarray:
    """Where a frame shifted by (dx, dy) still has real pixels."""
    return _shifted(np.ones(shape, np.float32), dx, dy) > 0.999


def dust_mask(
    previous: np.ndarray,
    current: np.ndarray,
    following: np.ndarray,
    thresholds: DamageThresholds = DamageThresholds(),
    shifts: tuple[tuple[float, float], tuple[float, float]] | None = None,
) -> np.ndarray:
    """One-frame specks and blotches: temporal outliers against both aligned neighbours (H x W bool).
    ``shifts``: each neighbour's global shift onto ``current`` (measured when not given)."""
    shifts = shifts or (global_shift(current, previous), global_shift(current, following))
    before, after = _shifted(previous, *shifts[0]), _shifted(following, *shifts[1])
    covered_before, covered_after = _covered(current.shape, *shifts[0]), _covered(current.shape, *shifts[1])
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
) -> np.ndarray:
    """Scratches and dust in ``current`` (H x W float32, 1 = damage). Neighbour frames may be
    None at the ends of a clip (the one that exists stands in for both; none: lines only)."""
    frame = grey(current)
    neighbours = [grey(f) for f in (previous, following) if f is not None]
    shifts = [global_shift(frame, n) for n in neighbours]
    found = line_scratch_mask(frame, thresholds, list(zip(neighbours, shifts, strict=True)))
    if neighbours:
        found |= dust_mask(neighbours[0], frame, neighbours[-1], thresholds, (shifts[0], shifts[-1]))
    return dilate_mask(found.astype(np.float32), thresholds.grow)
