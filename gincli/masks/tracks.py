"""Line scratches followed through time: a scratch found in one frame is sought at its place on
the film in the frames before and after it. No I/O.

A frame's own tests (:func:`gincli.masks.lines.line_scratches`) judge a line from that frame
and its window alone, and miss a scratch where it breaks into pieces over busy picture, where
its edges soften, or while the picture beside it has not moved yet (a scratch from a shot's
first frame is still at its place twelve frames on, as a scene line would be). A scratch holds
its place on the film from one frame to the next (drifting at most ``MAX_DRIFT`` px) and takes
away (adds) about the same share of the light: once a frame's tests found it, it is sought in
the next frame and the previous one along its course, with the same polarity, at least
``KEPT_STRENGTH`` of the share of its headroom it took where it was found
(:func:`~gincli.masks.line_candidates.relative_strengths`), its response and its row mean above
``FAINT_FLOOR`` of the contrast asked of it (``line_contrast``, or its share over dim picture:
:func:`~gincli.masks.line_candidates.contrast_shares`), and standing out from the picture beside it, in
``FOLLOWED_ROWS`` of its rows and at least the shortest scratch's; then on from there, up to
``line_follow`` frames from the frame that found it, each way, within its shot. A line that
leans is not followed (a leaning scene line beside a scratch would be walked along).

The share, not the response itself: a dark scratch found over a face answers the top-hat with a
fraction of that where a dark suit moves under it, and sought at half its response it was lost
there. Planted damage, 120 frames of the four real clips, 4 seeds, precision / recall, half its
response -> half its share: bikes 0.951 / 0.903 -> 0.950 / 0.912, Big Buck Bunny 0.952 / 0.914 ->
0.949 / 0.917, carphone 0.912 / 0.724 -> 0.909 / 0.746, movie.avi 0.926 / 0.789 -> 0.926 /
0.793; clean footage's flags the same (bikes' whole clip 0.0093 -> 0.0096 %).

Over dark picture that share is a few levels: a dark scratch that takes away a third of the
light takes 10 levels of a dark coat (28), and its row mean fell under the bar a new line must
clear (``COHERENT_SHARE`` of ``line_contrast``, 11 levels). A followed scratch is sought along a
known course only, where grain's row mean stays far under that, so it needs the floor that a
found line's fainter stretches need (``FAINT_FLOOR``, 7 levels). Planted damage, 120 frames of
the four real clips, 4 seeds, precision / recall: carphone 0.913 / 0.882 -> 0.910 / 0.888,
movie.avi 0.935 / 0.857 -> 0.933 / 0.866, bikes 0.958 / 0.944 -> 0.954 / 0.946, Big Buck Bunny
0.954 / 0.939 -> 0.950 / 0.940; clean footage's flags the same (bikes' whole clip 0.0066 %), the
photos' pans 0.959 / 0.952 -> 0.958 / 0.954 at 0.008 %. Of the pixels it adds away from the
planted damage, a third on carphone and two thirds on movie.avi lie on a scratch's course, where
it changed the picture by under 10 levels; the most of the rest in one frame (carphone, frame 69
of one planting) lay over the dark suit where a scratch had been ten frames before. At 0.45 and
0.5 of ``line_contrast``: carphone 0.911 / 0.887 and 0.912 / 0.887, movie.avi 0.932 / 0.866 and
0.933 / 0.858.

Standing out guards against walking along picture detail that lies on a scratch's course (grass
below its end). It also stopped a scratch beside a scene line (a car's window pillar a few px
off; the stand-out rule reads the quieter side, and busy picture on the other side was not
quiet). A scratch proven no scene line (below) is also followed in rows where the picture
beside its course is unchanged from the frame it was followed from (``STILL_BESIDE``): what
stands beside it there stood beside it before, and a line at its place with its strength is
the same scratch. Planted damage, 120 frames of the four real clips, 4 seeds, recall: carphone
0.698 -> 0.724, movie.avi 0.764 -> 0.789, bikes 0.900 -> 0.903, Big Buck Bunny 0.878 -> 0.914,
precision 0.003 lower on each, clean footage's flags the same. Every track alike, proven or
not: bikes 0.912, Big Buck Bunny 0.918, the small clips within 0.004 (not taken: an unproven
line may be a scene line); at 0.5 of line_contrast, carphone 0.765 but precision 0.901.

Standing out tells where a followed scratch is found, and so how far it reaches; between its
first and last rows found, it is taken wherever it is there, standing out or not (rows beside a
pole, or busy picture on both sides): the picture detail that standing out guards against lies
along its course beyond its ends. 120 frames as above, precision / recall: bikes 0.950 / 0.912 ->
0.949 / 0.914, Big Buck Bunny 0.949 / 0.917 -> 0.948 / 0.919, carphone 0.909 / 0.746 -> 0.909 /
0.751, movie.avi 0.926 / 0.793 -> 0.925 / 0.797; clean footage's flags the same.

A found line is followed whole: its pieces a row or two apart are one track (its mask breaks
where it crosses an edge of the picture, a row shifting sideways, and a piece shorter than the
shortest scratch was followed no further). 120 frames as above, precision / recall: carphone
0.909 / 0.751 -> 0.907 / 0.770, movie.avi 0.925 / 0.797 -> 0.925 / 0.805, bikes 0.949 / 0.914 ->
0.949 / 0.922, Big Buck Bunny 0.948 / 0.919 -> 0.948 / 0.927; clean footage's flags the same.

A scratch found in a frame before and after one where it is lost (the frame between has it
too, most likely) is sought there in fewer rows: a quarter of its rows found
(``BRACKETED_ROWS``) instead of half. 120 frames as above, precision / recall: carphone 0.907 /
0.770 -> 0.904 / 0.781, movie.avi 0.925 / 0.805 -> 0.923 / 0.813, bikes 0.949 / 0.922 -> 0.949
/ 0.924, Big Buck Bunny 0.948 / 0.927 -> 0.946 / 0.927; clean footage's flags the same. A
quarter of its rows in every frame it is followed into instead: carphone 0.891 / 0.788
(movie.avi 0.921 / 0.812): two thirds more recall for five times the precision lost.

A followed scratch there (strong and coherent enough) in nearly all its rows (``PRESENT_ROWS``)
is found in all of them, standing out or not, if it stood out from the picture beside it where
its frame's tests found it (in ``STOOD_OUT`` of its rows, 0.35 when measured below; 0.3 since,
as a scratch along a nose's shadow stood out in 34.7 %: carphone 0.920 / 0.812 -> 0.921 / 0.816,
movie.avi 0.946 / 0.826 -> 0.946 / 0.831, the rest the same): a wide dark scratch crossing a
face, a bow tie and a shirt was there in 92 % of its rows in the next frame but stood out in
45 %, busy picture on both sides, and was lost there and in the ten frames after. A line that did
not stand out where it was found either (amid poles, or a window pillar's dark strip beside a
bright scratch) is not followed so, unless proven no scene line (below). 120 frames as above,
precision / recall: carphone 0.917 / 0.780 -> 0.908 / 0.813, movie.avi 0.940 / 0.811 -> 0.919 /
0.830, bikes 0.959 / 0.924 -> 0.958 / 0.927, Big Buck Bunny 0.959 / 0.927 -> 0.958 / 0.927;
bikes' whole clean clip 0.0081 -> 0.0092 % (250 frames). Without ``STOOD_OUT``: carphone 0.904 /
0.818, movie.avi 0.916 / 0.836, and at 0.8 of the rows 0.895 / 0.823, 0.910 / 0.842;
``STOOD_OUT`` at half: carphone 0.910 / 0.790. What it costs: a scene line that one frame's
tests took for a scratch goes on wherever it stays at its columns, as under a vertical pan (the
held-out photos' pans: 0.008 -> 0.010 % of clean pixels flagged, a facade's corner line). A line
that a distant frame proved no scene line is followed so whether or not it stood out: a dark
scratch over a bookshelf's dark spines (movie.avi) stood out in a quarter of its rows where its
frame's tests found it whole, and the frames before, where it was there in all its rows, had it
over the wall above the shelf only. 120 frames as above: movie.avi 0.933 / 0.866 -> 0.928 /
0.873; carphone, bikes and Big Buck Bunny the same within 0.001, clean footage's flags the same.

A scratch followed into a frame whose own tests found it too goes no further (their line is
followed on itself), but adds its pixels more than ``BEYOND_OWN`` px from theirs: where those
tests found part of it (its stretch over a dark suit, or its end over busy picture left out), the
rest was lost before. 120 frames as above, precision / recall: carphone 0.921 / 0.816 -> 0.916 /
0.825, movie.avi 0.946 / 0.831 -> 0.943 / 0.836; all of it, not only its pixels beyond theirs:
carphone 0.909 / 0.826 (its band, a drift off theirs, added pixels beside the scratch). Its band
is the drift that holds the most of the row mean, centred on the scratch: the drift that held
the highest peaks, as before, was the first of several whose bands reached the peak, and a wide
scratch was followed off its middle (carphone 0.915 / 0.842 -> 0.920 / 0.847, movie.avi 0.943 /
0.838 -> 0.935 / 0.846). The pixels it adds join that line's track, so that the line is followed
on over the whole scratch, not over the part its own tests found (carphone 0.918 / 0.853 ->
0.917 / 0.855, movie.avi 0.936 / 0.849 -> 0.935 / 0.854).

Following must not spread a scene line that one frame's tests took for a scratch over its whole
shot. A line is followed onto a line that the frame's own tests showed to be the scene's (at its
place in a distant frame that shows the same picture beside it) only if a distant frame proved
it no scene line where it was found (missing there beside the same picture, its own pixels
changed: :attr:`FoundLines.proven`) and it keeps ``SCENE_KEPT_STRENGTH`` of its strength there:
a scratch that lasts longer than ``PERSISTENCE`` frames on a still shot is at its place in its
distant frames too, and is found where one of them no longer shows it; a door frame's edge
that a walker hid from the distant frames is not proven, nor is a pole that a scratch lay over
for a while as strong without it. A distant frame where the picture beside the line changed
tells the frames around nothing (it may show another line there): carphone 0.916 / 0.825 ->
0.915 / 0.842, movie.avi 0.943 / 0.836 -> 0.943 / 0.838 (120 frames as above).

Planted damage (``benchmarks/scratches.py``, 120 frames of the four real clips, 2 seeds),
pixel recall without following -> with it: carphone 0.613 -> 0.707, movie.avi 0.719 -> 0.758,
bikes 0.771 -> 0.891, Big Buck Bunny 0.802 -> 0.866; precision the same within 0.001, clean
footage's flags the same. Every found line followed alike, proven or not: the door frame's
edge flagged through a whole still shot. No line followed onto a scene line: 0.672, 0.752,
0.814, 0.843.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from functools import partial
from typing import Generic, TypeVar

import numpy as np

from gincli.core.imagemath import integer_to_unit, nonzero_pixels
from gincli.core.lazy import cv2
from gincli.masks.line_candidates import (
    COHERENCE_ROWS,
    VERTICAL_RUN,
    LinePair,
    coherent_map,
    components_in_columns,
    contrast_shares,
    half_width,
    relative_strengths,
    shortest_scratch,
    straight_course,
)
from gincli.masks.lines import FAINT_FLOOR, MAX_DRIFT, FoundLines, stands_out
from gincli.masks.thresholds import DamageThresholds

# share of its relative strength where found (see relative_strengths) a scratch keeps where it is followed
KEPT_STRENGTH = 0.5
FOLLOWED_ROWS = 0.5  # share of its rows a followed scratch must be found in
# a followed scratch there (strong and coherent enough) in this share of its rows is found in all of
# them, standing out or not, if it stood out in STOOD_OUT of its rows where its frame's tests found it
PRESENT_ROWS = 0.9
STOOD_OUT = 0.3
# ... or, in a frame between two that have it (bracketed), this share and VERTICAL_RUN rows at least
BRACKETED_ROWS = 0.25
# a followed pixel's response is at least this share of the most in its row on the course: the
# scratch's core, not the soft edge the top-hat also answers beside it (at half, precision on
# carphone 0.900 against 0.903)
CORE = 0.7
NEAR_FOUND = 2  # px: a followed line this near a line the frame's own tests found is that line
# px: where it is, the followed line adds its pixels this far from that line's along their rows only
BEYOND_OWN = 4
# share of its strength a scratch keeps where it is followed onto a line the frame's own tests
# showed to be the scene's: a scratch that lies over a scene line adds to it, so there its whole
# strength, not the scene line's alone, goes on (a pole under a scratch answered with 0.54 of
# their sum). 0.65 to 0.9 measured alike on the four real clips
SCENE_KEPT_STRENGTH = 0.8
# a row's picture beside a proven scratch's course (beyond its band and drift) is unchanged from the
# frame it was followed from when it differs from it by under this share of line_contrast on average
STILL_BESIDE = 0.25
BRIDGED_ROWS = 2  # rows between two pieces of a found line that still make one track (found_tracks)

Payload = TypeVar("Payload")


@dataclass(frozen=True)
class LineTrack:
    """A scratch's pixels in one frame, with what following it on needs."""

    rows: np.ndarray
    columns: np.ndarray
    polarity: int  # which map of a LinePair it answers: 0 bright, 1 dark
    strength: float  # its mean response in the frame whose own tests found it
    relative_strength: float  # there, its mean response as a share of its headroom (relative_strengths)
    contrast: float  # the line contrast asked of it over its picture there (contrast_shares)
    frames_away: int  # from that frame
    proven: bool  # whether a distant frame showed it there to be no scene line (FoundLines.proven)
    # the share of its rows where it stood out from the picture beside it (stands_out), there
    stood_out: float


