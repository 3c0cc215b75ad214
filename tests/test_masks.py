"""Mask families: shapes, statistics per the specification, and reproducibility by seed."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from gincli.masks.families import FAMILIES, cellular_automata_mask, free_form_mask, generate_mask, rectangle_mask


@pytest.mark.parametrize("family", [*FAMILIES, "mixed"])
def test_masks_are_binary_float32_of_the_requested_size(family: str) -> None:
    mask = generate_mask(family, 96, 160, np.random.default_rng(3))
    assert mask.shape == (96, 160) and mask.dtype == np.float32
    assert set(np.unique(mask)) <= {0.0, 1.0} and 0 < mask.mean() < 1


@pytest.mark.parametrize("family", [*FAMILIES, "mixed"])
def test_a_seed_reproduces_a_mask_set_bit_for_bit(family: str) -> None:
    def mask_set(seed: int) -> list[np.ndarray]:
        rng = np.random.default_rng(seed)
        return [generate_mask(family, 128, 128, rng) for _ in range(5)]

    a, b, c = mask_set(11), mask_set(11), mask_set(12)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not all(np.array_equal(x, y) for x, y in zip(a, c, strict=True))


def test_rectangle_sides_are_30_to_70_percent() -> None:
    rng = np.random.default_rng(0)
    heights, widths = [], []
    for _ in range(300):
        mask = rectangle_mask(200, 300, rng)
        rows, cols = np.nonzero(mask)
        h, w = rows.max() - rows.min() + 1, cols.max() - cols.min() + 1
        assert mask.sum() == h * w  # one solid rectangle
        heights.append(h / 200)
        widths.append(w / 300)
    for sides in (heights, widths):
        assert 0.295 <= min(sides) < 0.35 and 0.65 < max(sides) <= 0.705  # the whole range is used


def test_free_form_strokes_have_the_specified_widths_and_count() -> None:
    rng = np.random.default_rng(0)
    for _ in range(20):
        mask = free_form_mask(256, 256, rng)
        # the thinnest stroke is 10 px wide: an opening with a 9 px disc keeps almost everything
        opened = cv2.morphologyEx(mask, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7)))
        assert opened.sum() > 0.85 * mask.sum()
        # 15-23 strokes of at most 5 segments of at most 69 px x 24 px bound the area
        assert 0.02 < mask.mean() < 23 * 5 * 69 * 24 / 256**2
    # the stroke count is drawn from 15..23: a 1-vertex single-stroke mask is impossible
    counts = [cv2.connectedComponents(free_form_mask(512, 512, rng).astype(np.uint8))[0] - 1 for _ in range(20)]
    assert max(counts) <= 23


def test_cellular_automata_scales_and_smoothing() -> None:
    rng = np.random.default_rng(0)
    fractions = [cellular_automata_mask(256, 256, rng).mean() for _ in range(50)]
    # median filtering of a fair coin grid keeps the hole share near one half, dilation raises it
    assert 0.3 < np.mean(fractions) < 0.7
    # after r >= 2 median passes no isolated single pixel survives at scale 1
    mask = cellular_automata_mask(64, 64, np.random.default_rng(5))
    votes = cv2.boxFilter(mask, -1, (3, 3), normalize=False, borderType=cv2.BORDER_CONSTANT)
    assert not np.any((mask == 1) & (votes == 1))


def test_unknown_family_names_the_choices() -> None:
    with pytest.raises(ValueError, match="rect, freeform, ca, lines, mixed"):
        generate_mask("circles", 8, 8, np.random.default_rng(0))


@pytest.mark.parametrize("columns", ["few", "most"])
def test_scratch_candidates_are_labelled_as_on_the_whole_frame(columns: str) -> None:
    """The line detector labels its candidates on the columns that hold them (few on clean
    footage) or on the whole frame (most, in grass): OpenCV's own labelling of the whole mask,
    label for label, either way."""
    from gincli.masks.line_candidates import components_in_columns

    rng = np.random.default_rng(3)
    mask = np.zeros((90, 160), np.uint8)
    used = rng.choice(160, 12, replace=False) if columns == "few" else np.arange(160)
    for x in used:  # vertical runs of random length and place, some touching their neighbours
        top = int(rng.integers(0, 60))
        mask[top : top + int(rng.integers(5, 30)), x : x + int(rng.integers(1, 3))] = 1
    count, want_labels, want_stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    labels, stats = components_in_columns(mask)
    assert count > 5 and np.array_equal(labels, want_labels)
    assert np.array_equal(stats[1:], want_stats[1:])  # the background's row is the one exception


@pytest.mark.parametrize("depth", [np.uint8, np.uint16])
def test_line_pixels_are_chosen_exactly_at_ties(depth: type) -> None:
    """The detector's line pixels: the row mean (over COHERENCE_ROWS rows, widened a pixel each
    side) over COHERENT_SHARE of the contrast, the pixel over half of it and over
    ROW_MEAN_SHARE of that row mean. Checked against whole-number sums on a response full of
    exact ties (a pixel holding exactly 2 / 5 of its row mean); a 16-bit response (8-bit times
    257) gives the same pixels."""
    from gincli.masks.line_candidates import COHERENCE_ROWS, COHERENT_SHARE, SHAPE_CONTRAST, _line_pixels, row_sums
    from gincli.masks.thresholds import DamageThresholds

    t = DamageThresholds()
    rng = np.random.default_rng(5)
    response = np.zeros((120, 64), np.int64)
    response[:, ::4] = 25  # lines 25 levels strong: row sums of 775 beside them, where they widen to
    response[:, 1::8] = 10  # 2 / 5 of 25: a tie, and over half the contrast (8.9)
    noisy = np.zeros(response.shape, bool)
    noisy[80:] = rng.random((40, 64)) < 0.2
    response[noisy] = rng.integers(0, 60, int(noisy.sum()))  # and noise below
    widened = cv2.dilate(response.astype(np.uint8), np.ones((1, 3), np.uint8)).astype(np.int64)
    padded = np.pad(widened, ((COHERENCE_ROWS // 2,) * 2, (0, 0)), mode="reflect")  # OpenCV's default border
    sums = np.stack([padded[r : r + COHERENCE_ROWS].sum(axis=0) for r in range(response.shape[0])])
    contrast = min(t.line_contrast, SHAPE_CONTRAST)
    want = (sums > COHERENT_SHARE * contrast * COHERENCE_ROWS * 255) & (response > 0.5 * contrast * 255)
    want &= 5 * COHERENCE_ROWS * response > 2 * sums  # exact: no float rounds a tie either way
    ties = (5 * COHERENCE_ROWS * response == 2 * sums) & (sums > COHERENT_SHARE * contrast * COHERENCE_ROWS * 255)
    ties &= response > 0.5 * contrast * 255
    scaled = (response * (257 if depth == np.uint16 else 1)).astype(depth)
    found = _line_pixels(scaled, row_sums(scaled), t) > 0
    assert ties.sum() > 50 and want.any()
    assert np.array_equal(found, want), (found != want).sum()


def test_values_at_pixels_are_computed_on_boxes_around_groups_of_them() -> None:
    """A box filter 7 px across read at three small clusters of pixels far apart (one at the
    frame's corner) and two touching ones: the whole frame's values, from three boxes of a few
    hundred pixels each, not one around them all. Clusters nearer than twice the reach share
    a box; more groups than MOST_BOXES, one box."""
    from gincli.core.boxes import MOST_BOXES, at_pixels

    rng = np.random.default_rng(2)
    image = rng.random((300, 400)).astype(np.float32)
    ys = np.array([0, 1, 2, 150, 151, 152, 150, 290, 299])
    xs = np.array([0, 1, 0, 200, 200, 201, 206, 390, 399])  # (150, 206): 5 px from its neighbours
    boxes = []

    def blurred(part: np.ndarray) -> np.ndarray:
        boxes.append(part.shape)
        return cv2.blur(part, (7, 7))

    values = at_pixels(ys, xs, 3, blurred, image)
    assert np.array_equal(values, cv2.blur(image, (7, 7))[ys, xs])
    assert len(boxes) == 3 and all(h * w < 400 for h, w in boxes), boxes
    boxes.clear()
    grid = np.arange(MOST_BOXES + 1) * 15  # more groups than boxes are worth
    at_pixels(grid, grid, 3, blurred, image)
    assert len(boxes) == 1


def test_a_lines_lean_is_that_of_its_own_course_not_of_what_joined_its_side() -> None:
    """A bright line leaning 0.08 columns a row (a leaning pole: picture, over the 0.06 limit),
    joined near its foot by an upright piece 8 px to its side. Least squares over all their
    pixels leans 0.024, under the limit (a suit's edge on bikes.mp4 leaned 0.052 so and was
    flagged as a scratch); refitted through the pixels on the first course, 0.074."""
    from gincli.core.imagemath import connected_components
    from gincli.masks.line_candidates import CandidateLines

    mask = np.zeros((144, 256), np.uint8)
    for row in range(10, 134):
        mask[row, 100 + round(0.08 * (row - 10)) :][:2] = 1
    foot = 100 + round(0.08 * 84)
    mask[94:134, foot - 8 : foot - 6] = 1  # the upright piece
    mask[94, foot - 8 : foot] = 1  # joined to the line
    count, labels, stats = connected_components(mask)
    lines = CandidateLines(labels, stats, np.arange(count) > 0)
    assert lines.ids.size == 1
    slopes, bends = lines.courses(4)
    assert abs(slopes[0] - 0.08) < 0.01, slopes
    assert bends[0] < 0.5, bends  # nor does it bend the course (through all pixels: 2.5 px)


def test_per_row_maxima_means_and_medians_of_each_line() -> None:
    """Two lines: one 2 px wide over rows 10-14, one 1 px wide over rows 20-23. Per row, the
    larger of a row's values; per line, their mean, and their median (the upper middle of an
    even count), each line on its own rows only."""
    from gincli.core.imagemath import connected_components
    from gincli.masks.line_candidates import CandidateLines

    mask = np.zeros((40, 60), np.uint8)
    mask[10:15, 5:7] = 1
    mask[20:24, 40] = 1
    count, labels, stats = connected_components(mask)
    lines = CandidateLines(labels, stats, np.arange(count) > 0)
    values = np.zeros(mask.shape)
    values[10:15, 5] = [5, 1, 4, 2, 3]  # the other column lower: each row's larger is these
    values[10:15, 6] = 0.5
    values[20:24, 40] = [9, 7, 1, 8]
    rows = lines.row_maxima(values[lines.ys, lines.xs])
    assert rows.tolist() == [5, 1, 4, 2, 3, 9, 7, 1, 8]
    assert lines.mean_over_rows(rows).tolist() == [3.0, 6.25]
    assert lines.median_over_rows(rows).tolist() == [3.0, 8.0]


@pytest.mark.parametrize(("left", "right", "moved_on"), [(0, 30, False), (30, 0, False), (20, 20, True)])
def test_the_scene_moved_on_past_a_line_only_where_both_its_sides_moved(left: int, right: int, moved_on: bool) -> None:
    """A line at column 160 of a 320 px frame, the picture moving ``left`` px beside it on
    the left and ``right`` px on the right by a distant frame. A walker passing beside a door's
    edge moves one side only: averaged over a square around both sides (61 px), 30 px on one
    side read as 15, over SCENE_MOVED_ON's 12, and the edge was taken for left behind by a
    scene that moved on (bikes' clean clip: a door's edge flagged in a frame)."""
    from gincli.core.imagemath import connected_components
    from gincli.masks.line_candidates import CandidateLines
    from gincli.masks.lines import SCENE_MOVED_ON, SURROUNDINGS, slower_side_speed
    from gincli.masks.motion import PictureMotion

    mask = np.zeros((144, 320), np.uint8)
    mask[10:134, 160:162] = 1
    count, labels, stats = connected_components(mask)
    lines = CandidateLines(labels, stats, np.arange(count) > 0)
    flow = np.zeros((144, 320, 2), np.float32)
    flow[:, :160, 0], flow[:, 162:, 0] = left, right
    beside = PictureMotion(cv2.dilate(mask, np.ones((1, 15), np.uint8)), SURROUNDINGS)
    speed = slower_side_speed(beside, beside.around(flow), lines, 320)
    assert bool(speed[0] >= SCENE_MOVED_ON) == moved_on, speed


@pytest.mark.parametrize("agreeing", [True, False])
def test_a_steady_pan_continued_to_a_distant_frame_finds_where_a_line_went(agreeing: bool) -> None:
    """A line at column 160; both neighbour frames see the picture beside it move 0.6 px a frame
    to the left (a slow pan; if not agreeing, 1 px a frame towards the frame before and 0.2
    towards the one after: 0.6 on average). The frame 12 later has the line at 152.8:
    continuing the steady pan finds it there, 7.2 px on (the coarse distant flow beside a cable
    on bikes.mp4 read 13.8, thrown off by a walker); motions that do not agree find nothing."""
    from gincli.core.imagemath import connected_components
    from gincli.masks.line_candidates import CandidateLines
    from gincli.masks.lines import DRIFTS, _carried_steadily

    mask = np.zeros((144, 320), np.uint8)
    mask[10:134, 160:162] = 1
    count, labels, stats = connected_components(mask)
    lines = CandidateLines(labels, stats, np.arange(count) > 0)
    theirs = np.zeros((144, 320), np.uint8)
    theirs[10:134, 152:155] = 80  # the line, 12 frames on
    shifted = np.stack([lines.columns(drift, 320) for drift in DRIFTS])
    before = np.tile([-0.6 if agreeing else -1.0, 0.0], (len(DRIFTS), lines.ys.size, 1))
    after = np.tile([-0.6 if agreeing else -0.2, 0.0], (len(DRIFTS), lines.ys.size, 1))
    speed, carried = _carried_steadily(theirs, lines, shifted, [before, after], 12)
    if agreeing:
        assert abs(speed[0] - 7.2) < 0.01 and carried[0] > 0.25, (speed, carried)
    else:
        assert carried[0] == 0, carried


@pytest.mark.parametrize("lit", [0, 60])
def test_only_a_distant_frame_with_the_same_picture_beside_a_line_tells_it_is_the_scenes(lit: int) -> None:
    """A dark line on a wall, at its place in the frame 12 away: picture (not found). That frame
    tells the frames around that it is the scene's (FoundLines.scene, which stops a scratch
    followed onto it) only if it shows the same picture beside it; not with the wall lit by 60
    levels there: a line at its place beside other picture may be another one (carphone: a
    scratch along a nose's shadow, and twelve frames on the moved face's edge lay there)."""
    from gincli.masks.lines import line_scratches
    from gincli.masks.scratches import FrameView
    from gincli.masks.thresholds import DamageThresholds

    t = DamageThresholds()
    rng = np.random.default_rng(7)
    wall = np.full((144, 256, 3), 110.0) + rng.normal(0, 1.5, (144, 256, 3))
    wall[8:136, 120:122] -= 50

    def view(picture: np.ndarray) -> FrameView:
        return FrameView.of(np.clip(picture, 0, 255).astype(np.uint8), t)

    found = line_scratches(view(wall), t, [], [view(wall + lit + rng.normal(0, 1.5, wall.shape))])
    assert not found.mask.any()
    assert (found.scene[0].size > 0) == (lit == 0), found.scene[0].size


def test_a_lines_bend_is_the_sagitta_of_its_course() -> None:
    """An arc bending 5 px over its 124 rows (a wheel's rim) and a straight line beside it."""
    from gincli.core.imagemath import connected_components
    from gincli.masks.line_candidates import CandidateLines

    mask = np.zeros((144, 256), np.uint8)
    for row in range(10, 134):
        column = 100 + round(5 * ((row - 72) / 62) ** 2)
        mask[row, column : column + 2] = 1
        mask[row, 200:202] = 1
    count, labels, stats = connected_components(mask)
    slopes, bends = CandidateLines(labels, stats, np.arange(count) > 0).courses(4)
    assert abs(bends[0] - 5) < 0.5 and bends[1] < 0.1 and np.abs(slopes).max() < 0.01, (slopes, bends)


def _candidates_of(spans: list[tuple[int, int, int, int]], height: int = 272) -> tuple:
    """The bright candidate lines of a response map holding, for each (first row, last row,
    first column, last column), a block of 0.3 (a line's own pixels), and their courses."""
    from gincli.masks.line_candidates import line_candidates
    from gincli.masks.thresholds import DamageThresholds

    response = np.zeros((height, 400), np.float32)
    for top, bottom, left, right in spans:
        response[top : bottom + 1, left : right + 1] = 0.3
    lines, courses, _ = line_candidates(response, DamageThresholds())
    return lines, courses


def test_a_scratch_merged_with_a_leaning_line_keeps_its_upright_course() -> None:
    """A 2 px upright scratch down 200 rows, joined over its lower half by a line 5 px wide
    leaning 0.1 columns a row (a window pillar): one candidate, whose course bends. Its upright course
    (the scratch) is kept as the candidate, the leaning line's pixels left out."""
    spans = [(30, 229, 200, 201)]
    spans += [(row, row, 200 + round(0.1 * (row - 130)), 204 + round(0.1 * (row - 130))) for row in range(130, 230)]
    lines, (slopes, _) = _candidates_of(spans)
    assert lines.ids.size == 1 and abs(slopes[0]) < 0.01, slopes
    assert lines.xs.min() >= 199 and lines.xs.max() <= 203 and lines.ys.max() - lines.ys.min() >= 190


def test_the_upright_middle_of_a_rims_arc_is_not_carved_out_of_it() -> None:
    """The shape a wheel's rim left as a candidate on bikes.mp4 (frame 223): 3 px upright for
    40 rows, then widening and turning right by 3 px over 20. Its upright course spans all its
    rows, but what it would leave (the turn's outer pixels) is no line of its own: the
    candidate stays whole, and leans (measured once: carved, it passed every test and was
    flagged, 398 px)."""
    spans = [(115, 120, 271, 271), (121, 123, 270, 271), (124, 150, 269, 271), (151, 153, 269, 272)]
    spans += [(154, 159, 269, 274), (160, 165, 271, 274), (166, 168, 272, 274), (169, 170, 274, 274)]
    lines, (slopes, bends) = _candidates_of(spans)
    assert lines.ids.size == 1 and lines.ys.size == sum((b - t + 1) * (e - s + 1) for t, b, s, e in spans)
    assert abs(slopes[0]) > 0.06 or bends[0] > 2, (slopes, bends)  # picture by its lean


def test_a_higher_contrast_judges_the_same_candidate_lines_and_drops_the_weak_ones() -> None:
    """A line's shape is judged on the whole line whatever contrast is asked: at 1.5 times the
    contrast (--sensitivity low) the candidates are those of the default contrast (found at
    that contrast, a scene line on bikes.mp4 was only its upright, sharp core). The contrast
    asked then decides what is strong enough: a sharp upright line 12 levels dark is a scratch
    at the default contrast (18 levels), not at 1.5 times it."""
    from gincli.masks.line_candidates import line_candidates, line_responses
    from gincli.masks.lines import line_scratches
    from gincli.masks.scratches import FrameView
    from gincli.masks.thresholds import DamageThresholds

    rng = np.random.default_rng(4)
    picture = np.full((144, 256), 128.0) + rng.normal(0, 1, (144, 256))
    picture[8:136, 60:62] -= 40  # a clear line
    for row in range(8, 136):  # a fainter one that leans
        picture[row, 150 + round(0.1 * (row - 8)) :][:2] -= 14
    picture[8:136, 200:202] -= 12  # a faint upright one
    frame = np.repeat(np.clip(picture, 0, 255).astype(np.uint8)[..., None], 3, axis=2)
    normal, low = DamageThresholds(), DamageThresholds().at_sensitivity("low")
    dark = line_responses(frame[..., 0], normal.line_width)[1]
    at_normal, _, _ = line_candidates(dark, normal)
    at_low, _, _ = line_candidates(dark, low)
    assert np.array_equal(at_low.xs, at_normal.xs) and np.array_equal(at_low.ys, at_normal.ys)
    assert {60, 150, 200} <= {int(x) for x in at_normal.xs // 10 * 10}
    found = {level: line_scratches(FrameView.of(frame, t), t).mask for level, t in (("normal", normal), ("low", low))}
    assert found["normal"][8:136, 60:62].all() and found["low"][8:136, 60:62].all()
    assert found["normal"][8:136, 200:202].mean() > 0.9 and not found["low"][:, 195:210].any()
    assert not found["normal"][:, 145:170].any()  # the leaning one is picture at either contrast


def test_a_lines_faint_stretch_takes_a_share_of_the_light_like_the_line_itself() -> None:
    """A dark scratch in rows 8-80 takes half the light of a wall (200 levels); below its end a
    thread along its course (rows 81-135) takes a twenty-fifth (8 levels): faint enough for the
    faint stretches' floor, and standing out from the plain wall, but taking under FAINT_SHARE
    of the scratch's share, it is picture past the scratch's end, not the scratch going on."""
    from gincli.masks.lines import line_scratches
    from gincli.masks.scratches import FrameView
    from gincli.masks.thresholds import DamageThresholds

    t = DamageThresholds()
    rng = np.random.default_rng(5)
    picture = np.full((144, 256), 200.0) + rng.normal(0, 1, (144, 256))
    picture[8:81, 98:100] *= 0.5  # the scratch
    picture[81:136, 98:100] -= 8  # the thread
    frame = np.repeat(np.clip(picture, 0, 255).astype(np.uint8)[..., None], 3, axis=2)
    found = line_scratches(FrameView.of(frame, t), t).mask
    rows = np.flatnonzero(found[:, 96:102].any(axis=1))
    assert rows.min() <= 10 and 78 <= rows.max() <= 84, rows
