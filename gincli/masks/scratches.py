"""Film-damage detection: line scratches and dust, as a hole mask (1 = damage). No I/O.

Two kinds of damage look different and are found differently: line scratches
(:mod:`gincli.masks.lines`: thin, long, near-vertical lines that hold their place on the film
while the picture moves, and come and go) and dust (:mod:`gincli.masks.dust`: specks in one
frame only, against both neighbours warped onto it by dense optical flow). Both need other
frames of the same shot, and their motion (:mod:`gincli.masks.motion`).

:func:`damage_masks` runs the detector over a stream of frames with the window it needs.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from gincli.core.imagemath import (
    check_image_scale,
    dilate_mask,
    field,
    grey,
    integer_to_unit,
    nonzero_pixels,
    own_depth_luma,
    weave_fields,
)
from gincli.core.lazy import cv2
from gincli.masks.dust import dust_mask
from gincli.masks.line_candidates import LinePair, line_responses
from gincli.masks.lines import DISTANT_FLOW_SCALE, PERSISTENCE, FoundLines, line_scratches, without_lines
from gincli.masks.motion import FlowFrame, Motion, dense_flow, global_shift
from gincli.masks.repeats import Repeats
from gincli.masks.thresholds import SENSITIVITY, DamageThresholds
from gincli.masks.tracks import follow_lines

__all__ = [
    "SENSITIVITY",
    "DamageThresholds",
    "FrameView",
    "damage_masks",
    "dense_flow",
    "dust_mask",
    "film_damage_mask",
    "global_shift",
    "grey",
    "line_scratches",
]

# a shot cut: the mean difference of two frames' contrast-normalised 32 x 18 thumbnails (cuts on
# the real clips measure 0.86-1.14; pans, moving people and flicker at most 0.5)
CUT_DIFFERENCE = 0.6


@dataclass(frozen=True)
class FrameView:
    """What the detector needs of one frame, computed once however many frames look at it:
    its luma (and that as the optical flow reads it), its bright and dark line responses (in
    an 8- or 16-bit frame's own depth: the detector holds 25 frames, and at 3840 x 2160 their
    float32 maps were 1.2 GB more), a thumbnail that tells shot cuts, and the frame itself
    (its colours tell an edge from a scratch, see :func:`line_scratches`); the luma without
    its lines only when a line test asks for it (on clean footage, mostly never)."""

    grey: np.ndarray
    responses: LinePair
    thumbnail: np.ndarray
    image: np.ndarray
    flow: FlowFrame
    line_contrast: float
    index: int | None = None  # its place in the clip, where known (damage_masks)

    @cached_property
    def flow_without_lines(self) -> FlowFrame:
        """The luma without its thin vertical lines (:func:`without_lines`), as the distant flows
        read it (at ``DISTANT_FLOW_SCALE`` only: 57 kB held a 720p frame, not its 3.7 MB)."""
        picture = without_lines(self.grey, self.responses, self.line_contrast)
        return FlowFrame.only_for(picture, DISTANT_FLOW_SCALE)

    @classmethod
    def of(cls, image: np.ndarray, thresholds: DamageThresholds, index: int | None = None) -> FrameView:
        check_image_scale(image)
        own_depth = own_depth_luma(image)
        luma = grey(image) if own_depth is None else integer_to_unit(own_depth)
        small = cv2.resize(luma, (32, 18), interpolation=cv2.INTER_AREA)
        normalised = (small - small.mean()) / (small.std() + 0.02)  # flicker is no cut
        responses = line_responses(luma if own_depth is None else own_depth, thresholds.line_width)
        return cls(luma, responses, normalised, image, FlowFrame(luma), thresholds.line_contrast, index)

    def starts_shot_after(self, previous: FrameView) -> bool:
        """Whether a cut lies between ``previous`` and this frame."""
        return float(np.abs(self.thumbnail - previous.thumbnail).mean()) > CUT_DIFFERENCE


# what detecting a frame needs: (previous, current, following, distant), see _detection_windows
Window = tuple[FrameView | None, FrameView, FrameView | None, list[FrameView]]


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
    :func:`line_scratches`); :func:`damage_masks` supplies them, and follows the scratches
    it finds through the frames around (:mod:`gincli.masks.tracks`), as one frame cannot. Its
    frames have no places in a clip, so the steady-pan test (:func:`line_scratches`, which needs
    each distant frame's offset) is not made here."""
    view = lambda image: FrameView.of(image, thresholds) if image is not None else None  # noqa: E731
    lines, dust = _detect(view(previous), view(current), view(following), [view(d) for d in distant], thresholds)
    return dilate_mask(lines.mask | dust, thresholds.grow)