def found_tracks(
    mask: np.ndarray, proven: bool, responses: LinePair, luma: np.ndarray, t: DamageThresholds
) -> list[LineTrack]:
    """The lines a frame's own tests found (``mask``: H x W uint8, 1 on their pixels; ``luma``:
    the frame's, uint8), each long enough to be a scratch on its own, as tracks to follow: with
    the polarity it answers most."""
    height = mask.shape[0]
    if not cv2.countNonZero(mask):
        return []
    # pieces of a line up to BRIDGED_ROWS apart are one track: a scratch's mask breaks where it
    # crosses an edge of the picture, and a piece shorter than the shortest scratch was not followed
    labels, stats = components_in_columns(cv2.dilate(mask, np.ones((2 * BRIDGED_ROWS + 1, 3), np.uint8)))
    shortest = shortest_scratch(height, t)
    long_enough = stats[:, cv2.CC_STAT_HEIGHT] >= shortest  # with the bridging's rows: checked again below
    long_enough[0] = False  # the background
    tracks = []
    for label in np.flatnonzero(long_enough):
        x, y, w, h = stats[label, :4]
        ys, xs = np.nonzero((labels[y : y + h, x : x + w] == label) & (mask[y : y + h, x : x + w] > 0))
        if ys.max() - ys.min() + 1 < shortest:  # every part holds a pixel of the mask
            continue
        ys, xs = ys + y, xs + x
        on = [integer_to_unit(response[ys, xs]) for response in responses]
        polarity = int(np.argmax([values.mean() for values in on]))
        relative = float(relative_strengths(polarity, luma[ys, xs], on[polarity]).mean())
        shares = contrast_shares(polarity, luma[ys, xs], on[polarity], t.line_full_headroom)
        contrast = t.line_contrast * float(shares.mean())
        stood_out = _share_standing_out(ys, xs, responses[polarity], t.line_width)
        strength = float(on[polarity].mean())
        tracks.append(LineTrack(ys, xs, polarity, strength, relative, contrast, 0, proven, stood_out))
    return tracks


