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
  So is a line whose two sides differ the same way all along it, in brightness or colour (a
  rim between a wall and a doorway): a scratch crosses whatever lies under it, and its sides
  agree on average.
  A scratch holds its place on the film while the picture moves, and comes and goes.
- Dust and blotches sit in one frame only: after warping both neighbours onto the frame by
  dense optical flow (DIS; weave, pans and moving objects alike), a pixel much brighter (or
  darker) than the same place in the previous *and* the next frame, while those two agree, is a
  temporal outlier. Not where the flow jumps (the edges of moving things): there warping
  misplaces the picture, and the outliers it leaves are not dust. Nor where a like difference
  lies a few pixels off in a neighbour frame: that is a small thing moving faster than the flow
  follows (a ball, teeth as a mouth opens), which leaves a trail; dust leaves none.

:func:`damage_masks` runs the detector over a stream of frames with the window it needs.
"""

from __future__ import annotations

import functools
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace

import numpy as np

from gincli.core.imagemath import LUMA_BT601, dilate_mask, to_unit_float
from gincli.core.lazy import cv2

COHERENCE_ROWS = 31  # rows a scratch response is averaged over; grain averages away, lines do not
VERTICAL_RUN = 15  # rows a scratch pixel's column run must span (1 / line_max_slant, roughly)
MAX_DRIFT = 2  # px a scratch may wander sideways from one frame to the next
PERSISTENCE = 12  # frames: a static line present this far before and after is part of the scene
# the line tests use the distant frames' motion only averaged over 61 px at a quarter of the size:
# their flow at that size gave the same masks on the four real clips as at full size
DISTANT_FLOW_SCALE = 0.25
# the neighbours' flow to each other only judges where the motion is steady: at half size the
# clean shares flagged on the four real clips moved by at most 0.0001 % of the pixels
ACROSS_FLOW_SCALE = 0.5
SURROUNDINGS = 61  # px: the square over which the picture's motion beside a line is averaged
MIN_MOTION = 3.0  # px the picture beside a line must move for a line that went along to be told apart
# a shot cut: the mean difference of two frames' contrast-normalised 32 x 18 thumbnails (cuts on
# the real clips measure 0.86-1.14; pans, moving people and flicker at most 0.5)
CUT_DIFFERENCE = 0.6
MIN_LARGEST_SPECK = 150  # px: a blotch 14 px across is dust however small the frame (dust_max_area)
SIDEDNESS = 1.0  # a line whose sides differ by its own strength, on average along it, is an edge
TRAIL_LIKENESS = 0.5  # a trail differs from this frame by at least half the speck's own contrast


@dataclass(frozen=True)
class DamageThresholds:
    """Detector settings; intensities are fractions of full scale (0-1)."""

    line_contrast: float = 0.07  # how much brighter or darker than its sides a scratch must be
    line_width: int = 7  # widest scratch (px); wider vertical features are picture, not damage
    line_min_length: float = 0.2  # shortest scratch, as a fraction of the frame height
    line_max_slant: float = 0.06  # columns a scratch may move sideways per row (about 3.5 degrees)
    dust_contrast: float = 0.12  # how far a speck differs from both neighbour frames
    dust_max_area: float = 0.002  # largest speck, as a fraction of the frame area (at least 150 px)
    # px: how far the picture's motion at a speck (from one neighbour frame to the other) may
    # depart from its mean over 9 x 9 px; more (the edges of moving things, where warping
    # misplaces the picture) is not trusted as dust
    dust_flow_roughness: float = 0.25
    # px: how far a speck's trail may lie in a neighbour frame (0: no trail test; see _has_trail)
    dust_trail_radius: int = 12
    grow: int = 1  # pixels added around everything found (scratch edges are soft)

    def at_sensitivity(self, level: str) -> DamageThresholds:
        """These thresholds with both contrasts scaled for ``level`` (see :data:`SENSITIVITY`)."""
        if level not in SENSITIVITY:
            raise ValueError(f"unknown sensitivity {level!r}; choose {', '.join(SENSITIVITY)}")
        scale = SENSITIVITY[level]
        return replace(self, line_contrast=self.line_contrast * scale, dust_contrast=self.dust_contrast * scale)


# how faint damage may be and still be found, as a factor on both contrast thresholds; the
# levels' false alarms and recall on real footage are in the README
SENSITIVITY = {"low": 1.5, "normal": 1.0, "high": 0.7}


def grey(image: np.ndarray) -> np.ndarray:
    """H x W (x 3) image of any dtype -> float32 luma in [0, 1] (``cv2.transform`` with the
    BT.601 weights: a fifth of the time of a matrix product on a 720p frame)."""
    if image.ndim == 2:
        return to_unit_float(image)
    weights = LUMA_BT601[None].astype(np.float64)
    if np.issubdtype(image.dtype, np.integer):  # scaled to [0, 1] in the same pass
        return cv2.transform(image[..., :3].astype(np.float32), weights / np.iinfo(image.dtype).max)
    return cv2.transform(np.ascontiguousarray(to_unit_float(image)[..., :3]), weights)


@dataclass(frozen=True)
class FrameView:
    """What the detector needs of one frame, computed once however many frames look at it:
    its luma, its bright and dark line responses, a thumbnail that tells shot cuts, and the
    frame itself (its colours tell an edge from a scratch, see :func:`line_scratch_mask`)."""

    grey: np.ndarray
    responses: tuple[np.ndarray, np.ndarray]
    thumbnail: np.ndarray
    image: np.ndarray

    @classmethod
    def of(cls, image: np.ndarray, thresholds: DamageThresholds) -> FrameView:
        luma = grey(image)
        small = cv2.resize(luma, (32, 18), interpolation=cv2.INTER_AREA)
        normalised = (small - small.mean()) / (small.std() + 0.02)  # flicker is no cut
        return cls(luma, _line_responses(luma, thresholds.line_width), normalised, image)

    def starts_shot_after(self, previous: FrameView) -> bool:
        """Whether a cut lies between ``previous`` and this frame."""
        return float(np.abs(self.thumbnail - previous.thumbnail).mean()) > CUT_DIFFERENCE


def _line_responses(frame_grey: np.ndarray, line_width: int) -> tuple[np.ndarray, np.ndarray]:
    """Horizontal top-hats: how much each pixel stands above (bright) or below (dark) the
    picture within ``line_width`` px to its sides; only features narrower than that respond."""
    bar = cv2.getStructuringElement(cv2.MORPH_RECT, (2 * line_width + 1, 1))
    bright = frame_grey - cv2.morphologyEx(frame_grey, cv2.MORPH_OPEN, bar)
    dark = cv2.morphologyEx(frame_grey, cv2.MORPH_CLOSE, bar) - frame_grey
    return bright, dark


def dense_flow(reference: np.ndarray, moving: np.ndarray, scale: float = 1.0, enlarge: bool = True) -> np.ndarray:
    """H x W x 2 flow such that ``reference[p]`` shows what ``moving[p + flow[p]]`` shows (DIS
    optical flow on grey frames in [0, 1]): camera motion and moving objects alike. ``scale``
    below 1 computes it on the frames shrunk by that factor (a quarter of the work at 0.5),
    for tests that use the motion only coarsely; never under 320 px wide, where the
    picture's detail would be lost to the flow. ``enlarge=False`` leaves it at that size
    (still in full-size px), for a caller that shrinks it further."""
    height, width = reference.shape
    scale = max(scale, min(1.0, 320 / width))
    small = (round(width * scale), round(height * scale))
    if small != (width, height):
        reference, moving = (cv2.resize(g, small, interpolation=cv2.INTER_AREA) for g in (reference, moving))
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_FAST)
    flow = dis.calc(cv2.convertScaleAbs(reference, alpha=255), cv2.convertScaleAbs(moving, alpha=255), None)
    if small == (width, height):
        return flow
    flow *= np.float32([width / small[0], height / small[1]])  # to full-size px (before enlarging: 4 x less work)
    if not enlarge:
        return flow
    return cv2.resize(flow, (width, height), interpolation=cv2.INTER_LINEAR)


@dataclass(frozen=True)
class Motion:
    """Another frame's placement relative to this one, from the flow: where each pixel of this
    frame is found there (remap coordinates, computed when first asked for), and whether that
    lies inside it."""

    flow: np.ndarray

    @functools.cached_property
    def _maps(self) -> tuple[np.ndarray, np.ndarray]:
        height, width = self.flow.shape[:2]
        xs = np.arange(width, dtype=np.float32)[None, :] + self.flow[..., 0]
        return xs, np.arange(height, dtype=np.float32)[:, None] + self.flow[..., 1]

    def covers(self, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
        """Whether the places of pixels (``ys``, ``xs``) in the other frame lie inside it."""
        (height, width), (dx, dy) = self.flow.shape[:2], self.flow[ys, xs].T
        there_x, there_y = xs.astype(np.float32) + dx, ys.astype(np.float32) + dy
        return (there_x >= 0) & (there_x <= width - 1) & (there_y >= 0) & (there_y <= height - 1)

    def warp(self, image: np.ndarray) -> np.ndarray:
        """``image`` (of the other frame) carried onto this frame."""
        return cv2.remap(image, *self._maps, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def _roughness(flow: np.ndarray, frame_shape: tuple[int, int], ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """How far the flow at pixels (``ys``, ``xs``) of a frame of ``frame_shape`` departs from
    its mean over about 9 x 9 px of the frame (px): high on the edges of moving things, where
    the flow jumps and warping cannot be trusted. ``flow`` may be at a reduced size (in
    full-size px, see :func:`dense_flow`): it is judged at that size, over as many of its
    pixels as cover 9 of the frame's, and read off at the nearest one."""
    (height, width), (frame_height, frame_width) = flow.shape[:2], frame_shape
    box = max(1, round(9 * width / frame_width)) | 1
    deviation = flow - cv2.blur(flow, (box, box))
    rough = cv2.magnitude(deviation[..., 0], deviation[..., 1])
    return rough[ys * height // frame_height, xs * width // frame_width]


def _around(
    ys: np.ndarray, xs: np.ndarray, reach: int, local: Callable[..., np.ndarray], *images: np.ndarray
) -> np.ndarray:
    """``local(*images)`` at pixels (``ys``, ``xs``), for an operation that looks at most
    ``reach`` px away: computed on the box around those pixels only (a few per cent of a frame
    for the dust candidates), with the same values as on the whole frame, since every pixel
    looked at lies ``reach`` px inside the box or at the frame's own edge."""
    if not ys.size:
        return np.zeros(0, images[0].dtype)
    top, left = max(0, ys.min() - reach), max(0, xs.min() - reach)
    box = local(*(image[top : ys.max() + reach + 1, left : xs.max() + reach + 1] for image in images))
    return box[ys - top, xs - left]


class _PictureMotion:
    """The picture's motion around each pixel rather than at it: the flow averaged over
    ``SURROUNDINGS`` px, leaving out the ``excluded`` pixels. The average is smooth, so it is
    taken at a quarter of the size and read off at the pixels asked for, as a full-size
    (bilinear) enlargement of it would show them."""

    def __init__(self, excluded: np.ndarray) -> None:
        height, width = excluded.shape
        self.small = (max(1, width // 4), max(1, height // 4))
        self.weights = cv2.resize(1.0 - excluded.astype(np.float32), self.small, interpolation=cv2.INTER_AREA)
        self.box = (SURROUNDINGS // 4 | 1,) * 2
        self.total = np.maximum(cv2.blur(self.weights, self.box), 1e-3)
        self.ratio = np.float32([self.small[0] / width, self.small[1] / height])

    def around(self, flow: np.ndarray) -> np.ndarray:
        """The averaged flow (quarter size) and its speed (px a frame, or per the frames
        between) as a third channel."""
        small = cv2.resize(flow, self.small, interpolation=cv2.INTER_AREA) * self.weights[..., None]
        averaged = cv2.blur(small, self.box) / self.total[..., None]
        return np.dstack([averaged, cv2.magnitude(averaged[..., 0], averaged[..., 1])])

    def at(self, averaged: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
        """N x 3: :meth:`around`'s channels at the full-size pixels (``ys``, ``xs``)."""
        # cv2.resize's bilinear mapping: pixel centres line up
        map_x = ((xs + 0.5) * self.ratio[0] - 0.5).astype(np.float32)[None]
        map_y = ((ys + 0.5) * self.ratio[1] - 0.5).astype(np.float32)[None]
        return cv2.remap(averaged, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)[0]


class _Lines:
    """The candidate lines of one polarity that have a scratch's shape, held as their pixels:
    the tests look at those only, a tiny share of the frame, never at whole images."""

    def __init__(self, labels: np.ndarray, stats: np.ndarray, shaped: np.ndarray) -> None:
        self.labels = labels  # every candidate's label, shaped or not
        self.ids = np.flatnonzero(shaped)
        rows, cols, owners = [], [], []
        for index, label in enumerate(self.ids):
            x, y, w, h = stats[label, :4]
            ys, xs = np.nonzero(labels[y : y + h, x : x + w] == label)
            rows.append(ys + y)
            cols.append(xs + x)
            owners.append(np.full(ys.size, index))
        self.ys, self.xs, self.owner = (np.concatenate(a) if a else np.zeros(0, int) for a in (rows, cols, owners))
        self.sizes = np.maximum(np.bincount(self.owner, minlength=self.ids.size), 1)

    def mean(self, values: np.ndarray) -> np.ndarray:
        """Per line, the mean of ``values`` (one per pixel of :attr:`ys`, :attr:`xs`)."""
        return np.bincount(self.owner, weights=values, minlength=self.ids.size) / self.sizes

    def columns(self, shift: int, width: int) -> np.ndarray:
        """The lines' columns moved ``shift`` px right, held inside a frame ``width`` px wide
        (what a morphological max or a replicated border sees there)."""
        return np.clip(self.xs + shift, 0, width - 1)


def line_scratch_mask(
    frame: FrameView,
    thresholds: DamageThresholds = DamageThresholds(),
    neighbours: list[tuple[FrameView, Motion]] = (),  # type: ignore[assignment]
    distant: list[FrameView] = (),  # type: ignore[assignment]
) -> np.ndarray:
    """Thin, long, near-vertical bright or dark lines in one frame (H x W bool).

    ``neighbours``: the adjacent frames, with their :class:`Motion` from this one; ``distant``:
    frames about ``PERSISTENCE`` away (their motion is computed only if a candidate line needs
    it). A line whose two sides differ the same way all along it is an edge of the scene. A
    line that the picture's motion carries (found where the motion of the picture beside it
    puts it in another frame, not where it sits on the film) is picture, a tree trunk or a
    mast. A line at the same place in every distant frame too is a persistent edge of the
    scene: scratches seldom last ``2 * PERSISTENCE`` frames. Scratches stay put on the film
    while the picture moves, or come and go while it stays."""
    t = thresholds
    width = frame.grey.shape[1]
    candidates = [_line_candidates(response, t) for response in frame.responses]
    found = np.zeros(frame.grey.shape, bool)
    kept = [
        _one_sided(frame.image, lines, response, t.line_width)
        for response, (_, lines) in zip(frame.responses, candidates, strict=True)
    ]
    if not any(keep.any() for keep in kept):
        return found  # the usual case on clean footage: no other frame needs looking at
    # every other frame, with the picture's motion from this one: adjacent frames see fast
    # motion, distant ones slow motion too (over PERSISTENCE frames a slow pan adds up)
    # (only their motion averaged at a quarter of the size is used: their flow is not enlarged)
    far = [(view, dense_flow(frame.grey, view.grey, DISTANT_FLOW_SCALE, enlarge=False)) for view in distant]
    # the picture's motion beside the candidate lines, not on them: the flow follows a clear
    # scratch as it drifts over the film, and would carry it along like picture
    on_lines = np.zeros(frame.grey.shape, np.uint8)
    for _, lines in candidates:
        on_lines |= (lines.labels > 0).astype(np.uint8)
    beside = _PictureMotion(cv2.dilate(on_lines, np.ones((1, 2 * t.line_width + 1), np.uint8)))
    others = [(view, beside.around(flow)) for view, flow in [*((v, m.flow) for v, m in neighbours), *far]]
    drifts = range(-MAX_DRIFT, MAX_DRIFT + 1)
    for polarity, (response, (coherent, lines), keep) in enumerate(zip(frame.responses, candidates, kept, strict=True)):
        if not keep.any():
            continue
        strength = lines.mean(response[lines.ys, lines.xs])
        on_film = []  # each other frame's response where the line sits on the film
        for view, picture in others:
            theirs = view.responses[polarity]
            on_film.append(lines.mean(np.max([theirs[lines.ys, lines.columns(d, width)] for d in drifts], axis=0)))
            in_scene = np.zeros(lines.ys.size, np.float32)
            for d in drifts:
                columns = lines.columns(d, width)
                flow_x, flow_y, _ = beside.at(picture, lines.ys, columns).T
                map_x, map_y = (columns + flow_x)[None].astype(np.float32), (lines.ys + flow_y)[None].astype(np.float32)
                warped = cv2.remap(theirs, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)[0]
                in_scene = np.maximum(in_scene, warped)
            # the picture moved clearly, and the line went with it: picture
            moved = lines.mean(beside.at(picture, lines.ys, lines.xs)[:, 2]) >= MIN_MOTION
            keep &= ~(moved & (lines.mean(in_scene) > np.maximum(2 * on_film[-1], 0.6 * strength)))
        if far:
            # the line is there, in the same place, in the distant frames too: the scene's
            persistent = np.ones(lines.ids.size, bool)
            for there in on_film[len(neighbours) :]:
                persistent &= there > np.maximum(0.5 * t.line_contrast, 0.5 * strength)
            keep &= ~persistent
        if keep.any():
            found[lines.ys[keep[lines.owner]], lines.xs[keep[lines.owner]]] = True
            # hysteresis along each line: scratches are straight, so fainter stretches of a
            # line (over busy picture) are taken back where they lie on the line's own course
            ys, xs = _along_lines(lines, keep, t.line_width)
            faint = (response[ys, xs] > 0.4 * t.line_contrast) & (coherent[ys, xs] > 0.4 * t.line_contrast)
            found[ys[faint], xs[faint]] = True
    return found


def _one_sided(image: np.ndarray, lines: _Lines, response: np.ndarray, distance: int) -> np.ndarray:
    """Which ``lines`` are not edges of the scene: the picture ``distance`` px left of a line
    minus the picture as far right of it, averaged along the line, stays under the line's own
    strength (``SIDEDNESS``) in every colour channel. An edge (a cheek against a window, grey
    fur against green grass) differs the same way all along it; a scratch crosses whatever
    lies under it, so what lies either side of it agrees on average."""
    strength = lines.mean(response[lines.ys, lines.xs])
    width = image.shape[1]
    left = to_unit_float(image[lines.ys, lines.columns(-distance, width)])
    right = to_unit_float(image[lines.ys, lines.columns(distance, width)])
    difference = left - right
    keep = np.ones(lines.ids.size, bool)
    for channel in difference.T[:3] if difference.ndim == 2 else [difference]:
        keep &= np.abs(lines.mean(channel)) < SIDEDNESS * strength
    return keep


def _coherent(response: np.ndarray) -> np.ndarray:
    """The response averaged down ``COHERENCE_ROWS`` rows, widened by a pixel each side first
    to tolerate a slight slant: lines keep their strength, grain averages away."""
    return cv2.blur(cv2.dilate(response, np.ones((1, 3), np.uint8)), (1, COHERENCE_ROWS))


def _line_candidates(response: np.ndarray, t: DamageThresholds) -> tuple[np.ndarray, _Lines]:
    """(the response's :func:`_coherent` map, its candidate lines with a scratch's shape)
    for one polarity."""
    h = response.shape[0]
    min_rows = max(COHERENCE_ROWS, t.line_min_length * h)
    coherent = _coherent(response)
    # a scratch pixel carries a good share of the line's strength; grain beside it does not
    candidate = (coherent > 0.6 * t.line_contrast) & (response > np.maximum(0.5 * t.line_contrast, 0.4 * coherent))
    # keep vertical runs only: slanted picture detail touching a scratch must not merge with it
    candidate = cv2.morphologyEx(candidate.astype(np.uint8), cv2.MORPH_OPEN, np.ones((VERTICAL_RUN, 1), np.uint8))
    _, labels, stats, _ = cv2.connectedComponentsWithStats(candidate, connectivity=8)
    height, width, area = (stats[:, k] for k in (cv2.CC_STAT_HEIGHT, cv2.CC_STAT_WIDTH, cv2.CC_STAT_AREA))
    shaped = (
        (height >= min_rows)
        & (area <= (t.line_width + 2) * height)
        & (width <= t.line_width + 2 + t.line_max_slant * height)
    )
    shaped[0] = False
    return coherent, _Lines(labels, stats, shaped)


def _along_lines(lines: _Lines, keep: np.ndarray, line_width: int) -> tuple[np.ndarray, np.ndarray]:
    """(rows, columns) within the half-width (plus one) of each kept line's fitted straight
    course x = a y + b, over the frame's height."""
    height, width = lines.labels.shape
    rows = np.arange(height)
    band = np.zeros(lines.labels.shape, bool)
    for index in np.flatnonzero(keep):
        mine = lines.owner == index
        y, x = lines.ys[mine], lines.xs[mine]
        slope, offset = np.polyfit(y, x, 1)
        half = min(line_width, y.size / (np.ptp(y) + 1)) / 2 + 1
        centre = slope * rows + offset
        for left in range(-int(half), int(half) + 1):
            cols = np.round(centre + left).astype(int)
            inside = (cols >= 0) & (cols < width)
            band[rows[inside], cols[inside]] = True
    return np.nonzero(band)


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
    motions: tuple[Motion, Motion] | None = None,
) -> np.ndarray:
    """One-frame specks and blotches: temporal outliers against both neighbours warped onto
    ``current`` (grey frames; H x W bool). ``motions``: each neighbour's :class:`Motion` from
    ``current``, computed here if not given."""
    motions = motions or (Motion(dense_flow(current, previous)), Motion(dense_flow(current, following)))
    before, after = motions[0].warp(previous), motions[1].warp(following)
    t = thresholds.dust_contrast
    to_before, to_after = current - before, current - after
    nearer = np.minimum(to_before, to_after)
    outlier = (nearer > t) | (np.maximum(to_before, to_after) < -t)
    ys, xs = np.nonzero(outlier & (np.abs(before - after) < t))  # the neighbours agree
    # the few candidates are judged one by one from here on
    found = np.zeros(current.shape, bool)
    ys, xs = _where(motions[0].covers(ys, xs) & motions[1].covers(ys, xs), ys, xs)
    if ys.size:  # a speck's neighbours warped from where the picture's motion is steady
        across = dense_flow(previous, following, ACROSS_FLOW_SCALE, enlarge=False)  # no speck sways it
        ys, xs = _where(_roughness(across, current.shape, ys, xs) < thresholds.dust_flow_roughness, ys, xs)
    bright = nearer[ys, xs] > t
    contrast = np.minimum(np.abs(to_before[ys, xs]), np.abs(to_after[ys, xs]))
    trailed = _has_trail(ys, xs, bright, contrast, current, (before, after), thresholds.dust_trail_radius)
    ys, xs = _where(~trailed, ys, xs)
    largest = max(thresholds.dust_max_area * current.size, MIN_LARGEST_SPECK)
    specks = np.zeros(current.shape, np.uint8)
    specks[ys, xs] = 1
    found[ys, xs] = _around(ys, xs, 1, lambda box: _small_parts(box, largest), specks)
    return found


def _where(chosen: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return ys[chosen], xs[chosen]


def _small_parts(mask: np.ndarray, largest: float) -> np.ndarray:
    """Which pixels of a uint8 mask belong to 8-connected parts of at most ``largest`` px."""
    _, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    keep = stats[:, cv2.CC_STAT_AREA] <= largest
    keep[0] = False
    return keep[labels]


def _has_trail(
    ys: np.ndarray,
    xs: np.ndarray,
    bright: np.ndarray,
    contrast: np.ndarray,
    current: np.ndarray,
    warped: tuple[np.ndarray, np.ndarray],
    radius: int,
) -> np.ndarray:
    """Which specks' pixels (``ys``, ``xs``) have a trail. Dust is in one frame only; a small
    thing that moves faster than the flow follows (a ball, teeth as a mouth opens, a hand) was
    a little way off in a neighbour frame, so there, within ``radius`` px, that neighbour
    differs from this frame with the speck's own sign and at least ``TRAIL_LIKENESS`` of its
    contrast."""
    near = np.ones((2 * radius + 1, 2 * radius + 1), np.uint8)
    trailed = np.zeros(ys.size, bool)
    for sign, polarity, extreme in ((1.0, bright, np.maximum), (-1.0, ~bright, np.minimum)):
        if polarity.any():
            # the larger of the two neighbours' differences within ``radius``: one dilation of
            # their extreme, the same as the larger of two dilations
            def spread(
                before: np.ndarray, after: np.ndarray, now: np.ndarray, sign: float = sign, extreme=extreme
            ) -> np.ndarray:
                return cv2.dilate(sign * (extreme(before, after) - now), near)

            trail = _around(ys[polarity], xs[polarity], radius, spread, *warped, current)
            trailed[polarity] = trail >= TRAIL_LIKENESS * contrast[polarity]
    return trailed


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
    view = lambda image: FrameView.of(image, thresholds) if image is not None else None  # noqa: E731
    return _damage(view(previous), view(current), view(following), [view(d) for d in distant], thresholds)


def _damage(
    previous: FrameView | None,
    current: FrameView,
    following: FrameView | None,
    distant: list[FrameView],
    thresholds: DamageThresholds,
) -> np.ndarray:
    neighbours = [(v, Motion(dense_flow(current.grey, v.grey))) for v in (previous, following) if v is not None]
    found = line_scratch_mask(current, thresholds, neighbours, distant)
    if neighbours:
        (first, first_motion), (last, last_motion) = neighbours[0], neighbours[-1]
        found |= dust_mask(first.grey, current.grey, last.grey, thresholds, (first_motion, last_motion))
    return dilate_mask(found.astype(np.float32), thresholds.grow)


def damage_masks(
    images: Iterable[np.ndarray], thresholds: DamageThresholds = DamageThresholds(), workers: int = 1
) -> Iterator[np.ndarray]:
    """The damage mask of every frame of a clip, in order, each found with its neighbours and
    the frames ``PERSISTENCE`` before and after (those that exist at the clip's ends). Streams:
    holds ``2 * PERSISTENCE + 1`` frames, each prepared once (:class:`FrameView`), and up to
    ``2 * workers`` detections in flight on ``workers`` threads (OpenCV releases the GIL)."""
    if workers <= 1:
        yield from (_damage(*frames, thresholds) for frames in _detection_windows(images, thresholds))
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending: deque[Future[np.ndarray]] = deque()
        for frames in _detection_windows(images, thresholds):
            pending.append(pool.submit(_damage, *frames, thresholds))
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _detection_windows(
    images: Iterable[np.ndarray], thresholds: DamageThresholds
) -> Iterator[tuple[FrameView | None, FrameView, FrameView | None, list[FrameView]]]:
    """(previous, current, following, distant) for every frame in order: what detecting it needs.

    Only frames of the same shot count. Across a cut the picture is another one: a neighbour
    there says nothing about dust, and a scene line that starts with its shot would pass for a
    scratch that comes and goes. The distant frames are the ones ``PERSISTENCE`` away that lie
    in the same shot: one of them, or none, near the ends of a shot (using the shot's first or
    last frame instead, when at least 4 or 8 frames away, measured no better: fewer false
    alarms on bikes, more on movie.avi, recall within 0.02 over 120 frames)."""
    buffer: deque[tuple[FrameView, int]] = deque()  # each frame with its shot's number
    first = 0  # the clip index of buffer[0]
    upcoming = 0  # the next frame to detect

    def window(i: int) -> tuple[FrameView | None, FrameView, FrameView | None, list[FrameView]]:
        current, shot = buffer[i - first]

        def at(j: int) -> FrameView | None:
            held = first <= j < first + len(buffer)
            return buffer[j - first][0] if held and buffer[j - first][1] == shot else None

        distant = [view for view in (at(i - PERSISTENCE), at(i + PERSISTENCE)) if view is not None]
        previous, following = at(i - 1), at(i + 1)
        # a shot's first or last frame: the two frames on its one side judge it, so that dust
        # must still differ from two frames that agree, not from one alone
        if previous is None:
            previous = at(i + 2)
        elif following is None:
            following = at(i - 2)
        return previous, current, following, distant

    for newest, image in enumerate(images):
        view = FrameView.of(image, thresholds)
        shot = buffer[-1][1] + view.starts_shot_after(buffer[-1][0]) if buffer else 0
        buffer.append((view, shot))
        while upcoming + PERSISTENCE <= newest:
            yield window(upcoming)
            upcoming += 1
            while first < upcoming - PERSISTENCE:
                buffer.popleft()
                first += 1
    while upcoming < first + len(buffer):
        yield window(upcoming)
        upcoming += 1