def _detect(
    previous: FrameView | None,
    current: FrameView,
    following: FrameView | None,
    distant: list[FrameView],
    thresholds: DamageThresholds,
) -> tuple[FoundLines, np.ndarray]:
    """(the line scratches a frame's own tests find in it (:func:`line_scratches`), the dust:
    H x W bool)."""
    neighbours = [(v, Motion(dense_flow(current.flow, v.flow))) for v in (previous, following) if v is not None]
    lines = line_scratches(current, thresholds, neighbours, distant)
    if not neighbours:
        return lines, np.zeros_like(lines.mask)
    (first, first_motion), (last, last_motion) = neighbours[0], neighbours[-1]
    motions = (first_motion, last_motion)
    either_side = first is not last and (current.index is None or first.index < current.index < last.index)
    flow_frames = (first.flow, last.flow)
    return lines, dust_mask(first.grey, current.grey, last.grey, thresholds, motions, flow_frames, either_side)


def damage_masks(
    images: Iterable[np.ndarray],
    thresholds: DamageThresholds = DamageThresholds(),
    workers: int = 1,
    fields: bool = False,
) -> Iterator[np.ndarray]:
    """The damage mask of every frame of a clip, in order (H x W float32, 1 = damage), each
    found with its neighbours and the frames ``PERSISTENCE`` before and after (those that exist
    at the clip's ends), and with the scratches found in the ``line_follow`` frames around it
    followed into it (:func:`follow_lines`); a picture shown again in the next frame is judged
    once, and the repeat takes its mask (:class:`Repeats`). Streams: holds ``2 * PERSISTENCE + 1`` frames,
    each prepared once (:class:`FrameView`), the lines found in ``line_follow`` more, and up to
    ``2 * workers`` detections in flight on ``workers`` threads (OpenCV releases the GIL).

    ``fields``: the frames are interlaced, and each field's lines are a clip of their own (the
    top fields one, the bottom fields another), found apart and woven back. A whole interlaced
    frame is two instants: where the picture moves its lines alternate between them, and the
    comb differs from both neighbour frames as dust does."""
    if fields:
        tops, bottoms = itertools.tee(images)
        in_field = thresholds.in_field()
        top_fields = damage_masks((field(image, 0) for image in tops), in_field, workers)
        bottom_fields = damage_masks((field(image, 1) for image in bottoms), in_field, workers)
        yield from itertools.starmap(weave_fields, zip(top_fields, bottom_fields, strict=True))
        return
    repeats = Repeats(thresholds.dust_contrast)  # a picture shown twice is judged once
    detections = _detections(repeats.distinct(images), thresholds, workers)
    for lines, (dust_rows, dust_columns) in follow_lines(detections, thresholds):
        lines[dust_rows, dust_columns] = True
        yield from repeats.shown(dilate_mask(lines, thresholds.grow))


Detected = tuple[LinePair, np.ndarray, int, FoundLines, tuple[np.ndarray, np.ndarray]]


def _detections(images: Iterable[np.ndarray], thresholds: DamageThresholds, workers: int) -> Iterator[Detected]:
    """For every frame in order: (its line responses, its luma (uint8), its shot's number, the
    lines its own tests found, the pixels of its dust): what :func:`follow_lines` takes."""

    def detected(window: Window, shot: int) -> Detected:
        lines, dust = _detect(*window, thresholds)
        current = window[1]
        picture = cv2.convertScaleAbs(current.grey, alpha=255)  # to uint8, rounded: 6 times from_unit_float's speed
        return current.responses, picture, shot, lines, nonzero_pixels(dust)

    if workers <= 1:
        yield from (detected(window, shot) for window, shot in _detection_windows(images, thresholds))
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending: deque[Future[Detected]] = deque()
        for window, shot in _detection_windows(images, thresholds):
            pending.append(pool.submit(detected, window, shot))
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _detection_windows(images: Iterable[np.ndarray], thresholds: DamageThresholds) -> Iterator[tuple[Window, int]]:
    """((previous, current, following, distant), the shot's number) for every frame in order:
    what detecting it needs, and which shot it belongs to.

    Only frames of the same shot count. Across a cut the picture is another one: a neighbour
    there says nothing about dust, and a scene line that starts with its shot would pass for a
    scratch that comes and goes. The distant frames are the ones ``PERSISTENCE`` away that lie
    in the same shot: one of them, or none, near the ends of a shot (using the shot's first or
    last frame instead, when at least 4 or 8 frames away, measured no better: fewer false
    alarms on bikes, more on movie.avi, recall within 0.02 over 120 frames)."""
    buffer: deque[tuple[FrameView, int]] = deque()  # each frame with its shot's number
    first = 0  # the clip index of buffer[0]
    upcoming = 0  # the next frame to detect

    def window(i: int) -> tuple[Window, int]:
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
        return (previous, current, following, distant), shot

    for newest, image in enumerate(images):
        view = FrameView.of(image, thresholds, newest)
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
