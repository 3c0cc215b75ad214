"""Dust and blotches: specks in one frame only. No I/O.

After warping both neighbours onto the frame by dense optical flow (DIS; weave, pans and
moving objects alike), a pixel much brighter (or darker) than the same place in the previous
*and* the next frame, while those two agree, is a temporal outlier: than any of their picture
within a pixel of it, since warping misses edges by that much where the flow is coarse; over
dark (bright) picture by a share of its light (its dark), as dirt takes away. Not
where the flow jumps (the edges of moving things): there warping misplaces the picture, and the
outliers it leaves are not dust. Nor where a like difference lies a few pixels off in a
neighbour frame: that is a small thing moving faster than the flow follows (a ball, teeth as a
mouth opens), which leaves a trail; dust leaves none (a scratch drifting beside it is no
trail: what runs down many rows, even in pieces, does not count; nor, further off, a
difference that the frame's own picture a pixel away explains: the warping's miss beside an
edge; nor where nothing that looks like the speck lies near it in either neighbour: a thing that
moved is there a few pixels off, dust nowhere). Nor where it blends into its own frame: dust
covers the picture, so it stands out from the picture around it as much as from the neighbours;
a warping miss, a moving reflection or a spinning wheel does not.
"""

from __future__ import annotations

import numpy as np

from gincli.core.boxes import at_pixels
from gincli.core.imagemath import connected_components, nonzero_pixels, sorted_by_owner
from gincli.core.lazy import cv2
from gincli.masks.line_candidates import VERTICAL_RUN
from gincli.masks.motion import FlowFrame, Motion, dense_flow, flow_roughness
from gincli.masks.thresholds import DamageThresholds

