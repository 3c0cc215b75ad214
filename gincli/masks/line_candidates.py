"""Candidate line scratches: the thin, long, near-vertical lines of a frame, before any test of
picture against damage (:mod:`gincli.masks.lines` judges them). No I/O.

Scratches are thin (a few pixels), long, near-vertical lines, brighter or darker than the
picture beside them. A horizontal top-hat (the frame minus its opening / closing by a short
horizontal bar) keeps only structures narrower than the bar; a tall running mean of that
response keeps only what is coherent over many rows, which grain is not; connected lines
shorter than ``line_min_length`` of the frame height (or ``line_min_rows`` px, if fewer), or
wider than a scratch, are dropped. Each candidate's straight course and how far it bends from
straight are measured (the tests reject what leans or bends); a scratch merged with a leaning
scene line keeps its own upright course as a candidate of its own.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from gincli.core.imagemath import (
    connected_components,
    full_scale,
    integer_to_unit,
    nonzero_pixels,
    sorted_by_owner,
    to_unit_float,
)
from gincli.core.lazy import cv2
from gincli.masks.thresholds import DamageThresholds

LinePair = tuple[np.ndarray, np.ndarray]  # a map for bright lines and one for dark lines

COHERENCE_ROWS = 31  # rows a scratch response is averaged over; grain averages away, lines do not
VERTICAL_RUN = 15  # rows a scratch pixel's column run must span (1 / line_max_slant, roughly)
COHERENT_SHARE = 0.6  # a line pixel keeps this share of line_contrast in its row mean (coherent_map)
ROW_MEAN_SHARE = Fraction(2, 5)  # ... and holds this share of that row mean itself
UPRIGHT_SHARE = 0.8  # share of a leaning candidate's rows its upright course must hold to be kept
# a candidate's pixels are found at this contrast at most, whatever line_contrast asks: its shape
# (lean, bend, sharpness) is judged on the whole line, and the contrast asked decides only whether it
# is strong enough (gincli.masks.lines). Found at 1.5 times the contrast (--sensitivity low), a scene
# line on bikes.mp4 was only its core, upright and sharp where the whole leant and was soft: low
# flagged 0.0158 % of bikes' clean footage over 120 frames against normal's 0.0040 % (now 0.0023 %)
SHAPE_CONTRAST = DamageThresholds().line_contrast
# the least headroom a line's relative strength is measured against (relative_strengths): 13 of 255
# levels, so that a line over black (white) is not taken to darken (brighten) by nearly its whole
# headroom
LEAST_HEADROOM = 0.05
# the least share of line_contrast a dark line over dark picture must reach
# (DamageThresholds.line_full_headroom): its row mean 5 of 255 levels at the default contrast.
# Planted damage on bikes (120 frames, 2 seeds) made dark (--darken 0.35) and as it is, precision /
# recall, then the clean clip's flags: off 0.971 / 0.910, 0.945 / 0.951, 0.0049 %; at 0.5 (headroom
# 0.2) 0.850 / 0.962, 0.943 / 0.954, 0.0049 %; at 1/3 (0.2) 0.806 / 0.963 (picture flagged away from
# any damage 11,178 -> 29,495 px); at 1/3 (0.5) the clean clip 0.0755 % (a dark car's window pillar)
FAINTEST_LINE = 0.5


def line_responses(luma: np.ndarray, line_width: int) -> LinePair:
    """Horizontal top-hats, bright and dark: how much each pixel stands above or below the
    picture within ``line_width`` px to its sides; only features narrower than that respond.
    ``luma``: float32 in [0, 1], or 8- or 16-bit, worked in its own depth (exact, and half
    the time of float top-hats at 720p), the maps returned in that depth (a quarter of the
    memory of float32 at 8 bits: the detector holds 25 frames' maps; read them through
    :func:`integer_to_unit`).

    What lies beyond the frame's left and right edges is no side of a line: there the
    opening (closing) reads white (black). Else the strip between the edge and a bright
    scratch a few px in answered the dark top-hat as a dark line, the picture beyond the edge
    taken to be as bright as the scratch. Planted damage, 120 frames, 4 seeds: precision on
    movie.avi (160 px wide) 0.895 -> 0.907, carphone 0.905 -> 0.908, the rest and recall the
    same within 0.001; 0.5 ms more a 720p frame."""
    bar = cv2.getStructuringElement(cv2.MORPH_RECT, (2 * line_width + 1, 1))
    white = full_scale(luma.dtype)

    def level(operation: int, beyond: float) -> np.ndarray:
        padded = cv2.copyMakeBorder(luma, 0, 0, line_width, line_width, cv2.BORDER_CONSTANT, value=beyond)
        return cv2.morphologyEx(padded, operation, bar)[:, line_width:-line_width]

    bright = cv2.subtract(luma, level(cv2.MORPH_OPEN, white))  # the luma minus its opening
    dark = cv2.subtract(level(cv2.MORPH_CLOSE, 0), luma)  # its closing minus the luma
    return bright, dark


class CandidateLines:
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
        # a key per line and row: the pixels come line by line, each line's in row order
        # (np.nonzero's), so a key's pixels are consecutive, from row_starts on
        self.row_keys = self.owner * (int(self.ys.max(initial=0)) + 1) + self.ys
        self.row_starts = np.flatnonzero(np.diff(self.row_keys, prepend=-1))
        self.row_owners = self.owner[self.row_starts]  # the line each of those rows belongs to
        self.row_counts = np.bincount(self.row_owners, minlength=self.ids.size)  # rows each line holds

    def mean(self, values: np.ndarray, among: np.ndarray | None = None) -> np.ndarray:
        """Per line, the mean of ``values`` (one per pixel of :attr:`ys`, :attr:`xs`), over the
        pixels ``among`` marks (float 0 / 1 per pixel) where given."""
        if among is None:
            return np.bincount(self.owner, weights=values, minlength=self.ids.size) / self.sizes
        counts = np.maximum(np.bincount(self.owner, weights=among, minlength=self.ids.size), 1)
        return np.bincount(self.owner, weights=values * among, minlength=self.ids.size) / counts

    def row_maxima(self, values: np.ndarray) -> np.ndarray:
        """The largest of ``values`` (one per pixel) in each row of each line: one per row
        that a line holds a pixel in, lines in order, each one's rows top to bottom."""
        return np.maximum.reduceat(values, self.row_starts) if self.row_starts.size else np.zeros(0)

    def mean_over_rows(self, row_values: np.ndarray) -> np.ndarray:
        """Per line, the mean of ``row_values`` (one per row, as :meth:`row_maxima` gives)."""
        sums = np.bincount(self.row_owners, weights=row_values, minlength=self.ids.size)
        return sums / np.maximum(self.row_counts, 1)

    def median_over_rows(self, row_values: np.ndarray) -> np.ndarray:
        """Per line, the median of ``row_values`` (one per row, as :meth:`row_maxima` gives; the
        upper middle one where a line spans an even number of rows)."""
        if not self.row_starts.size:
            return np.zeros(self.ids.size)
        ranked, starts, counts = sorted_by_owner(self.row_owners, row_values, self.ids.size)
        return np.where(counts > 0, ranked[np.minimum(starts + counts // 2, ranked.size - 1)], 0.0)

    def courses(self, band: int) -> tuple[np.ndarray, np.ndarray]:
        """Per line, (the slope a, in columns per row, of its straight course x = a y + b; how
        far its course bends from straight, px). The slope is fitted through its pixels by
        least squares, then again through those within ``band`` px of that first course only,
        so that what joined the line's side does not set its lean (a dark suit's bright edge
        on bikes.mp4 leaned 0.052 so, under the limit, and was flagged; through its own course
        it leans 0.065). The bend is the sagitta, over the rows they span, of a parabola
        x = c y^2 + d y + e fitted through one point a row: the middle of those of its pixels
        within 1 px as near the straight course as the row's nearest. Through them all, grass
        joined at a scratch's side, even within ``band``, bent it as much as a wheel's rim."""
        y, x = self.ys.astype(np.float64), self.xs.astype(np.float64)
        among = None
        for _ in range(2):
            mean_y, mean_x = self.mean(y, among), self.mean(x, among)
            dy, dx = y - mean_y[self.owner], x - mean_x[self.owner]
            slope = self.mean(dy * dx, among) / np.maximum(self.mean(dy * dy, among), 1e-9)
            among = (np.abs(dx - slope[self.owner] * dy) <= band).astype(np.float64)
        # one point a row: the middle of its pixels within 1 px as near the course as its nearest
        off_course = np.where(among > 0, np.abs(dx - slope[self.owner] * dy), np.inf)
        starts, keys = self.row_starts, self.row_keys
        nearest = np.repeat(np.minimum.reduceat(off_course, starts), np.diff(starts, append=keys.size))
        on = ((off_course <= nearest + 1) & (among > 0)).astype(np.float64)
        among = on / np.maximum(np.bincount(keys, weights=on)[keys], 1)  # each row weighs the same
        dy = y - self.mean(y, among)[self.owner]  # centred on the course's own rows
        moments = [self.mean(dy**k, among) for k in range(5)]
        normal = np.stack([np.stack(moments[i : i + 3], -1) for i in range(3)], -2)
        weighted = np.stack([self.mean(x * dy**k, among) for k in range(3)], -1)
        curvature = np.linalg.solve(normal + 1e-9 * np.eye(3), weighted[..., None])[:, 2, 0]
        half_span = np.sqrt(3 * moments[2])  # rows evenly over the span: its variance is span^2 / 12
        return slope, np.abs(curvature) * half_span**2

    def columns(self, shift: int, width: int) -> np.ndarray:
        """The lines' columns moved ``shift`` px right, held inside a frame ``width`` px wide
        (what a morphological max or a replicated border sees there)."""
        return np.clip(self.xs + shift, 0, width - 1)


def coherent_map(response: np.ndarray, sums: np.ndarray | None = None) -> np.ndarray:
    """The response averaged down ``COHERENCE_ROWS`` rows, widened by a pixel each side first
    to tolerate a slight slant: lines keep their strength, grain averages away. ``response``:
    float32 in [0, 1], or 8- or 16-bit (its own depth, see :func:`line_responses`); returned
    as float32 in [0, 1]. ``sums``: its :func:`row_sums`, where the caller has them."""
    # summed in its own depth, scaled once: half the time of a float32 map's at 720p (the same
    # values within a float's last bit)
    sums = row_sums(response) if sums is None else sums
    return sums * np.float32(1 / (COHERENCE_ROWS * full_scale(response.dtype)))


def coherent_above(response: np.ndarray, level: float, sums: np.ndarray | None = None) -> np.ndarray:
    """Where the :func:`coherent_map` of ``response`` exceeds ``level`` (0-1): uint8, 255 there.
    Worked on its :func:`row_sums` (``sums``, where the caller has them): of an 8- or 16-bit
    response, whole numbers that float32 holds exactly, so the test is exact, and no float map
    of the frame is made (at 720p, most of the time of the lines' removal that the distant
    flows read, see :func:`gincli.masks.lines.without_lines`)."""
    sums = row_sums(response) if sums is None else sums
    return cv2.compare(sums, level * COHERENCE_ROWS * full_scale(response.dtype), cv2.CMP_GT)


def row_sums(response: np.ndarray) -> np.ndarray:
    """The response widened by a pixel each side, summed down ``COHERENCE_ROWS`` rows (float32;
    of an 8- or 16-bit response, whole numbers, exact)."""
    widened = cv2.dilate(response, np.ones((1, 3), np.uint8))
    return cv2.boxFilter(widened, cv2.CV_32F, (1, COHERENCE_ROWS), normalize=False)


def headroom(polarity: int, luma: np.ndarray, response: np.ndarray) -> np.ndarray:
    """The level a line's ``response`` (float, 0-1) was measured against, counted from black for
    a dark line (``polarity`` 1: the luma plus the response) and from white for a bright one
    (white less the luma, plus the response): the light a dark scratch can take away, the dark a
    bright one can fill. ``luma``: at the same pixels, uint8 or float 0-1."""
    luma = to_unit_float(luma)
    return luma + response if polarity == 1 else 1 - luma + response


def contrast_shares(polarity: int, luma: np.ndarray, response: np.ndarray, full_headroom: float) -> np.ndarray:
    """The share of ``line_contrast`` a line at these pixels must reach: for a dark line
    (``polarity`` 1), all of it where their :func:`headroom` (the light there) is at least
    ``full_headroom``, less in proportion below, never under ``FAINTEST_LINE``; all of it for a
    bright line, and everywhere where ``full_headroom`` is 0. Dirt on the film takes away a share
    of the light: over a dim scene a dark scratch that takes a third of it changes the luma by a
    few levels, under the contrast asked of lines over a face. A bright scratch is the film's
    emulsion scraped away, which lets the light through whatever the picture was (and bright
    picture is full of thin bright scene lines: window frames, cables against the sky)."""
    least = least_contrast_share(polarity, full_headroom)
    if least == 1.0:
        return np.ones(np.shape(response))
    return np.clip(headroom(polarity, luma, response) / full_headroom, least, 1.0)


def least_contrast_share(polarity: int, full_headroom: float) -> float:
    """The least share of ``line_contrast`` that :func:`contrast_shares` asks of a line of
    ``polarity``: ``FAINTEST_LINE`` for a dark line where ``full_headroom`` is set, else all."""
    return FAINTEST_LINE if full_headroom and polarity == 1 else 1.0


def relative_strengths(polarity: int, luma: np.ndarray, response: np.ndarray) -> np.ndarray:
    """A line's ``response`` (float, 0-1, at pixels whose ``luma`` is given: uint8, or float 0-1)
    as a share of its headroom: the level the top-hat measured it against, counted from black
    for a dark line (the luma plus the response) and from white for a bright one (white less the
    luma, plus the response), at least ``LEAST_HEADROOM``. A scratch takes away (adds) a share
    of the light that passes: over a dark suit a dark scratch answers a fraction of what it
    answers over a face, and the same share of its headroom."""
    return response / np.maximum(headroom(polarity, luma, response), LEAST_HEADROOM)


def shortest_scratch(height: int, t: DamageThresholds) -> float:
    """Rows the shortest scratch spans in a frame ``height`` px tall: ``line_min_length`` of the
    height, or ``line_min_rows`` if fewer, and never under ``COHERENCE_ROWS``."""
    return max(COHERENCE_ROWS, min(t.line_min_length * height, t.line_min_rows))


def line_candidates(
    response: np.ndarray, t: DamageThresholds, polarity: int = 0, luma: np.ndarray | None = None
) -> tuple[CandidateLines, tuple[np.ndarray, np.ndarray], np.ndarray]:
    """(the candidate lines of one polarity's ``response`` (in its own depth, see
    :func:`line_responses`) with a scratch's shape, their courses:
    :meth:`CandidateLines.courses`, the response's :func:`row_sums` they were found on).
    ``luma``: the frame's (float 0-1), over whose dim picture the contrast asked of dark lines
    (``polarity`` 1) falls (:func:`contrast_shares`); without it, it does not."""
    min_rows = shortest_scratch(response.shape[0], t)
    sums = row_sums(response)
    # a scratch pixel carries a good share of the line's strength, grain beside it does not; and
    # only vertical runs are kept: slanted picture detail touching a scratch must not merge with it
    pixels = _line_pixels(response, sums, t, polarity, luma)
    candidate = cv2.morphologyEx(pixels, cv2.MORPH_OPEN, np.ones((VERTICAL_RUN, 1), np.uint8))
    labels, stats = components_in_columns(candidate)
    height, width, area = (stats[:, k] for k in (cv2.CC_STAT_HEIGHT, cv2.CC_STAT_WIDTH, cv2.CC_STAT_AREA))
    shaped = (
        (height >= min_rows)
        & (area <= (t.line_width + 2) * height)
        & (width <= t.line_width + 2 + t.line_max_slant * height)
    )
    shaped[0] = False
    band = t.line_width // 2 + 1
    lines = CandidateLines(labels, stats, shaped)
    slope, bend = lines.courses(band)
    leaning = (np.abs(slope) > t.line_max_slant) | (bend > t.line_max_bend)
    # a scratch that touches a leaning scene line (a car's window pillar) merges with it into one
    # candidate that leans: its upright course goes on as the candidate, where that spans most of
    # its rows and what it leaves is a line of its own, as long as the shortest scratch (not the
    # ends of a wheel's rim, whose upright middle is no scratch: bikes.mp4, frame 223). Planted
    # damage, 120 frames of carphone, 2 seeds: 11 % of the scratch pixels missed lay on
    # candidates that leaned so (their upright courses then mostly failed persistence, till
    # MISSING_PIXELS)
    carved = False
    for index in np.flatnonzero(leaning):
        mine = lines.owner == index
        y, x = lines.ys[mine], lines.xs[mine]
        on = _upright_course(y, x, t.line_width, t.line_max_slant)
        if on is not None and np.ptp(y[on]) + 1 >= min_rows and np.unique(y[~on]).size >= min_rows:
            labels[y[~on], x[~on]] = 0
            carved = True
    if carved:
        lines = CandidateLines(labels, stats, shaped)
        slope, bend = lines.courses(band)
    return lines, (slope, bend), sums


def _line_pixels(
    response: np.ndarray, sums: np.ndarray, t: DamageThresholds, polarity: int = 0, luma: np.ndarray | None = None
) -> np.ndarray:
    """The pixels (uint8, 255) of a ``response`` (in its own depth; ``sums``: its
    :func:`row_sums`) that may belong to a line: its
    :func:`coherent_map` reaches ``COHERENT_SHARE`` of the contrast asked (at most
    ``SHAPE_CONTRAST``), and the pixel holds ``ROW_MEAN_SHARE`` of that and half the contrast.

    Worked on the sums down ``COHERENCE_ROWS`` rows rather than their means: of an 8- or 16-bit
    response, whole numbers that float32 holds exactly, so that each test is exact (a third of
    the time of the float32 maps at 720p); the pixel's own level in its own depth (OpenCV
    compares integers with a fractional bound exactly), and scaled to the sums' float32 in the
    same step (2.9 against 5.6 ms a 720p response).

    With ``luma``, the contrast falls with the :func:`headroom` of each pixel
    (:func:`contrast_shares`): the frame is tested at the least it may fall to, and the few
    pixels that pass are tested again at their own share."""
    contrast, full = min(t.line_contrast, SHAPE_CONTRAST), full_scale(response.dtype)
    least = 1.0 if luma is None else least_contrast_share(polarity, t.line_full_headroom)
    share = ROW_MEAN_SHARE.denominator * COHERENCE_ROWS / ROW_MEAN_SHARE.numerator  # of the sums, exact in float32
    coherent = coherent_above(response, COHERENT_SHARE * contrast * least, sums)
    held = cv2.bitwise_and(
        cv2.compare(response, 0.5 * contrast * least * full, cv2.CMP_GT),
        cv2.compare(cv2.multiply(response, share, dtype=cv2.CV_32F), sums, cv2.CMP_GT),
    )
    pixels = cv2.bitwise_and(coherent, held)
    if least < 1.0:
        ys, xs = nonzero_pixels(pixels)
        own = response[ys, xs]
        bar = contrast * contrast_shares(polarity, luma[ys, xs], integer_to_unit(own), t.line_full_headroom)
        weak = (own <= 0.5 * bar * full) | (sums[ys, xs] <= COHERENT_SHARE * bar * COHERENCE_ROWS * full)
        pixels[ys[weak], xs[weak]] = 0
    return pixels


def _upright_course(y: np.ndarray, x: np.ndarray, line_width: int, max_slant: float) -> np.ndarray | None:
    """Which pixels of a line (rows ``y``, columns ``x``) lie on its best upright course: the
    straight course leaning at most ``max_slant`` in whose band (the line's usual half width,
    :func:`half_width`) the most rows have a pixel, if that holds ``UPRIGHT_SHARE`` of the
    line's rows and not all of its pixels; else None."""
    rows = y - y.min()
    half = half_width(y, line_width)
    # slopes a column apart over the line's height: a course is found within a pixel
    slopes = np.linspace(-max_slant, max_slant, 2 * int(np.ceil(max_slant * (rows.max() + 1))) + 1)[:, None]
    # the line's runs: pixels of a row less than a band apart (they come in row order, each row's
    # left to right). A run covers the course columns within half of its pixels, and the runs of
    # a row cover columns apart: counting runs counts rows
    run = np.flatnonzero(np.diff(rows, prepend=-1) | (np.diff(x, prepend=x[0]) > 2 * half))
    last = np.append(run[1:], y.size) - 1

    def straightened(index: np.ndarray) -> np.ndarray:  # per slope, the pixels' columns along it
        return np.round(x[index] - slopes * rows[index]).astype(np.int64)

    starts = straightened(run)
    lowest = starts.min(axis=1, keepdims=True)  # each slope's leftmost column: 0
    first, end = starts - lowest, straightened(last) - lowest + 2 * half + 1
    width = int(end.max()) + 1
    steps = np.bincount(
        np.concatenate([(np.arange(slopes.size)[:, None] * width + edge).ravel() for edge in (first, end)]),
        np.concatenate([np.ones(first.size), -np.ones(end.size)]),
        minlength=slopes.size * width,
    )
    # per slope and course column (from half left of the leftmost pixel): rows within half of it
    rows_in_band = np.cumsum(steps.reshape(slopes.size, width), axis=1)
    slope, centre = np.unravel_index(np.argmax(rows_in_band), rows_in_band.shape)
    best = np.abs(straightened(np.arange(y.size))[slope] - lowest[slope] + half - centre) <= half
    if rows_in_band[slope, centre] < UPRIGHT_SHARE * np.unique(rows).size or best.all():
        return None
    return best


def straight_course(y: np.ndarray, x: np.ndarray) -> tuple[float, float]:
    """(slope, offset) of the straight course x = slope * y + offset through the pixels at rows
    ``y``, columns ``x``, by least squares: one line's (:meth:`CandidateLines.courses` fits many at once)."""
    centred = y - y.mean()
    slope = float(centred @ (x - x.mean())) / max(float(centred @ centred), 1e-9)
    return slope, float(x.mean() - slope * y.mean())


def half_width(y: np.ndarray, line_width: int) -> int:
    """Half the usual width of a line whose pixels lie in rows ``y`` (its median pixels a row,
    at most ``line_width``), plus one: the band around its course that holds it."""
    per_row = np.bincount(y - y.min())
    return int(min(line_width, np.median(per_row[per_row > 0])) / 2 + 1)


def components_in_columns(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`connected_components`' labels and statistics of a uint8 mask, labelled on the
    columns that hold its pixels and the ones beside them only where those are under half of
    the frame's (clean footage: a few dozen of a 720p frame's 1280; in grass, nearly all, and
    picking them out cost more than it saved). The same labels and statistics (the
    background's, row 0, excepted): a component's columns are contiguous, so it keeps its
    shape, and parts that are apart stay apart, an empty column between them."""
    used = mask.max(axis=0, keepdims=True)  # numpy's column maxima: a twentieth of cv2.reduce's time at 720p
    columns = np.flatnonzero(cv2.dilate(used, np.ones((1, 3), np.uint8))[0])
    if not columns.size:
        return np.zeros(mask.shape, np.int32), np.array([[0, 0, *mask.shape[::-1], mask.size]], np.int32)
    if 2 * columns.size > mask.shape[1]:
        return connected_components(mask)[1:]
    _, narrow, stats = connected_components(np.ascontiguousarray(mask[:, columns]))
    labels = np.zeros(mask.shape, np.int32)
    labels[:, columns] = narrow
    stats[1:, cv2.CC_STAT_LEFT] = columns[stats[1:, cv2.CC_STAT_LEFT]]
    return labels, stats
