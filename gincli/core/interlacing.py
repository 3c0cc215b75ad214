"""Whether frames are interlaced, judged from their pictures rather than from what their file
says: a capture remuxed or re-encoded without its field flags reads as progressive (judged
whole, its combs pass for dust), and film transferred frame for frame is often flagged
interlaced (judged by field, it is progressive footage at half its height). And whether each
hole of an interlaced frame lies in combed picture or in still picture (:func:`combed_holes`).
No I/O.

The measure is FFmpeg's ``idet`` filter's: how badly each line of a neighbour frame fits
between the two lines around it in this frame, which belong to the other field. In a frame
whose top field (its even lines) comes first, the bottom field is shown half a frame later:
the previous frame's even lines lie one and a half frames from this frame's odd lines, its odd
lines half a frame from this frame's even lines, and the following frame's the other way round.
Where the picture moves, the pairing that lies further apart fits far worse. In a progressive
frame both lie a frame apart and fit alike, and both fit worse than the frame's own lines.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import islice

import numpy as np

from gincli.core.imagemath import connected_components, hole_windows
from gincli.core.lazy import cv2

# one pairing fits this much worse than the other: a combed frame. The four real clips of
# benchmarks/scratches.py, progressive, 120 frames each (or all there are): at most 1.060 (90 %
# of frames under 1.04); made interlaced (--weave): the median frame 1.2-2.0, 75-100 % over 1.1
COMBED = 1.1
# both pairings fit this much worse than the frame's own lines: a progressive frame whose
# picture moves, which tells as a combed one does. A still frame tells nothing: its lines fit
# every neighbour alike, as an interlaced still does (and a still needs no fields)
MOVING = 1.2
ENOUGH = 24  # frames that tell, to decide on
COMBED_SHARE = 0.25  # of the frames that tell: telecined film combs two frames in five
FEWEST_COMBED = 3
LOOK_AHEAD = 240  # frames read at most (10 s at 24 fps) for ENOUGH that tell
# ... and pixels: 240 frames of 1080i, the largest interlaced format; 60 frames of a 4K scan
LOOK_AHEAD_PIXELS = LOOK_AHEAD * 1920 * 1080
RING = 8  # px around a hole: the picture judged combed or not (combed_holes)
# a hole lies in combed picture where its ring's lines differ this much more from the other
# field's lines than from their own: the classical fill of the planted damage on the four real
# clips of benchmarks/scratches.py, woven, hole PSNR at 1.0 / 1.25 / 1.5 / 2.0 (every hole by
# field; whole): bikes 26.08 / 26.09 / 26.10 / 26.08 (25.69; 25.43), Big Buck Bunny 27.08 / 27.11
# / 27.12 / 27.16 (26.86; 27.12), carphone 20.06 / 20.21 / 20.26 / 20.31 (19.78; 20.31),
# movie.avi 23.75 / 23.76 / 23.75 / 23.75 (23.53; 23.75). The lower of the best: in doubt, a
# field's own lines (a fill that blends two instants is the worse mistake)
COMB_SEAM = 1.5


@dataclass(frozen=True)
class FieldFit:
    """How badly a frame's neighbours' lines fit between its own (sums of absolute second
    differences, any scale): paired as far apart as a top-field-first frame puts them
    (``top_first``), as a bottom-field-first one does (``bottom_first``), and the frame's own
    lines between each other (``within``)."""

    top_first: float
    bottom_first: float
    within: float

    @property
    def combed(self) -> bool:
        return max(self.top_first, self.bottom_first) > COMBED * min(self.top_first, self.bottom_first)

    @property
    def moving(self) -> bool:
        """A progressive frame whose picture moves (``combed`` is the interlaced one's tell)."""
        return not self.combed and min(self.top_first, self.bottom_first) > MOVING * self.within


def field_fit(previous: np.ndarray, current: np.ndarray, following: np.ndarray) -> FieldFit:
    """The :class:`FieldFit` of ``current`` between two neighbour frames (grey, H x W, same size)."""
    previous, current, following = (np.asarray(f, np.float32) for f in (previous, current, following))
    # around each line from the second to the last but one: the other field's lines above and below
    above, below = current[:-2], current[2:]

    def misfit(lines: np.ndarray, parity: int) -> float:
        """``lines`` (of a frame, line 1 to H - 2) between ``current``'s, on the lines of that parity."""
        rows = np.s_[(1 - parity) % 2 :: 2]  # line 1 + k is lines[k]: even lines are k odd
        return float(np.abs(above[rows] + below[rows] - 2 * lines[rows]).sum(dtype=np.float64))

    inner = np.s_[1:-1]
    before, after = previous[inner], following[inner]
    return FieldFit(
        top_first=misfit(before, 0) + misfit(after, 1),
        bottom_first=misfit(before, 1) + misfit(after, 0),
        within=float(np.abs(above + below - 2 * current[inner]).sum(dtype=np.float64)),
    )


PROGRESSIVE = "progressive"


def fields_by_content(frames: Iterable[np.ndarray]) -> str | None:
    """What the frames (grey, in order) are by their pictures: ``"top"`` or ``"bottom"``
    (interlaced, that field shown first), :data:`PROGRESSIVE`, or None (too still to tell).
    Reads until ``ENOUGH`` frames tell (combed, or progressive and moving), at most
    ``LOOK_AHEAD`` frames and ``LOOK_AHEAD_PIXELS``. Interlaced where ``COMBED_SHARE`` of the
    frames that tell are combed (and at least ``FEWEST_COMBED``); progressive where fewer are,
    of ``ENOUGH``."""
    window: list[np.ndarray] = []
    top = bottom = moving = 0
    for count, frame in enumerate(islice(frames, LOOK_AHEAD), start=1):
        if count * frame.size > LOOK_AHEAD_PIXELS:
            break
        window = [*window[-2:], frame]
        if len(window) < 3 or len({f.shape for f in window}) > 1:  # a folder's frames may differ in size
            continue
        fit = field_fit(*window)
        if fit.combed:
            top += fit.top_first > fit.bottom_first
            bottom += fit.bottom_first > fit.top_first
        moving += fit.moving
        if top + bottom + moving >= ENOUGH:
            break
    combed = top + bottom
    if combed >= max(FEWEST_COMBED, COMBED_SHARE * (combed + moving)):
        return "top" if top >= bottom else "bottom"
    return PROGRESSIVE if combed + moving >= ENOUGH else None


def by_field_given(seen: str | None, flagged: str | None) -> bool:
    """Whether interlaced-looking footage is worked on field by field, from what its frames
    show (:func:`fields_by_content`) and the field order its file states (None: progressive or
    unstated): combed frames, by field whatever the file says; progressive moving frames, whole
    whatever it says (film transferred frame for frame, flagged interlaced); frames too still
    to tell, as the file says."""
    if seen is None:
        return flagged is not None
    return seen != PROGRESSIVE


def combed_holes(grey: np.ndarray, hole: np.ndarray, seam: float) -> np.ndarray:
    """The pixels of the holes (``hole``: H x W, nonzero = hole; 8-connected holes) of an
    interlaced frame (``grey``, H x W) that lie in combed picture: where, in a ring ``RING`` px
    wide around the hole, its lines differ from the other field's lines around them (second
    differences across one line) more than ``seam`` times as much as from their own field's
    (across two lines). Lines within two of a hole's are left out of its ring: they are
    measured against damage. A hole in still picture is one picture, whose two fields show
    one instant; in moving picture they show two. Worked in windows around the holes
    (:func:`hole_windows`): a few scratches cost their strips, not the frame."""
    binary = (np.asarray(hole) > 0).astype(np.uint8)
    picture = np.asarray(grey, np.float32)
    combed = np.zeros(binary.shape, bool)
    for window, own in hole_windows(binary, RING + 2):
        combed[window] |= _combed_in(picture[window], own, binary[window], seam)
    return combed


def _combed_in(picture: np.ndarray, own: np.ndarray, holes: np.ndarray, seam: float) -> np.ndarray:
    """:func:`combed_holes` in a window: of the holes ``own`` (bool), beside every hole ``holes``."""
    count, labels, _ = connected_components(own.astype(np.uint8))
    across, along = np.zeros_like(picture), np.zeros_like(picture)
    across[1:-1] = np.abs(picture[:-2] + picture[2:] - 2 * picture[1:-1])
    along[2:-2] = np.abs(picture[:-4] + picture[4:] - 2 * picture[2:-2])
    # each ring pixel goes to the (largest-numbered) hole within RING px of it
    owners = cv2.dilate(labels.astype(np.float32), np.ones((2 * RING + 1, 2 * RING + 1), np.uint8))
    ring = (owners > 0) & (cv2.dilate(holes, np.ones((5, 1), np.uint8)) == 0)
    ring[:2], ring[-2:] = False, False
    owner = owners[ring].astype(np.int64)
    combed = np.bincount(owner, across[ring], count) > seam * np.bincount(owner, along[ring], count)
    combed[0] = False
    return combed[labels]