# the neighbours' flow to each other only judges where the motion is steady: at half size the
# clean shares flagged on the four real clips moved by at most 0.0001 % of the pixels
ACROSS_FLOW_SCALE = 0.5
MIN_LARGEST_SPECK = 150  # px: a blotch 14 px across is dust however small the frame (dust_max_area)
TRAIL_LIKENESS = 0.5  # a trail differs from this frame by at least half the speck's own contrast
RING = 2  # px: the ring of picture around a speck that it must stand out from (thresholds.dust_standout)
# ... from its median, not its mean: an edge or a thing beside the speck pulled the mean towards
# it. Planted damage, 120 frames, 4 seeds, precision / recall, dust recall: carphone 0.911 / 0.897,
# 0.620 -> 0.912 / 0.905, 0.700; movie.avi 0.928 / 0.882, 0.643 -> 0.929 / 0.891, 0.725; bikes 0.955
# / 0.955, 0.780 -> 0.954 / 0.958, 0.823; Big Buck Bunny 0.950 / 0.945, 0.924 -> 0.950 / 0.945,
# 0.927. Whole clean clips: bikes 0.0070 -> 0.0069 % (frames with a flag 13 -> 14 %), Big Buck
# Bunny 0.0000 % (2 %). The inside's median too: dust recall 0.701 and 0.726. A ring a pixel or two
# further out (past a soft speck's rim) instead: 0.899 / 0.900 and 0.887 / 0.888, but bikes' whole
# clean clip 0.0109 / 0.0157 % (with the mean)
# rows: a neighbour frame's difference that runs down VERTICAL_RUN rows with gaps of up to this many is
# a scratch that drifted there, no trail (a third of the dust planted on carphone was dropped as
# trailed, half of that beside a scratch). Planted damage, 120 frames, 4 seeds, dust recall /
# recall: carphone 0.434 / 0.851 -> 0.458 / 0.853, movie.avi 0.509 / 0.846 -> 0.532 / 0.849;
# clean clips flagged: bikes' whole clip 0.0051 -> 0.0061 %, carphone's 0.0007 -> 0.0020 % (small
# fast things lose their trails too). 8 rows: carphone 0.482 / 0.856, but 0.0110 % of carphone's
# first 40 clean frames flagged (0.0059 % at 4)
BRIDGED_GAP = 4
# px: a difference from the neighbour frames that the picture moved by this much explains is the
# warping's miss along an edge (in pans of busy photos at 720p, where the flow is coarse), no speck;
# and beyond half the trail radius, no trail either. Planted damage, 120 frames, 4 seeds, precision
# / recall, dust recall: carphone 0.913 / 0.874, 0.462 -> 0.913 / 0.882, 0.536, movie.avi 0.935 /
# 0.854, 0.532 -> 0.935 / 0.857, 0.561; clean flags: carphone 0.0020 -> 0.0003 %, movie.avi 0 -> 0,
# bikes' whole clip 0.0061 -> 0.0066 %, Big Buck Bunny's 0.0000 -> 0.0000 % (frames with a flag 4
# -> 1 %). Forgiven from 4 / 3 px out in the trail test: 0.885 / 0.859, 0.886 / 0.860, bikes 0.0070 /
# 0.0072 %. The trail test alone (no outlier forgiven): 0.884 / 0.860, but the photos' pans flagged
# 0.012 -> 0.019 % (edges a pixel off, no longer trailed by the same edge further along)
MISREGISTRATION = 1
MISREGISTERED = np.ones((2 * MISREGISTRATION + 1, 2 * MISREGISTRATION + 1), np.uint8)  # the places it reaches
MISREGISTERED_STEPS = range(-MISREGISTRATION, MISREGISTRATION + 1)  # ... as steps each way
# the least share of dust_contrast a speck over dark (bright) picture need differ from the
# neighbours by (thresholds.dust_full_headroom): 10 of 255 levels, no less than the damage a
# viewer sees. At 0.25 / 0.42: carphone 0.898 / 0.895, movie.avi 0.882 / 0.880 (recall)
FAINTEST = 1 / 3
# px: no dust is sought this near the frame's edge. A frame's outermost columns often hold a dark
# border (a codec's, a scanner's) that stays put while the picture weaves, and the flow, with
# nothing beyond the edge to hold it, carries the picture over it: judged by the share of the
# light, carphone's clean clip was flagged on its first column in 6 % of its frames (0.0078 % of
# its pixels; 0.0003 % without the share, also there). The planted damage's recall lost 0.001
EDGE = 2
# a trailed speck is shown nowhere near in a neighbour frame where the best match of its look
# within the trail radius there still differs by this share of what the neighbour differs at its
# own place (squared differences over the speck and a pixel around). Planted damage, 120 frames,
# 4 seeds, precision / recall, dust recall: carphone 0.912 / 0.905, 0.700 -> 0.913 / 0.918, 0.827;
# movie.avi 0.929 / 0.891, 0.720 -> 0.930 / 0.904, 0.836; bikes 0.954 / 0.957, 0.822 -> 0.954 /
# 0.958, 0.832; Big Buck Bunny 0.950 / 0.945, 0.910 -> 0.950 / 0.945, 0.922; clean flags: carphone
# 0 -> 0.0007 %, movie.avi 0 -> 0.0013 %, bikes 0.0068 -> 0.0071 %. At 0.2 / 0.5, carphone and
# movie.avi: 0.921 / 0.906 and 0.912 / 0.896, clean flags within 0.0007 % of these; but 0.2 flagged
# more of bikes than 0.3 with the speed guard read at the speck's own pixels (0.0087 against
# 0.0084 %), so the margin stays
UNMATCHED = 0.3
# px: a speck smaller than this keeps the trail test's verdict: a few pixels match noise as well
# as anything (from 1 px: clean flags carphone 0.0038 %, movie.avi 0.0058 %, in 9 and 12 % of frames)
SMALLEST_MATCHED = 5