def _share_standing_out(rows: np.ndarray, columns: np.ndarray, response: np.ndarray, line_width: int) -> float:
    """The share of a line's rows (its pixels ``rows``, ``columns``) where it stands out from the
    picture beside it in ``response`` (:func:`stands_out`), read on the box around it only."""
    slope, offset = straight_course(rows, columns)
    half = half_width(rows, line_width)
    spanned = np.arange(rows.min(), rows.max() + 1)
    course = slope * np.arange(response.shape[0]) + offset
    _, coherent, top, left = _around_course(response, spanned, course, half + line_width + 3)
    return float(
        stands_out(coherent, course[top : top + coherent.shape[0]] - left, half, line_width)[spanned - top].mean()
    )


def _around_course(
    response: np.ndarray, rows: np.ndarray, course: np.ndarray, reach: int
) -> tuple[np.ndarray, np.ndarray, int, int]:
    """A polarity's ``response`` (in its own depth) on the box around a line: its ``rows`` (in
    order), the rows its row mean reads above and below them, and ``reach`` px either side of
    its ``course`` (its column in every row of the frame) there; as (the box in 0-1, its
    :func:`coherent_map`, the box's top row, its left column). ``reach`` covers the columns a
    caller reads beside the course, and the one ``coherent_map`` widens by."""
    height, width = response.shape
    top, bottom = max(0, rows[0] - COHERENCE_ROWS // 2), min(height, rows[-1] + COHERENCE_ROWS // 2 + 1)
    left = max(0, int(course[rows].min()) - reach)
    right = min(width, int(course[rows].max()) + reach + 1)
    box = integer_to_unit(response[top:bottom, left:right])
    return box, coherent_map(box), top, left


def follow(
    track: LineTrack,
    responses: LinePair,
    pictures: tuple[np.ndarray, np.ndarray],
    t: DamageThresholds,
    bracketed: Callable[[], bool] | None = None,
) -> LineTrack | None:
    """``track`` sought in another frame (its line ``responses``): where it lies there, or None
    where it is not there, or leans. ``pictures``: the luma (uint8) of the frame the track lies
    in and of the other frame: a proven track goes on in rows where the picture beside its
    course is unchanged, whether or not it stands out there. ``bracketed``, asked only where too
    few rows are found for a followed scratch: whether the frame lies between two that have the
    line, where fewer of its rows must be found (``BRACKETED_ROWS``)."""
    height = responses[0].shape[0]
    slope, offset = straight_course(track.rows, track.columns)
    if abs(slope) > t.line_max_slant:
        return None
    half = half_width(track.rows, t.line_width)
    rows = np.arange(track.rows.min(), track.rows.max() + 1)
    # the box around every pixel looked at: the course within the drift and its band, and the
    # columns beside it that stands_out reads
    course = slope * np.arange(height) + offset
    reach = MAX_DRIFT + half + t.line_width + 3
    response, coherent, top, left = _around_course(responses[track.polarity], rows, course, reach)
    bottom, right = top + response.shape[0], left + response.shape[1]
    course = course[top:bottom] - left
    inside = rows - top
    # the columns of the band around the course at every drift, read once: a drift's band is a
    # slice of them
    reached = np.arange(-half - MAX_DRIFT, half + MAX_DRIFT + 1)
    all_columns = np.clip(np.round(course[inside]).astype(int)[:, None] + reached, 0, right - left - 1)
    peaks = coherent[inside[:, None], all_columns]
    band = 2 * half + 1
    # the drift whose band holds the most of the row mean: centred on the scratch. (Its highest
    # peaks, as before, were held by every drift whose band reached the peak: the first such won,
    # and a wide scratch was followed off its middle, its far edge lost a frame further on)
    start = max(range(2 * MAX_DRIFT + 1), key=lambda k: float(peaks[:, k : k + band].mean()))
    shift, columns = start - MAX_DRIFT, all_columns[:, start : start + band]
    on = response[inside[:, None], columns]
    relative = relative_strengths(track.polarity, pictures[1][top:bottom, left:right][inside[:, None], columns], on)
    floor = FAINT_FLOOR * track.contrast  # the response and its row mean both, as in lines._along_lines
    there = (
        (on > floor)
        & (relative > KEPT_STRENGTH * track.relative_strength)
        & (coherent[inside[:, None], columns] > floor)
    )
    standing = stands_out(coherent, course + shift, half, t.line_width)[inside]
    if there.any(axis=1).mean() >= PRESENT_ROWS and (track.stood_out >= STOOD_OUT or track.proven):
        standing[:] = True  # the scratch along nearly its whole length, over busy picture or not
    elif track.proven:
        box = np.s_[rows[0] : rows[-1] + 1, left:right]  # the track's rows only
        change = cv2.absdiff(pictures[0][box], pictures[1][box]).astype(np.float32)
        beside = np.abs(np.arange(right - left) - course[inside][:, None]) > half + MAX_DRIFT
        mean_change = (change * beside).sum(axis=1) / np.maximum(beside.sum(axis=1), 1)
        standing |= mean_change < STILL_BESIDE * t.line_contrast * 255
    found_rows = there.any(axis=1) & standing
    count = found_rows.sum()
    if count < max(FOLLOWED_ROWS * rows.size, shortest_scratch(height, t)) and not (
        count >= max(BRACKETED_ROWS * rows.size, VERTICAL_RUN) and bracketed is not None and bracketed()
    ):
        return None
    # between its first and last rows found, it is taken wherever it is there, standing out or not:
    # picture detail along its course beyond its ends is what standing out guards against
    found = np.flatnonzero(found_rows)
    between = np.zeros(rows.size, bool)
    between[found[0] : found[-1] + 1] = True
    chosen = there & between[:, None] & (on >= CORE * on.max(axis=1, keepdims=True))
    ys = np.broadcast_to(rows[:, None], on.shape)[chosen]
    return replace(track, rows=ys, columns=columns[chosen] + left, frames_away=track.frames_away + 1)


@dataclass
class _Held(Generic[Payload]):
    """A frame waiting for the lines of later frames to be followed back into it."""

    responses: LinePair
    picture: np.ndarray  # its luma, uint8
    shot: int
    found: tuple[np.ndarray, np.ndarray]  # (rows, columns) of the lines its own tests found
    proven: tuple[np.ndarray, np.ndarray]  # of those of them proven no scene line (FoundLines)
    scene: tuple[np.ndarray, np.ndarray]  # of the lines its own tests showed to be the scene's
    followed: list[LineTrack]
    payload: Payload
    own: list[LineTrack]  # the tracks of the lines its own tests found (found_tracks), to follow on

    def take(self, track: LineTrack | None) -> bool:
        """Adds what ``track``, followed into this frame (None: not found there), brings to it;
        returns whether it goes on from here. Where this frame's own tests found the line too
        (:meth:`has_own`), it brings its pixels beyond theirs only (:meth:`_beyond_own`: the
        stretch over busy picture where those tests stopped short), and goes no further: their
        line is followed on itself, with those pixels (:meth:`_join_own`). Else it brings all
        of it, unless it lies mostly on a line this frame's tests showed to be the scene's and
        it was not proven no scene line, or keeps under ``SCENE_KEPT_STRENGTH`` of its strength
        there."""
        if track is None:
            return False
        if self.has_own(track):
            beyond = self._beyond_own(track)
            if beyond.rows.size:
                self.followed.append(beyond)
                self._join_own(track, beyond)
            return False
        if self._mostly_near(track, self.scene, NEAR_FOUND):
            here = integer_to_unit(self.responses[track.polarity][track.rows, track.columns]).mean()
            if not (track.proven and here >= SCENE_KEPT_STRENGTH * track.strength):
                return False
        self.followed.append(track)
        return True

    def has_along(self, track: LineTrack, reach: int) -> bool:
        """Whether this frame has a line, its own or followed into it, along ``track`` within
        ``reach`` px of it."""
        pixels = [self.found, *((followed.rows, followed.columns) for followed in self.followed)]
        rows, columns = (np.concatenate([where[k] for where in pixels]) for k in (0, 1))
        return self._mostly_near(track, (rows, columns), reach)

    def has_own(self, track: LineTrack) -> bool:
        """Whether this frame's own tests found a line (proven no scene line, if ``track`` was)
        along ``track`` (half its pixels within ``NEAR_FOUND`` px): that line is followed on
        itself."""
        return self._mostly_near(track, self.proven if track.proven else self.found, NEAR_FOUND)

    def _beyond_own(self, track: LineTrack) -> LineTrack:
        """``track`` less its pixels within ``BEYOND_OWN`` px, along their row, of the lines this
        frame's own tests found."""
        away = ~self._near(track, self.found, BEYOND_OWN)
        return replace(track, rows=track.rows[away], columns=track.columns[away])

    def _join_own(self, track: LineTrack, beyond: LineTrack) -> None:
        """Adds ``beyond`` (the pixels of ``track`` beyond this frame's own line) to the own track
        that lies along ``track``, if one does: followed on, it is sought over the whole scratch,
        not over the stretch its own tests found alone."""
        for index, own in enumerate(self.own):
            if own.polarity == track.polarity and self._mostly_near(own, (track.rows, track.columns), NEAR_FOUND):
                pixels = np.unique(
                    np.stack([np.append(own.rows, beyond.rows), np.append(own.columns, beyond.columns)]), axis=1
                )
                self.own[index] = replace(own, rows=pixels[0], columns=pixels[1])
                return

    @classmethod
    def _mostly_near(cls, track: LineTrack, pixels: tuple[np.ndarray, np.ndarray], reach: int) -> bool:
        """Whether half of ``track``'s pixels or more lie within ``reach`` px of ``pixels`` (:meth:`_near`)."""
        return bool(cls._near(track, pixels, reach).mean() >= 0.5)

    @staticmethod
    def _near(track: LineTrack, pixels: tuple[np.ndarray, np.ndarray], reach: int) -> np.ndarray:
        """Per pixel of ``track``, whether it lies within ``reach`` px, along its row, of
        ``pixels``: looked up in a mask of the box around the track only."""
        top, left = track.rows.min(), track.columns.min() - reach
        rows, columns = pixels[0] - top, pixels[1] - left
        box = np.zeros((track.rows.max() - top + 1, track.columns.max() + reach - left + 1), np.uint8)
        inside = (rows >= 0) & (rows < box.shape[0]) & (columns >= 0) & (columns < box.shape[1])
        box[rows[inside], columns[inside]] = 1
        near = cv2.dilate(box, np.ones((1, 2 * reach + 1), np.uint8))
        return near[track.rows - top, track.columns - left] > 0

    def lines(self) -> np.ndarray:
        """H x W bool: its own lines and those followed into it."""
        mask = np.zeros(self.responses[0].shape, bool)
        mask[self.found] = True
        for track in self.followed:
            mask[track.rows, track.columns] = True
        return mask


def _found_before(track: LineTrack, held: deque[_Held[Payload]], index: int) -> bool:
    """Whether a frame before ``held[index]`` in its shot has a line along ``track`` (which lies
    in the frame after it), within the drift it may have had since."""
    shot = held[index].shot
    for distance, frame in enumerate(reversed(list(held)[:index]), start=2):
        if frame.shot != shot:
            return False
        if frame.has_along(track, distance * MAX_DRIFT):
            return True
    return False


def follow_lines(
    frames: Iterable[tuple[LinePair, np.ndarray, int, FoundLines, Payload]], t: DamageThresholds
) -> Iterator[tuple[np.ndarray, Payload]]:
    """For each frame, in order, given as (its line responses, its luma (uint8), its shot's
    number, what its own tests found (:func:`gincli.masks.lines.line_scratches`), anything to
    hand back with it): (the H x W bool mask of its lines with those followed into it from the
    ``line_follow`` frames before and after it in its shot, that thing). Holds ``line_follow`` frames: a frame
    is handed back once the lines of the frames after it were followed back into it.

    A line that no distant frame showed to be no scene line (something passed in front of it
    there, or the shot is short) may be a static scene line that its own frame's tests could
    not judge: it is not followed into a frame whose tests showed it to be the scene's. A
    door frame's edge found where a walker hid it from the distant frames was followed
    through a whole still shot before."""
    held: deque[_Held[Payload]] = deque()
    ahead: list[LineTrack] = []  # the latest frame's tracks, its own and those that go on from it
    for responses, picture, shot, found, payload in frames:
        frame = _Held(responses, picture, shot, nonzero_pixels(found.mask), found.proven, found.scene, [], payload, [])
        if frame.found[0].size:  # on clean footage, mostly not: no frame-sized work then
            proven = np.zeros(found.mask.shape, np.uint8)
            proven[found.proven] = 1
            frame.own = found_tracks(proven, True, responses, picture, t)
            frame.own += found_tracks(found.mask.view(np.uint8) & (1 - proven), False, responses, picture, t)
        onward = []  # the tracks that go on from this frame
        if held and held[-1].shot == shot:
            for track in ahead:
                if track.frames_away < t.line_follow:
                    followed = follow(track, responses, (held[-1].picture, picture), t)
                    if frame.take(followed):
                        onward.append(followed)
        ahead = frame.own + onward
        for track in frame.own:  # back into the frames before, as far as it goes
            later = picture  # the frame the track lies in
            for index in reversed(range(len(held))):
                earlier = held[index]
                if earlier.shot != shot or track.frames_away >= t.line_follow:
                    break
                if earlier.has_own(track):  # that frame's own line goes back on from there itself
                    earlier.take(follow(track, earlier.responses, (later, earlier.picture), t))
                    break
                between = partial(_found_before, track, held, index)
                followed = follow(track, earlier.responses, (later, earlier.picture), t, bracketed=between)
                if not earlier.take(followed):
                    break
                track, later = followed, earlier.picture
        held.append(frame)
        if len(held) > t.line_follow:
            done = held.popleft()
            yield done.lines(), done.payload
    while held:
        done = held.popleft()
        yield done.lines(), done.payload
