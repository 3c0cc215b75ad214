"""Line scratches: thin, long, near-vertical lines that hold their place on the film. No I/O.

Scratches are thin (a few pixels), long, near-vertical lines, brighter or darker than the
picture beside them, often lasting several frames. A horizontal top-hat (the frame minus its
opening / closing by a short horizontal bar) keeps only structures narrower than the bar; a
tall running mean of that response keeps only what is coherent over many rows, which grain is
not; connected lines shorter than ``line_min_length`` of the frame height (or ``line_min_rows``
px, if fewer) are dropped. A scratch runs along the film: a line whose straight course leans
more than ``line_max_slant`` (a bicycle's frame tube, a wheel's rim, a leaning pole), or that
bends more than ``line_max_bend`` from straight (a parked bicycle's wheel), is picture (a
scratch merged with such a line keeps its own upright course). A scratch is cut into the film,
so its edges are sharp; a line that rises over several pixels (an out-of-focus pole, a soft
contour) is picture. A line whose two sides differ the same way all along it, in brightness or
colour (a rim between a wall and a doorway), is an edge of the scene: a scratch crosses
whatever lies under it, and its sides agree on average. Unless it came or went: a distant frame
shows the same picture beside it, its own pixels as they are without it (a scratch lying along
the edge of a face). A line that moves with the picture (the motion of the picture beside it
carries it to where it lies in another frame) is picture: a tree trunk, a mast. A line still at
the same place ``PERSISTENCE`` frames before and after (strong enough over its length, and not
plainly missing from a good part of it) is a persistent edge of the scene: picture as well,
unless the picture beside it moved on by then and left it behind (a long scratch under a pan);
a distant frame where the line is missing tells only if it shows the same picture beside the
line (not where something passed in front of it) and the line's own pixels changed there (not
the trough beside a scratch that came). A scratch holds its place on the film while the picture
moves, and comes and goes. The trough between a bright scratch and bright picture beside it is
no dark scratch (nor the ridge beside a dark one a bright one): it is gone once the scratch is
taken out. Only a line's own course is damage, not picture that touches it, and its fainter
stretches only where they stand out from the picture beside them (grass along its course is not
its continuation).
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from gincli.core.imagemath import connected_components, integer_to_unit, nonzero_pixels, to_unit_float
from gincli.core.lazy import cv2
from gincli.masks.motion import Motion, PictureMotion, at_pixels, dense_flow, read_at
from gincli.masks.thresholds import DamageThresholds

LinePair = tuple[np.ndarray, np.ndarray]  # a map for bright lines and one for dark lines

if TYPE_CHECKING:
    from gincli.masks.scratches import FrameView

COHERENCE_ROWS = 31  # rows a scratch response is averaged over; grain averages away, lines do not
VERTICAL_RUN = 15  # rows a scratch pixel's column run must span (1 / line_max_slant, roughly)
MAX_DRIFT = 2  # px a scratch may wander sideways from one frame to the next
PERSISTENCE = 12  # frames: a static line present this far before and after is part of the scene
# the line tests use the distant frames' motion only averaged over 61 px at a quarter of the size:
# their flow at that size gave the same masks on the four real clips as at full size
DISTANT_FLOW_SCALE = 0.25
SURROUNDINGS = 61  # px: the square over which the picture's motion beside a line is averaged
COHERENT_SHARE = 0.6  # a line pixel keeps this share of line_contrast in its row mean (coherent_map)
MIN_MOTION = 3.0  # px the picture beside a line must move for a line that went along to be told apart
WENT_ALONG = 0.6  # share of its strength a line shows where the picture's motion puts it, if it went along
# px the picture beside a line must have moved by a distant frame for a line still at its place on the
# film there to count as left behind by the scene (a scratch), not as a persistent edge of it
SCENE_MOVED_ON = 12.0
# a distant frame shows the same picture beside a line when it differs from this frame there (the
# mean over both sides, line_width + 2 px away) by under this share of the line's strength
SAME_PICTURE = 0.5
SIDEDNESS = 1.0  # a line whose sides differ by its own strength, on average along it, is an edge
# a found line's fainter stretch goes on only in rows where its row mean is this many times the most
# on the quieter side beside it (see stands_out). Planted damage (benchmarks/scratches.py), pixel
# precision / recall, first 120 frames of the four real clips, then the 43 held-out photos' pans:
# without the rule 0.84-0.88 / 0.60-0.79, 0.88 / 0.89; at 2, 0.89-0.97 / 0.58-0.78, 0.96 / 0.84;
# 1.5 and 3 had the same balance (F1), 3 precision 0.91-0.97 but photo recall 0.81
STANDS_OUT = 2.0
# a distant frame shows the line at its place when it has at least this share of the line's strength
# there: a scratch lying along a fainter scene line (a pole, a door frame) is stronger than that, and
# found. Against half, as before, on whole real clips with planted damage: recall 0.68 -> 0.69 on
# carphone, 0.83 -> 0.86 on Big Buck Bunny, clean footage flagged alike; 0.65 and more flagged bikes'
# scene edges that are fainter in a distant frame
SCENE_LINE_SHARE = 0.6
# ... and is not plainly missing (under this share of the line's response, pixel by pixel) from
# MISSING_PIXELS of its pixels where the picture beside them is the same: a scene line beside part
# of a scratch (a car's window pillar) is strong enough over the whole. Counting every pixel under
# 0.6 of its response instead (a share of 0.7 shown) flagged a seat tube in 40 frames of bikes
# (0.14 % of the clip): parts of it fade in a distant frame, without the picture beside changing
MISSING = 0.5
MISSING_PIXELS = 0.25
UPRIGHT_SHARE = 0.8  # share of a leaning candidate's rows its upright course must hold to be kept


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
    white = 1.0 if luma.dtype == np.float32 else np.iinfo(luma.dtype).max

    def level(operation: int, beyond: float) -> np.ndarray:
        padded = cv2.copyMakeBorder(luma, 0, 0, line_width, line_width, cv2.BORDER_CONSTANT, value=beyond)
        return cv2.morphologyEx(padded, operation, bar)[:, line_width:-line_width]

    bright = cv2.subtract(luma, level(cv2.MORPH_OPEN, white))  # the luma minus its opening
    dark = cv2.subtract(level(cv2.MORPH_CLOSE, 0), luma)  # its closing minus the luma
    return bright, dark


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
        # a key per line and row: the pixels come line by line, each line's in row order
        # (np.nonzero's), so a key's pixels are consecutive, from row_starts on
        self.row_keys = self.owner * (int(self.ys.max(initial=0)) + 1) + self.ys
        self.row_starts = np.flatnonzero(np.diff(self.row_keys, prepend=-1))

    def mean(self, values: np.ndarray, among: np.ndarray | None = None) -> np.ndarray:
        """Per line, the mean of ``values`` (one per pixel of :attr:`ys`, :attr:`xs`), over the
        pixels ``among`` marks (float 0 / 1 per pixel) where given."""
        if among is None:
            return np.bincount(self.owner, weights=values, minlength=self.ids.size) / self.sizes
        counts = np.maximum(np.bincount(self.owner, weights=among, minlength=self.ids.size), 1)
        return np.bincount(self.owner, weights=values * among, minlength=self.ids.size) / counts

    def mean_of_row_maxima(self, values: np.ndarray) -> np.ndarray:
        """Per line, the mean over the rows it spans of the largest of ``values`` (one per
        pixel) in each row."""
        if not self.row_starts.size:
            return np.zeros(self.ids.size)
        row_maxima, row_owners = np.maximum.reduceat(values, self.row_starts), self.owner[self.row_starts]
        counts = np.maximum(np.bincount(row_owners, minlength=self.ids.size), 1)
        return np.bincount(row_owners, weights=row_maxima, minlength=self.ids.size) / counts

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


class FoundLines(NamedTuple):
    """What one frame's own tests found: its line scratches, and what following them into
    other frames (:mod:`gincli.masks.tracks`) needs to know of its lines."""

    mask: np.ndarray  # H x W bool: the line scratches found
    # (rows, columns) of those of them a distant frame showed to be no persistent scene line:
    # missing there, where the picture beside them is the same and their own pixels changed (a
    # scene moving on past a line, as the picture's motion measured beside it tells, proves
    # less: a walker passing beside a door frame moved that measure by 35 px)
    proven: tuple[np.ndarray, np.ndarray]
    # (rows, columns) of the lines shaped as scratches that a distant frame showed to be the
    # scene's: at their place there, where the picture beside them is the same
    scene: tuple[np.ndarray, np.ndarray]


def line_scratches(
    frame: FrameView,
    thresholds: DamageThresholds = DamageThresholds(),
    neighbours: list[tuple[FrameView, Motion]] = (),  # type: ignore[assignment]
    distant: list[FrameView] = (),  # type: ignore[assignment]
) -> FoundLines:
    """Thin, long, near-vertical bright or dark lines in one frame (:class:`FoundLines`).

    ``neighbours``: the adjacent frames, with their :class:`Motion` from this one; ``distant``:
    frames about ``PERSISTENCE`` away (their motion is computed only if a candidate line needs
    it). A line leaning more than ``line_max_slant``, or bending more than ``line_max_bend``,
    is picture. A line with soft edges is picture. A line whose two sides differ the same way
    all along it is an edge of the scene, unless a distant frame shows the same picture beside
    it and its own pixels changed, the line neither at its place nor where the picture went
    there: it came or went. A line that
    the picture's motion carries (found where the motion of the picture beside it puts it in
    another frame, not where it sits on the film) is picture, a tree trunk or a mast. A line
    at the same place in every distant frame too is a persistent edge of the scene (scratches
    seldom last ``2 * PERSISTENCE`` frames), unless the picture beside it moved on by
    ``SCENE_MOVED_ON`` px and the line did not go with it; a distant frame where the line is
    missing counts only if it shows the same picture beside the line (``SAME_PICTURE``) and the
    line's own pixels changed there.
    Scratches stay put on the film while the picture moves, or come and go while it stays."""
    t = thresholds
    width = frame.grey.shape[1]
    candidates = [_line_candidates(response, t) for response in frame.responses]
    # each polarity's response on its candidate lines' pixels, and its mean per line
    on_lines = [
        integer_to_unit(response[lines.ys, lines.xs])
        for response, (_, lines, _) in zip(frame.responses, candidates, strict=True)
    ]
    strengths = [lines.mean(response) for response, (_, lines, _) in zip(on_lines, candidates, strict=True)]
    found, proven = np.zeros(frame.grey.shape, bool), np.zeros(frame.grey.shape, bool)
    scene: list[tuple[np.ndarray, np.ndarray]] = []
    kept = [
        (np.abs(slope) <= t.line_max_slant)
        & (bend <= t.line_max_bend)
        & _sharp_edged(frame.grey, lines, strength, t.line_sharpness)
        for strength, (_, lines, (slope, bend)) in zip(strengths, candidates, strict=True)
    ]
    if not any(keep.any() for keep in kept):
        none = (np.zeros(0, np.intp), np.zeros(0, np.intp))
        return FoundLines(found, none, none)  # the usual case on clean footage: no other frame looked at
    # lines whose sides differ as an edge's do (see _one_sided): picture, unless a distant frame
    # shows that they came or went (below)
    edges = [
        ~_one_sided(frame.image, lines, strength, t.line_width)
        for strength, (_, lines, _) in zip(strengths, candidates, strict=True)
    ]
    # every other frame, with the picture's motion from this one: adjacent frames see fast
    # motion, distant ones slow motion too (over PERSISTENCE frames a slow pan adds up)
    # (only their motion averaged at a quarter of the size is used: their flow is not enlarged).
    # The distant flow reads both frames with their thin vertical lines taken out: it is coarse
    # (it matches patches over 100 px across), and a strong scratch drew it along with its own
    # drift, so that the scratch looked carried by the picture. Planted damage, 120 frames of the
    # four real clips, 4 seeds: recall 0.809 / 0.782 / 0.561 / 0.634 -> 0.816 / 0.785 / 0.569 /
    # 0.635 at the same precision and clean footage's flags, against reading the motion beside
    # the lines further out (47 px) over a larger square (161 px), which it replaces
    far = [
        (view, dense_flow(frame.flow_without_lines, view.flow_without_lines, DISTANT_FLOW_SCALE, enlarge=False))
        for view in distant
    ]
    # the picture's motion beside the candidate lines, not on them: the flow follows a clear
    # scratch as it drifts over the film, and would carry it along like picture
    any_line = np.zeros(frame.grey.shape, np.uint8)
    for _, lines, _ in candidates:
        any_line |= (lines.labels > 0).astype(np.uint8)
    beside = PictureMotion(cv2.dilate(any_line, np.ones((1, 2 * t.line_width + 1), np.uint8)), SURROUNDINGS)
    # per line: missing from a distant frame that shows the same picture beside it, its own
    # pixels changed there: it came or went, as no scene line does (see FoundLines.proven)
    seen_missing = [np.zeros(keep.size, bool) for keep in kept]
    others = [(view, beside.around(motion.flow)) for view, motion in neighbours]
    others += [(view, beside.around(flow)) for view, flow in far]
    for polarity, ((_, lines, _), strength, keep) in enumerate(zip(candidates, strengths, kept, strict=True)):
        if not keep.any():
            continue
        # the line's columns moved by each drift, the same for every other frame
        shifted = {drift: lines.columns(drift, width) for drift in range(-MAX_DRIFT, MAX_DRIFT + 1)}
        persistent = np.ones(lines.ids.size, bool)  # at its place in every distant frame that can tell
        judged = np.zeros(lines.ids.size, bool)  # by at least one
        came_or_went = np.zeros(lines.ids.size, bool)  # missing from the same picture in one
        beside_line = [lines.columns(side * (t.line_width + 2), width) for side in (-1, 1)]
        mine_beside = [frame.grey[lines.ys, columns] for columns in beside_line]  # the same for every frame
        mine_on = frame.grey[lines.ys, lines.xs]
        mine_response = on_lines[polarity]
        for index, (view, picture) in enumerate(others):
            theirs = view.responses[polarity]
            on_film_pixels = integer_to_unit(np.max([theirs[lines.ys, c] for c in shifted.values()], axis=0))
            on_film = lines.mean(on_film_pixels)
            in_scene = np.zeros(lines.ys.size, np.float32)
            for drift, columns in shifted.items():
                motion = beside.at(picture, lines.ys, columns)  # flow x, flow y, speed
                warped = integer_to_unit(read_at(theirs, columns + motion[:, 0], lines.ys + motion[:, 1]))
                in_scene = np.maximum(in_scene, warped)
                if drift == 0:
                    speed = lines.mean(motion[:, 2])  # the picture's speed beside the line itself
            carried = lines.mean(in_scene)
            # the picture moved clearly, and the line went with it: picture
            keep &= ~((speed >= MIN_MOTION) & (carried > np.maximum(2 * on_film, WENT_ALONG * strength)))
            if index >= len(neighbours):
                # a distant frame. The picture moved far, and the line is not where it went:
                # whatever is still at the line's place was left behind by the scene (a long
                # scratch under a pan), so it says nothing of a persistent scene edge
                left_behind = (speed >= SCENE_MOVED_ON) & (carried < WENT_ALONG * strength)
                # a frame where the line is missing tells only if it shows the same picture
                # beside the line: else something passed in front of it there (a walker before
                # a door frame, a truck before a pole), or the scene moved on
                different = [
                    np.abs(view.grey[lines.ys, columns] - mine)
                    for columns, mine in zip(beside_line, mine_beside, strict=True)
                ]
                beside_change = (different[0] + different[1]) / 2
                same_beside = beside_change < SAME_PICTURE * strength[lines.owner]
                same_picture = lines.mean(beside_change) < SAME_PICTURE * strength
                # at its place: strong enough over its length, and not plainly missing from a
                # good part of it where the picture beside is the same (a scene line along part
                # of a scratch, a car's window pillar, is strong enough over the whole)
                missing = (on_film_pixels < MISSING * mine_response) & same_beside
                shown = (on_film > np.maximum(0.5 * t.line_contrast, SCENE_LINE_SHARE * strength)) & (
                    lines.mean(missing.astype(np.float64)) < MISSING_PIXELS
                )
                there = shown & ~left_behind
                # how much the line's own pixels changed: a scratch's change as it comes or
                # goes, while the trough beside a scratch that came stays as it was. A frame
                # where such a line is missing but its pixels are not (and the scene did not
                # move on) tells nothing against a scene line (a bright scratch beside a car's
                # bright window made the dark pillar strip between them come and go with it)
                own_change = lines.mean(np.abs(view.grey[lines.ys, lines.xs] - mine_on))
                still = (own_change < 0.5 * t.line_contrast) & ~left_behind
                persistent &= there | ~same_picture | still
                changed = own_change >= SAME_PICTURE * strength
                went = same_picture & changed & (carried < WENT_ALONG * strength)
                came_or_went |= went & ~there
                seen_missing[polarity] |= went & ~shown
                judged |= there | same_picture
        # at its place in every distant frame that can tell, and not left behind: the scene's
        scene_line = keep & persistent & judged
        on_scene_line = scene_line[lines.owner]
        scene.append((lines.ys[on_scene_line], lines.xs[on_scene_line]))
        keep &= ~scene_line
        # an edge-like line is damage only if a distant frame shows the same picture beside it
        # but not the line, neither at its place nor where the picture went: it came or went,
        # as an edge of the scene does not (a scratch lying along a face's or a door's edge).
        # Planted damage, 120 frames of the four real clips, 4 seeds: recall on movie.avi 0.636
        # -> 0.698, carphone 0.568 -> 0.591, bikes 0.815 -> 0.817; precision and clean footage's
        # flags the same or better. Without the test of the line's own pixels, the trough
        # between a scratch and a bright wall came and went with the scratch
        keep &= ~edges[polarity] | came_or_went
    line_sets = [lines for _, lines, _ in candidates]
    shadows = _shadows(frame.grey, frame.responses, line_sets, strengths, kept, t.line_width)
    for response, (coherent, lines, _), keep, shadow, came_or_went_seen in zip(
        frame.responses, candidates, kept, shadows, seen_missing, strict=True
    ):
        keep &= ~shadow
        # each line's own pixels on its course, then (hysteresis: scratches are straight)
        # its fainter stretches over busy picture where they lie on that course
        maps, floor = (response, coherent), 0.4 * t.line_contrast
        found[_along_lines(lines, keep & ~came_or_went_seen, t.line_width, maps, floor)] = True
        proven_pixels = _along_lines(lines, keep & came_or_went_seen, t.line_width, maps, floor)
        found[proven_pixels] = proven[proven_pixels] = True
    scene_rows, scene_columns = (np.concatenate([pixels[k] for pixels in scene] or [np.zeros(0, int)]) for k in (0, 1))
    return FoundLines(found, nonzero_pixels(proven), (scene_rows, scene_columns))


def _shadows(
    grey: np.ndarray,
    responses: tuple[np.ndarray, np.ndarray],
    lines: list[_Lines],
    strengths: list[np.ndarray],
    kept: list[np.ndarray],
    line_width: int,
) -> list[np.ndarray]:
    """Per polarity, which kept lines are only the shadow of a kept line of the other one: the
    trough between a bright scratch and bright picture beside it answers the dark top-hat like
    a line of its own (and moves with the scratch), as the ridge beside a dark scratch answers
    the bright one. A line is a shadow when, with the other polarity's kept lines taken out of
    the picture (set to the level the top-hat measured them against), its response falls under
    half its strength, and those lines do not fall with it taken out (a scratch beside a
    scene line that are each other's sides: both stay)."""
    if not (kept[0].any() and kept[1].any()):
        return [np.zeros(k.size, bool) for k in kept]
    bar = cv2.getStructuringElement(cv2.MORPH_RECT, (2 * line_width + 1, 1))
    sign = (1, -1)  # bright lines stand above the picture, dark ones below
    falls = []  # per polarity: which of its kept lines fall with the other's taken out
    for polarity, (mine, strength, keep) in enumerate(zip(lines, strengths, kept, strict=True)):
        other, other_keep, other_response = lines[1 - polarity], kept[1 - polarity], responses[1 - polarity]
        on = other_keep[other.owner]
        ys, xs = other.ys[on], other.xs[on]
        picture = grey.copy()
        picture[ys, xs] -= sign[1 - polarity] * integer_to_unit(other_response[ys, xs])
        # the top-hat's opening (closing) at the line's pixels, on the box around them only
        top_hat_level = partial(cv2.morphologyEx, op=cv2.MORPH_OPEN if polarity == 0 else cv2.MORPH_CLOSE, kernel=bar)
        level = at_pixels(mine.ys, mine.xs, 2 * line_width, top_hat_level, picture)
        remaining = sign[polarity] * (picture[mine.ys, mine.xs] - level)
        falls.append(keep & (mine.mean(remaining) < 0.5 * strength))
    shadows = []
    for polarity, (mine, fall) in enumerate(zip(lines, falls, strict=True)):
        # the other polarity's falling lines, widened by line_width: a pair that each fall
        other = lines[1 - polarity]
        on = falls[1 - polarity][other.owner]
        near = np.zeros(grey.shape, np.uint8)
        near[other.ys[on], other.xs[on]] = 1
        near = cv2.dilate(near, np.ones((1, 2 * line_width + 1), np.uint8))
        mutual = mine.mean(near[mine.ys, mine.xs].astype(np.float64)) >= 0.5
        shadows.append(fall & ~mutual)
    return shadows


def _sharp_edged(grey: np.ndarray, lines: _Lines, strength: np.ndarray, sharpness: float) -> np.ndarray:
    """Which ``lines`` have a scratch's sharp edges: in each row, somewhere on the line, the
    picture steps between two adjacent pixels by ``sharpness`` of the line's strength or more,
    on average along the line. A scratch is cut into the film and its edges are sharp (a
    1 px scratch steps by its whole contrast); an out-of-focus pole, a soft contour or a lit
    cheek rises over several pixels."""
    width = grey.shape[1]
    here = grey[lines.ys, lines.xs]
    steps = np.maximum(
        np.abs(grey[lines.ys, lines.columns(1, width)] - here), np.abs(here - grey[lines.ys, lines.columns(-1, width)])
    )
    return lines.mean_of_row_maxima(steps) >= sharpness * strength


def _one_sided(image: np.ndarray, lines: _Lines, strength: np.ndarray, distance: int) -> np.ndarray:
    """Which ``lines`` are not edges of the scene: the picture ``distance`` px left of a line
    minus the picture as far right of it, averaged along the line, stays under the line's own
    strength (``SIDEDNESS``) in every colour channel. An edge (a cheek against a window, grey
    fur against green grass) differs the same way all along it; a scratch crosses whatever
    lies under it, so what lies either side of it agrees on average."""
    width = image.shape[1]
    left = to_unit_float(image[lines.ys, lines.columns(-distance, width)])
    right = to_unit_float(image[lines.ys, lines.columns(distance, width)])
    difference = left - right
    keep = np.ones(lines.ids.size, bool)
    for channel in difference.T[:3] if difference.ndim == 2 else [difference]:
        keep &= np.abs(lines.mean(channel)) < SIDEDNESS * strength
    return keep


def coherent_map(response: np.ndarray) -> np.ndarray:
    """The response averaged down ``COHERENCE_ROWS`` rows, widened by a pixel each side first
    to tolerate a slight slant: lines keep their strength, grain averages away."""
    return cv2.blur(cv2.dilate(response, np.ones((1, 3), np.uint8)), (1, COHERENCE_ROWS))


def without_lines(grey: np.ndarray, responses: LinePair, line_contrast: float) -> np.ndarray:
    """``grey`` with its thin vertical lines taken out (scratches, poles, door frames: where a
    polarity's :func:`coherent_map` reaches ``COHERENT_SHARE`` of ``line_contrast``), each pixel
    set to the level its top-hat measured it against: the picture as the distant frames' coarse
    flow should read it."""
    picture = grey.copy()
    threshold = COHERENT_SHARE * line_contrast
    for operation, response in zip((cv2.subtract, cv2.add), map(integer_to_unit, responses), strict=True):
        operation(picture, response, dst=picture, mask=cv2.compare(coherent_map(response), threshold, cv2.CMP_GT))
    return picture


def shortest_scratch(height: int, t: DamageThresholds) -> float:
    """Rows the shortest scratch spans in a frame ``height`` px tall: ``line_min_length`` of the
    height, or ``line_min_rows`` if fewer, and never under ``COHERENCE_ROWS``."""
    return max(COHERENCE_ROWS, min(t.line_min_length * height, t.line_min_rows))


def _line_candidates(
    response: np.ndarray, t: DamageThresholds
) -> tuple[np.ndarray, _Lines, tuple[np.ndarray, np.ndarray]]:
    """(the response's :func:`coherent_map`, its candidate lines with a scratch's shape, their
    courses: :meth:`_Lines.courses`) for one polarity."""
    response = integer_to_unit(response)
    min_rows = shortest_scratch(response.shape[0], t)
    coherent = coherent_map(response)
    # a scratch pixel carries a good share of the line's strength; grain beside it does not
    candidate = (coherent > COHERENT_SHARE * t.line_contrast) & (
        response > np.maximum(0.5 * t.line_contrast, 0.4 * coherent)
    )
    # keep vertical runs only: slanted picture detail touching a scratch must not merge with it
    candidate = cv2.morphologyEx(candidate.astype(np.uint8), cv2.MORPH_OPEN, np.ones((VERTICAL_RUN, 1), np.uint8))
    labels, stats = components_in_columns(candidate)
    height, width, area = (stats[:, k] for k in (cv2.CC_STAT_HEIGHT, cv2.CC_STAT_WIDTH, cv2.CC_STAT_AREA))
    shaped = (
        (height >= min_rows)
        & (area <= (t.line_width + 2) * height)
        & (width <= t.line_width + 2 + t.line_max_slant * height)
    )
    shaped[0] = False
    band = t.line_width // 2 + 1
    lines = _Lines(labels, stats, shaped)
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
        lines = _Lines(labels, stats, shaped)
        slope, bend = lines.courses(band)
    return coherent, lines, (slope, bend)


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
    ``y``, columns ``x``, by least squares: one line's (:meth:`_Lines.courses` fits many at once)."""
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
    used = cv2.reduce(mask, 0, cv2.REDUCE_MAX)
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


def _along_lines(
    lines: _Lines, keep: np.ndarray, line_width: int, maps: tuple[np.ndarray, np.ndarray], floor: float
) -> tuple[np.ndarray, np.ndarray]:
    """(rows, columns) of each kept line's pixels within its half-width (plus one) of its
    fitted straight course x = a y + b, and of the faint pixels there (both ``maps``, the
    response and its row mean, above ``floor``, in rows where the row mean on the course
    stands out from beside it) from the line on up and down as long as no more than
    ``COHERENCE_ROWS`` rows in a row lack one: the line's fainter stretches over busy
    picture, not the picture's own detail further along its course (grass blades below a
    scratch that ends were taken as its continuation down to the frame's edge), nor picture
    that touches it (grass blades beside a scratch joined its candidate line). The course and
    width are those of most of its rows, so that a few such blades move neither. The maps are
    read at the band's pixels only."""
    height, width = maps[0].shape
    rows = np.arange(height)
    found_rows, found_columns = [], []
    for index in np.flatnonzero(keep):
        mine = lines.owner == index
        y, x = lines.ys[mine], lines.xs[mine]
        half = half_width(y, line_width)
        slope, offset = straight_course(y, x)
        on_course = np.abs(x - (slope * y + offset)) <= half
        slope, offset = straight_course(y[on_course], x[on_course])  # again without what joined it
        on_course = np.abs(x - (slope * y + offset)) <= half
        found_rows.append(y[on_course])
        found_columns.append(x[on_course])
        band_rows = np.repeat(rows, 2 * half + 1)
        band_columns = np.round(slope * band_rows + offset + np.tile(np.arange(-half, half + 1), height)).astype(int)
        inside = (band_columns >= 0) & (band_columns < width)
        band_rows, band_columns = band_rows[inside], band_columns[inside]
        chosen = np.logical_and.reduce([integer_to_unit(values[band_rows, band_columns]) > floor for values in maps])
        band_rows, band_columns = band_rows[chosen], band_columns[chosen]
        with_faint = np.zeros(height, bool)
        with_faint[band_rows] = True
        with_faint &= stands_out(maps[1], slope * rows + offset, half, line_width)
        top = y.min() - 1 - _reach(with_faint[: y.min()][::-1])
        bottom = y.max() + 1 + _reach(with_faint[y.max() + 1 :])
        within = (band_rows >= top) & (band_rows <= bottom)
        found_rows.append(band_rows[within])
        found_columns.append(band_columns[within])
    if not found_rows:
        return np.zeros(0, int), np.zeros(0, int)
    return np.concatenate(found_rows), np.concatenate(found_columns)


def stands_out(coherent: np.ndarray, course: np.ndarray, half: int, line_width: int) -> np.ndarray:
    """Per row, whether the :func:`coherent_map` within ``half`` px of a line's ``course`` (its
    column in each row) peaks at ``STANDS_OUT`` times the most it reaches in the ``line_width`` + 1
    columns just beyond on the quieter side: a scratch over busy picture adds its contrast to
    the picture's, while grass or foliage along its course is as strong beside it as on it, on
    both sides (strong on one side only is a scratch beside an edge of the picture)."""
    height, width = coherent.shape
    rows = np.arange(height)[:, None]
    centre = np.round(course).astype(int)[:, None]
    on = coherent[rows, np.clip(centre + np.arange(-half, half + 1), 0, width - 1)].max(axis=1)
    beyond = np.arange(half + 1, half + 2 + line_width)
    left, right = (coherent[rows, np.clip(centre + side, 0, width - 1)].max(axis=1) for side in (-beyond, beyond))
    return on > STANDS_OUT * np.minimum(left, right)


def _reach(present: np.ndarray) -> int:
    """How far a run of rows goes on along ``present`` (rows in order away from a line's end):
    the index of the last present row before more than ``COHERENCE_ROWS`` absent ones in a
    row, -1 if none."""
    positions = np.concatenate([[-1], np.flatnonzero(present)])
    too_far = np.diff(positions) - 1 > COHERENCE_ROWS
    return int(positions[np.argmax(too_far)] if too_far.any() else positions[-1])