def dust_mask(
    previous: np.ndarray,
    current: np.ndarray,
    following: np.ndarray,
    thresholds: DamageThresholds = DamageThresholds(),
    motions: tuple[Motion, Motion] | None = None,
    flow_frames: tuple[FlowFrame, FlowFrame] | None = None,
    either_side: bool = True,
) -> np.ndarray:
    """One-frame specks and blotches: temporal outliers against both neighbours warped onto
    ``current`` (grey frames; H x W bool). ``motions``: each neighbour's :class:`Motion` from
    ``current``, computed here if not given; ``flow_frames``: the neighbours' :class:`FlowFrame`
    where the caller has them (their shrunk copies are shared with its flows). ``either_side``:
    whether the neighbours lie one before and one after ``current``; at a shot's first or last
    frame both lie on its one side, and a thing that goes out of sight there (behind a car's
    window pillar on carphone) is shown by neither, so only the trail test judges it."""
    motions = motions or (Motion(dense_flow(current, previous)), Motion(dense_flow(current, following)))
    before, after = motions[0].warp(previous), motions[1].warp(following)
    higher, lower = cv2.max(before, after), cv2.min(before, after)
    ys, xs = _outliers(current, higher, lower, thresholds)
    # the few candidates are judged one by one from here on
    found = np.zeros(current.shape, bool)
    ys, xs = _where(motions[0].covers(ys, xs) & motions[1].covers(ys, xs), ys, xs)
    if ys.size:  # a speck's neighbours warped from where the picture's motion is steady
        ends = flow_frames or (previous, following)
        across = dense_flow(*ends, ACROSS_FLOW_SCALE, enlarge=False)  # no speck sways it
        ys, xs = _where(flow_roughness(across, current.shape, ys, xs) < thresholds.dust_flow_roughness, ys, xs)
    to_before, to_after = current[ys, xs] - before[ys, xs], current[ys, xs] - after[ys, xs]
    bright = np.minimum(to_before, to_after) > 0
    contrast = np.minimum(np.abs(to_before), np.abs(to_after))
    # the frame with its candidates taken out: the neighbours' picture at their pixels (a dark
    # speck beside a bright one is no trail of it)
    picture = current
    if ys.size:
        picture = current.copy()
        picture[ys, xs] = (before[ys, xs] + after[ys, xs]) / 2
    radius = thresholds.dust_trail_radius
    trailed = _has_trail(ys, xs, bright, contrast, picture, (before, after), radius)
    if either_side and trailed.any():
        trailed &= ~_shown_nowhere(ys, xs, trailed, current, (before, after), motions, radius)
    ys, xs, contrast = ys[~trailed], xs[~trailed], contrast[~trailed]
    largest = max(thresholds.dust_max_area * current.size, MIN_LARGEST_SPECK)
    specks = np.zeros(current.shape, np.float32)  # each candidate's contrast against the neighbours
    specks[ys, xs] = contrast

    def judged(specks: np.ndarray, picture: np.ndarray) -> np.ndarray:
        return _dust_specks(specks, picture, thresholds.dust_min_area, largest, thresholds.dust_standout)

    found[ys, xs] = at_pixels(ys, xs, RING + 1, judged, specks, current)
    return found


def _outliers(
    current: np.ndarray, higher: np.ndarray, lower: np.ndarray, thresholds: DamageThresholds
) -> tuple[np.ndarray, np.ndarray]:
    """(rows, columns), in row-major order, of the pixels where the two neighbours (warped onto
    ``current``; the ``higher`` and the ``lower`` of them at each pixel) agree within
    ``dust_contrast``, and ``current`` is above the higher or below the lower by as much (or by
    a share of the light, :func:`_taking_a_share`), away from the frame's edge. Above the
    brightest (below the darkest) of their picture within MISREGISTRATION px: a difference
    that their picture moved by a pixel explains is the warping's miss along an edge, no speck.

    The brightest around a pixel is at least as bright as its own, so only the pixels above
    ``higher`` (below ``lower``) at that very place by the least either test asks can pass:
    those few are judged, instead of whole frames of extremes and differences (the same pixels,
    with the neighbours' agreement in 7.7 against 21.3 ms a 720p frame, single-threaded)."""
    t = thresholds.dust_contrast
    least = FAINTEST * t if thresholds.dust_full_headroom else t
    beyond = cv2.compare(cv2.max(cv2.subtract(current, higher), cv2.subtract(lower, current)), least, cv2.CMP_GT)
    for edge in (np.s_[:EDGE], np.s_[-EDGE:], np.s_[:, :EDGE], np.s_[:, -EDGE:]):
        beyond[edge] = 0
    ys, xs = nonzero_pixels(beyond)
    agree = higher[ys, xs] - lower[ys, xs] < t
    ys, xs = ys[agree], xs[agree]
    # the brightest (darkest) within MISREGISTRATION px, inside the frame (as cv2.dilate's)
    height, width = current.shape
    around = [(np.clip(ys + dy, 0, height - 1), np.clip(xs + dx, 0, width - 1))
              for dy in MISREGISTERED_STEPS for dx in MISREGISTERED_STEPS]  # fmt: skip
    highest = np.max([higher[place] for place in around], axis=0)
    lowest = np.min([lower[place] for place in around], axis=0)
    here = current[ys, xs]
    above, below = here - highest, lowest - here
    outlier = (above > t) | (below > t)
    if thresholds.dust_full_headroom:
        outlier |= _taking_a_share((highest, lowest), (above, below), t, thresholds.dust_full_headroom)
    return ys[outlier], xs[outlier]


def _taking_a_share(
    extremes: tuple[np.ndarray, np.ndarray],
    differences: tuple[np.ndarray, np.ndarray],
    contrast: float,
    full_headroom: float,
) -> np.ndarray:
    """Which pixels differ from the neighbours' picture by at least ``FAINTEST`` of ``contrast``
    and by as large a share of the light there (of the dark, for a bright speck) as
    ``contrast`` is of ``full_headroom``. ``extremes``: the brightest and darkest of the
    neighbours' picture within MISREGISTRATION px of each; ``differences``: how far the frame is
    above the one and below the other there. The light is the brightest's (the dark the
    darkest's): beside a bright edge in dark picture, the warping's miss by a pixel is a share
    of the dark side's light too (thin strips along the windows of busy facades panned at
    720p)."""
    (highest, lowest), (above, below) = extremes, differences
    # a pixel is above the brightest or below the darkest, never both
    faint = np.maximum(above, below) > FAINTEST * contrast
    dark = below > 0
    light = np.where(dark, highest, 1 - lowest)
    return faint & (np.where(dark, below, above) > contrast / full_headroom * light)


def _where(chosen: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return ys[chosen], xs[chosen]


def _dust_specks(
    contrasts: np.ndarray, picture: np.ndarray, smallest: int, largest: float, standout: float
) -> np.ndarray:
    """Which candidate pixels (``contrasts`` > 0: each one's contrast against the neighbour
    frames) form specks of dust: 8-connected parts of ``smallest`` to ``largest`` px that stand out
    from the ``picture`` in a ring ``RING`` px wide around them (its median: most of the
    ring, whatever an edge or a thing touching the speck makes of the rest) by at least
    ``standout`` of their contrast against the neighbours. Dust covers the picture, and the
    picture around it is what the neighbours show at its place, so it stands out as much in
    its own frame; a moving reflection, a spinning wheel or a miss of the warping differs from
    the neighbours but blends into its own frame."""
    specks = (contrasts > 0).astype(np.uint8)
    count, labels, stats = connected_components(specks)
    ring = cv2.dilate(specks, np.ones((2 * RING + 1, 2 * RING + 1), np.uint8)) > specks
    # each ring pixel goes to the (largest-numbered) speck within RING px of it
    ring_labels = cv2.dilate(labels.astype(np.float32), np.ones((2 * RING + 1, 2 * RING + 1), np.uint8))
    inner = specks > 0  # the means are taken over a few pixels of the box, not all of it

    def mean(owners: np.ndarray, values: np.ndarray) -> np.ndarray:
        owners = owners.astype(np.int64)
        return np.bincount(owners, weights=values, minlength=count) / np.maximum(
            np.bincount(owners, minlength=count), 1
        )

    inside, around = mean(labels[inner], picture[inner]), _medians(ring_labels[ring], picture[ring], count)
    area = stats[:, cv2.CC_STAT_AREA]
    keep = (
        (area >= smallest)
        & (area <= largest)
        & (np.abs(inside - around) >= standout * mean(labels[inner], contrasts[inner]))
    )
    keep[0] = False
    return keep[labels]


def _medians(owners: np.ndarray, values: np.ndarray, count: int) -> np.ndarray:
    """The median of ``values`` of each owner 0 to ``count`` - 1 (0 for one that has none)."""
    ranked, starts, sizes = sorted_by_owner(owners.astype(np.int64), values, count)
    has = sizes > 0
    medians = np.zeros(count)
    medians[has] = (ranked[(starts + (sizes - 1) // 2)[has]] + ranked[(starts + sizes // 2)[has]]) / 2
    return medians


def _has_trail(
    ys: np.ndarray,
    xs: np.ndarray,
    bright: np.ndarray,
    contrast: np.ndarray,
    picture: np.ndarray,
    warped: tuple[np.ndarray, np.ndarray],
    radius: int,
) -> np.ndarray:
    """Which specks' pixels (``ys``, ``xs``) have a trail. Dust is in one frame only; a small
    thing that moves faster than the flow follows (a ball, teeth as a mouth opens, a hand) was
    a little way off in a neighbour frame, so there, within ``radius`` px, that neighbour
    differs from this frame (``picture``: the frame with its candidate specks taken out) with
    the speck's own sign and at least ``TRAIL_LIKENESS`` of its contrast. Beyond half of
    ``radius``, only where this frame's picture moved by ``MISREGISTRATION`` px does not
    explain the difference: there it is the warping's miss beside an edge of the picture."""
    near, close = (np.ones((2 * r + 1, 2 * r + 1), np.uint8) for r in (radius, radius // 2))
    run = np.ones((VERTICAL_RUN, 1), np.uint8)
    gap = np.ones((BRIDGED_GAP + 1, 1), np.uint8)

    def without_runs(difference: np.ndarray) -> np.ndarray:
        """Less what runs down VERTICAL_RUN rows, across gaps of up to BRIDGED_GAP rows: a
        scratch that drifted in a neighbour frame is no trail, and over busy picture its
        difference breaks up."""
        bridged = cv2.morphologyEx(difference, cv2.MORPH_CLOSE, gap)
        return np.maximum(difference - cv2.morphologyEx(bridged, cv2.MORPH_OPEN, run), 0)

    trailed = np.zeros(ys.size, bool)
    for sign, polarity, extreme, nearest in (
        (1.0, bright, np.maximum, cv2.dilate),
        (-1.0, ~bright, np.minimum, cv2.erode),
    ):
        if polarity.any():
            # the larger of the two neighbours' differences within reach: one dilation of their
            # extreme, the same as the larger of two dilations. Against this frame near the
            # speck; further out against the picture here within MISREGISTRATION px that comes
            # nearest to the neighbour (the brightest for a bright speck, the darkest for a dark one)
            def spread(
                before: np.ndarray,
                after: np.ndarray,
                now: np.ndarray,
                sign: float = sign,
                extreme=extreme,
                nearest=nearest,
            ) -> np.ndarray:
                theirs = extreme(before, after)
                here = without_runs(np.maximum(sign * (theirs - now), 0))
                beyond = without_runs(np.maximum(sign * (theirs - nearest(now, MISREGISTERED)), 0))
                return np.maximum(cv2.dilate(here, close), cv2.dilate(beyond, near))

            # what spread reads: the closing's and the opening's rows (each twice half its bar),
            # the dilation's, the picture moved
            reach = BRIDGED_GAP + VERTICAL_RUN - 1 + radius + MISREGISTRATION
            trail = at_pixels(ys[polarity], xs[polarity], reach, spread, *warped, picture)
            trailed[polarity] = trail >= TRAIL_LIKENESS * contrast[polarity]
    return trailed


def _shown_nowhere(
    ys: np.ndarray,
    xs: np.ndarray,
    trailed: np.ndarray,
    current: np.ndarray,
    warped: tuple[np.ndarray, np.ndarray],
    motions: tuple[Motion, Motion],
    radius: int,
) -> np.ndarray:
    """Which candidate pixels (``ys``, ``xs``) belong to a speck that the trail test took for a
    small moving thing (some pixel ``trailed``) but that neither neighbour (``warped`` onto
    ``current``) shows anywhere within ``radius`` px: its look (its pixels and one around them)
    matches no place there much better than the neighbour's picture at its own place
    (``UNMATCHED``). A thing that moved is there a few pixels off; dust is in one frame only,
    and what the trail test saw beside it was the warping's miss along an edge, which looks
    nothing like the speck. Not for specks under ``SMALLEST_MATCHED`` px, nor where the picture
    within ``radius`` px moves more than half of ``radius`` a frame: there warping deforms a
    moving thing's look, and the thing may lie beyond the search. Judged in boxes around the
    candidates (:func:`at_pixels`): labelling the specks over a whole 720p frame took 3-4 ms."""
    specks = np.zeros(current.shape, np.uint8)
    specks[ys, xs] = 1
    specks[ys[trailed], xs[trailed]] = 2
    flows = (motion.flow for motion in motions)

    def judged(specks: np.ndarray, current: np.ndarray, *neighbours_and_flows: np.ndarray) -> np.ndarray:
        return _specks_shown_nowhere(specks, current, neighbours_and_flows[:2], neighbours_and_flows[2:], radius)

    return at_pixels(ys, xs, radius + 1, judged, specks, current, *warped, *flows) > 0


def _specks_shown_nowhere(
    specks: np.ndarray,
    current: np.ndarray,
    warped: tuple[np.ndarray, ...],
    flows: tuple[np.ndarray, ...],
    radius: int,
) -> np.ndarray:
    """:func:`_shown_nowhere` on one box: ``specks`` 1 at candidate pixels, 2 at trailed ones;
    uint8, 1 at the pixels of the specks shown nowhere."""
    if specks.max() < 2:  # most boxes: no speck trailed
        return np.zeros(specks.shape, np.uint8)
    count, labels, stats = connected_components(cv2.compare(specks, 0, cv2.CMP_GT))
    height, width = current.shape
    nowhere = np.zeros(count, np.uint8)
    for label in np.unique(labels[specks == 2]):
        x, y, w, h, area = stats[label]
        if area < SMALLEST_MATCHED:
            continue
        top, left, bottom, right = max(y - 1, 0), max(x - 1, 0), min(y + h + 1, height), min(x + w + 1, width)
        search = np.s_[max(top - radius, 0) : bottom + radius, max(left - radius, 0) : right + radius]
        if max(float(cv2.magnitude(*cv2.split(flow[search])).max()) for flow in flows) > radius / 2:
            continue
        look = np.ascontiguousarray(current[top:bottom, left:right])
        speck = (labels[top:bottom, left:right] == label).astype(np.uint8)
        weights = cv2.dilate(speck, np.ones((3, 3), np.uint8)).astype(np.float32)  # and a pixel around it
        own_place = (top - search[0].start, left - search[1].start)
        nowhere[label] = 1
        for neighbour in warped:
            differences = cv2.matchTemplate(np.ascontiguousarray(neighbour[search]), look, cv2.TM_SQDIFF, mask=weights)
            if differences.min() < UNMATCHED * differences[own_place]:
                nowhere[label] = 0
                break
    return nowhere[labels]
