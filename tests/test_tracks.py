"""Scratches followed through time (gincli/masks/tracks.py): a scratch found in one frame is
sought at its place in the frames before and after it, within its shot, and never spreads a
scene line over a shot."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from gincli.cli.main import main
from gincli.io.images import read_image, write_image
from gincli.masks.line_candidates import LinePair, line_responses
from gincli.masks.lines import FoundLines
from gincli.masks.scratches import DamageThresholds, damage_masks
from gincli.masks.tracks import STOOD_OUT, LineTrack, follow, follow_lines, found_tracks
from tests.conftest import scratched_still_shot, smooth_image

NOT_FOLLOWED = replace(DamageThresholds(), line_follow=0)


def still_shot_with_line(picture: np.ndarray, frames: range, rng: np.random.Generator, count: int) -> list[np.ndarray]:
    """``count`` frames of a still shot of ``picture`` (float, 0-255) with grain, and a dark
    scratch 2 px wide at columns 120-121, rows 8-135, in ``frames``."""
    return scratched_still_shot(picture, rng, np.s_[8:136, 120:122], -45, scratched=frames, count=count)


def found_on_line(masks: list[np.ndarray]) -> list[int]:
    """Per frame, 1 where the mask covers the scratch's place."""
    return [int(mask[8:136, 120:122].mean() > 0.9) for mask in masks]


def test_a_scratch_from_a_still_shots_first_frame_is_found_in_every_frame_it_lasts() -> None:
    """A scratch at its place in frames 0-23 of a 36-frame still shot. In frames 0-11 the frame
    12 on still shows it at its place and no frame before exists: judged alone, a persistent
    scene line (measured: found in frames 12-23 only). Frame 12's frame 12 before shows it, the
    one 12 on does not: it went, so no scene line; followed back from there, and it ends where
    the scratch does."""
    rng = np.random.default_rng(5)
    picture = smooth_image(rng, 144, 256).astype(np.float64) * 0.5 + 60
    frames = still_shot_with_line(picture, range(24), rng, 36)
    alone = found_on_line(list(damage_masks(frames, NOT_FOLLOWED)))
    assert sum(alone[:12]) == 0, alone  # what following adds
    assert found_on_line(list(damage_masks(frames))) == [1] * 24 + [0] * 12


def test_a_scratch_is_not_followed_across_a_cut_onto_a_scene_line() -> None:
    """Shot one: a scratch at columns 120-121 in its frames 4-19 (found in 8-15 alone; followed
    into 4-19). Shot two, after a cut: another picture with a pole at the same place, as dark,
    in all its 32 frames: a scene line, never flagged, though the scratch was proven no scene
    line in shot one."""
    rng = np.random.default_rng(6)
    first = still_shot_with_line(smooth_image(rng, 144, 256).astype(np.float64) * 0.5 + 60, range(4, 20), rng, 20)
    second = still_shot_with_line(255 - smooth_image(rng, 144, 256).astype(np.float64) * 0.5, range(32), rng, 32)
    found = found_on_line(list(damage_masks(first + second)))
    assert found[:20] == [0] * 4 + [1] * 16, found  # the scratch
    assert sum(found[20:]) == 0, found  # the pole


def test_a_scratch_is_not_followed_onto_a_shorter_pole_it_lay_over() -> None:
    """A pole (darker by 30 levels, rows 8-99) in all 25 frames of a still shot; in frames 8-16
    a scratch (25 more, rows 8-135) along it and on below it. Proven no scene line there (the
    frames 12 away show most of it missing), the scratch answers with 0.64 of its strength on
    the pole alone: enough to be followed, but the frames' own tests showed the pole to be the
    scene's, where a scratch keeps SCENE_KEPT_STRENGTH (measured: the pole flagged in all 25
    frames without that rule)."""
    rng = np.random.default_rng(8)
    wall = smooth_image(rng, 144, 256).astype(np.float64) * 0.3 + 110
    wall[8:100, 120:122] -= 30
    frames = scratched_still_shot(wall, rng, np.s_[8:136, 120:122], -25, grain=1.5)
    on_pole = [int(mask[8:100, 120:122].mean() > 0.9) for mask in damage_masks(frames)]
    assert on_pole == [0] * 8 + [1] * 9 + [0] * 8, on_pole


def track_of(frame: np.ndarray, where: tuple[slice, slice], t: DamageThresholds) -> LineTrack:
    """The proven track of the scratch at ``where`` in ``frame`` (uint8 luma), as a frame's own
    tests would hand it to the follower."""
    mask = np.zeros(frame.shape, np.uint8)
    mask[where] = 1
    (track,) = found_tracks(mask, True, line_responses(frame, t.line_width), frame, t)
    return track


def sought(track: LineTrack, here: np.ndarray, there: np.ndarray, t: DamageThresholds) -> LineTrack | None:
    """``track``, found in ``here``, followed into ``there`` (uint8 luma)."""
    return follow(track, line_responses(there, t.line_width), (here, there), t)


def test_follow_finds_a_scratch_that_drifted_and_not_one_that_is_gone_or_a_leaning_line() -> None:
    """A track found at columns 98-99 is followed into a frame where the scratch drifted to
    100-101 (MAX_DRIFT is 2 px), as strong; not into a frame without it, nor into one where it
    is less than half as strong (KEPT_STRENGTH); a track leaning 0.1 column per row is not
    followed, not even along a line leaning as it does."""
    t = DamageThresholds()
    rng = np.random.default_rng(7)
    picture = smooth_image(rng, 144, 256)[..., 1].astype(np.float64) * 0.5 + 60

    def frame(contrast: float, column: int, slope: float = 0.0) -> np.ndarray:
        noisy = picture + rng.normal(0, 2, picture.shape)
        for row in range(8, 136):
            left = column + round(slope * (row - 8))
            noisy[row, left : left + 2] -= contrast
        return np.clip(noisy, 0, 255).astype(np.uint8)

    here = frame(40, 98)
    track = track_of(here, np.s_[8:136, 98:100], t)
    followed = sought(track, here, frame(40, 100), t)
    assert followed is not None and set(np.unique(followed.columns)) <= {99, 100, 101, 102}
    assert followed.rows.min() <= 12 and followed.rows.max() >= 131 and followed.frames_away == 1
    assert sought(track, here, frame(0, 100), t) is None
    assert sought(track, here, frame(16, 100), t) is None
    leaning_here = frame(40, 98, slope=0.1)
    leaning = track_of(leaning_here, (np.arange(8, 136), np.round(98 + 0.1 * np.arange(128)).astype(int)), t)
    assert sought(leaning, leaning_here, frame(40, 98, slope=0.1), t) is None


def test_a_found_line_broken_where_it_crossed_an_edge_is_followed_whole() -> None:
    """A frame's own tests found a scratch (rows 8-128) in two pieces, rows 8-99 and 102-128 (its
    mask broke where it crossed an edge of the picture): the lower one, 27 rows, is shorter than
    the shortest scratch (31 rows) on its own. They are one track, followed whole."""
    t = DamageThresholds()
    rng = np.random.default_rng(12)
    picture = smooth_image(rng, 144, 256)[..., 1].astype(np.float64) * 0.5 + 60

    def frame() -> np.ndarray:
        noisy = picture + rng.normal(0, 2, picture.shape)
        noisy[8:129, 98:100] -= 40
        return np.clip(noisy, 0, 255).astype(np.uint8)

    here = frame()
    mask = np.zeros(here.shape, np.uint8)
    mask[8:100, 98:100] = mask[102:129, 98:100] = 1
    (track,) = found_tracks(mask, True, line_responses(here, t.line_width), here, t)
    assert track.rows.min() == 8 and track.rows.max() == 128
    followed = sought(track, here, frame(), t)
    assert followed is not None and followed.rows.max() >= 126, followed


def test_a_scratch_is_followed_over_darker_picture_by_the_share_of_light_it_takes() -> None:
    """A dark scratch that takes away half the light over a bright wall (200 levels: 100 less)
    is followed where a dark coat (80 levels) moved under it: it takes away half the light
    there too, 40 levels, under half of its strength where found but the same share of its
    headroom (relative_strengths); not where it takes away a fifth (16 levels)."""
    t = DamageThresholds()
    rng = np.random.default_rng(11)
    wall = smooth_image(rng, 144, 256)[..., 1].astype(np.float64) * 0.1 + 190

    def frame(level: float, share: float) -> np.ndarray:
        picture = wall + rng.normal(0, 2, wall.shape)
        picture[:, 60:140] += level - 200  # the coat, or the wall as it is
        picture[8:136, 98:100] *= 1 - share
        return np.clip(picture, 0, 255).astype(np.uint8)

    here = frame(200, 0.5)
    track = track_of(here, np.s_[8:136, 98:100], t)
    followed = sought(track, here, frame(80, 0.5), t)
    assert followed is not None and set(np.unique(followed.columns)) <= {97, 98, 99, 100}, followed
    assert followed.rows.min() <= 12 and followed.rows.max() >= 131
    assert sought(track, here, frame(80, 0.2), t) is None


@pytest.mark.parametrize(("coat", "followed_there"), [(28, True), (16, False)])
def test_a_followed_scratch_needs_only_the_faint_floor_over_dark_picture(coat: int, followed_there: bool) -> None:
    """A dark scratch that takes away 0.35 of the light over a wall (200 levels: 70 less),
    followed where a dark coat moved under it: over 28 levels it takes away 10, and its row
    mean lies between FAINT_FLOOR (7 levels) and a new line's bar (COHERENT_SHARE: 11); it is
    sought on a known course, so the floor is enough. Over 16 levels (6 less) it is under
    the floor: not followed, though it takes the same share of the light there."""
    t = DamageThresholds()
    rng = np.random.default_rng(11)
    wall = smooth_image(rng, 144, 256)[..., 1].astype(np.float64) * 0.1 + 190

    def frame(level: float) -> np.ndarray:
        picture = wall + rng.normal(0, 1, wall.shape)
        picture[:, 60:140] += level - 200  # the coat, or the wall as it is
        picture[8:136, 98:100] *= 0.65
        return np.clip(picture, 0, 255).astype(np.uint8)

    here = frame(200)
    track = track_of(here, np.s_[8:136, 98:100], t)
    followed = sought(track, here, frame(coat), t)
    assert (followed is not None) == followed_there, followed
    if followed_there:
        assert followed.rows.min() <= 12 and followed.rows.max() >= 131, followed


def test_a_followed_scratch_is_taken_between_its_ends_where_it_does_not_stand_out() -> None:
    """A dark scratch (rows 8-135) with two dark poles 5 px to each side of it in rows 60-84
    only: there it stands out from neither side, and an unproven track is followed in the rows
    above and below them; between those, it is taken in the poles' rows too, as it is there."""
    t = DamageThresholds()
    rng = np.random.default_rng(12)
    picture = smooth_image(rng, 144, 256)[..., 1].astype(np.float64) * 0.5 + 60
    picture[8:136, 98:100] -= 40
    for left in (91, 105):
        picture[60:85, left : left + 2] -= 40

    def frame() -> np.ndarray:
        return np.clip(picture + rng.normal(0, 2, picture.shape), 0, 255).astype(np.uint8)

    here, there = frame(), frame()
    track = replace(track_of(here, np.s_[8:136, 98:100], t), proven=False)
    followed = sought(track, here, there, t)
    assert followed is not None
    assert set(range(12, 132)) <= set(followed.rows.tolist()), sorted(set(range(8, 136)) - set(followed.rows.tolist()))


@pytest.mark.parametrize("left", [96, 98, 100])
def test_a_wide_scratch_is_followed_across_its_whole_width(left: int) -> None:
    """A dark scratch 5 px wide found at columns 98-102, followed into a frame where it stayed
    or drifted 2 px either way: found across all five columns in every row. Every drift whose
    band reached the row mean's peak held it as high, and the first of them won: the band
    then lay off the scratch's middle, and its right edge was lost (measured once: from
    two of these three frames; carphone's 5 px scratches were followed so)."""
    t = DamageThresholds()
    rng = np.random.default_rng(0)
    picture = smooth_image(rng, 144, 256)[..., 1].astype(np.float64) * 0.5 + 100

    def frame(column: int) -> np.ndarray:
        noisy = picture + rng.normal(0, 2, picture.shape)
        noisy[8:136, column : column + 5] -= 50
        return np.clip(noisy, 0, 255).astype(np.uint8)

    here = frame(98)
    followed = sought(track_of(here, np.s_[8:136, 98:103], t), here, frame(left), t)
    assert followed is not None
    for row in np.unique(followed.rows):
        columns = followed.columns[followed.rows == row]
        assert columns.min() <= left and columns.max() >= left + 4, (row, columns)


def test_a_scratch_there_in_nearly_all_its_rows_is_followed_where_it_does_not_stand_out() -> None:
    """A dark scratch (rows 8-135) found where it stood out all along, followed into a frame
    where dark poles 5 px to each side of it in rows 8-110 leave it standing out in its lower
    25 rows only (under FOLLOWED_ROWS' half): it is there in all its rows, so it is found in
    all of them (PRESENT_ROWS). Not where it fades in a fifth of its rows (there in 80 % of
    them), nor when it stood out in under STOOD_OUT of its rows where it was found, unless a
    distant frame proved it no scene line there."""
    t = DamageThresholds()
    rng = np.random.default_rng(14)
    picture = smooth_image(rng, 144, 256)[..., 1].astype(np.float64) * 0.5 + 60

    def frame(poles: bool, faded: int = 0) -> np.ndarray:
        noisy = picture + rng.normal(0, 2, picture.shape)
        noisy[8 + faded : 136, 98:100] -= 40
        for left in (91, 105) if poles else ():
            noisy[8:111, left : left + 2] -= 40
        return np.clip(noisy, 0, 255).astype(np.uint8)

    here = frame(poles=False)
    track = replace(track_of(here, np.s_[8:136, 98:100], t), proven=False)
    assert track.stood_out > 0.9
    followed = sought(track, here, frame(poles=True), t)
    assert followed is not None and followed.rows.min() <= 12 and followed.rows.max() >= 131, followed
    assert sought(track, here, frame(poles=True, faded=26), t) is None
    assert sought(replace(track, stood_out=STOOD_OUT - 0.05), here, frame(poles=True), t) is None
    # unless a distant frame proved it no scene line where it was found
    proven = sought(replace(track, stood_out=STOOD_OUT - 0.05, proven=True), here, frame(poles=True), t)
    assert proven is not None and proven.rows.min() <= 12 and proven.rows.max() >= 131, proven


def scratched_frames(seed: int, found: list[slice]) -> list[tuple[LinePair, np.ndarray, int, FoundLines, int]]:
    """Frames of a still shot (grain, a seeded picture) with a dark scratch at columns 98-99,
    rows 8-135, as :func:`follow_lines` takes them: each with the ``found`` rows of the
    scratch as its own tests' find."""
    t = DamageThresholds()
    rng = np.random.default_rng(seed)
    picture = smooth_image(rng, 144, 256)[..., 1].astype(np.float64) * 0.5 + 60
    nothing = (np.zeros(0, int), np.zeros(0, int))
    frames = []
    for rows in found:
        noisy = picture + rng.normal(0, 2, picture.shape)
        noisy[8:136, 98:100] -= 40
        luma = np.clip(noisy, 0, 255).astype(np.uint8)
        mask = np.zeros(luma.shape, bool)
        mask[rows, 98:100] = True
        frames.append((line_responses(luma, t.line_width), luma, 0, FoundLines(mask, nothing, nothing), 0))
    return frames


def missed_rows(mask: np.ndarray) -> np.ndarray:
    """The rows of the scratch of :func:`scratched_frames` that ``mask`` does not cover."""
    return np.flatnonzero(~mask[8:136, 98:100].all(axis=1)) + 8


@pytest.mark.parametrize("partial", [0, 1])
def test_a_scratch_found_in_part_by_a_frames_own_tests_is_completed_by_the_one_beside(partial: int) -> None:
    """A dark scratch (rows 8-135) in two frames; one frame's own tests found all of it, the
    other's its upper two thirds only (rows 8-90: the rest over busy picture, say). Followed
    from the one into the other, backwards or forwards, it adds the rest there (measured once:
    it was not followed into a frame whose own tests found most of the line, and rows 91-135
    were missed there)."""
    found = [slice(8, 91) if index == partial else slice(8, 136) for index in (0, 1)]
    completed = [mask for mask, _ in follow_lines(scratched_frames(15, found), DamageThresholds())][partial]
    assert not missed_rows(completed).size, missed_rows(completed)


def test_a_scratch_completed_in_a_frame_is_followed_on_whole_from_there() -> None:
    """A dark scratch (rows 8-135) in three frames: the first frame's own tests found all of it,
    the second's its upper two thirds (rows 8-90), the third's nothing. Followed from the
    first into the second, it goes no further (the second's own line is followed on), but
    the rest it adds there joins that line: the third frame gets all of it (measured once:
    rows 8-90 only, the second frame's own line followed alone)."""
    found = [slice(8, 136), slice(8, 91), slice(0, 0)]
    last = [mask for mask, _ in follow_lines(scratched_frames(16, found), DamageThresholds())][2]
    assert not missed_rows(last).size, missed_rows(last)


def test_a_scratch_in_the_frames_either_side_is_sought_in_fewer_rows_between_them() -> None:
    """A dark scratch (rows 8-135) that the own tests of frames 0 and 2 found; in frame 1, two
    dark poles stand 5 px to each side of it in rows 8-100, so there it stands out in its lower
    35 rows only, and it fades in rows 8-30 (so it is not there in nearly all its rows,
    PRESENT_ROWS): too few to follow it into a frame (FOLLOWED_ROWS: half its rows), enough in
    a frame between two that have it (BRACKETED_ROWS: a quarter). Unless frame 0 lacks it."""
    t = DamageThresholds()
    rng = np.random.default_rng(13)
    picture = smooth_image(rng, 144, 256)[..., 1].astype(np.float64) * 0.5 + 60
    scratch = np.s_[8:136, 98:100]
    nothing = (np.zeros(0, int), np.zeros(0, int))

    def frame(scratched: bool, poles: bool) -> tuple[LinePair, np.ndarray, int, FoundLines, int]:
        noisy = picture + rng.normal(0, 2, picture.shape)
        if scratched:
            noisy[scratch] -= 40
        for left in (91, 105) if poles else ():
            noisy[8:101, left : left + 2] -= 40
        if poles:
            noisy[8:31, 98:100] += 30  # the scratch fades
        luma = np.clip(noisy, 0, 255).astype(np.uint8)
        found = np.zeros(luma.shape, bool)
        found[scratch] = scratched and not poles  # frame 1's own tests miss it
        return line_responses(luma, t.line_width), luma, 0, FoundLines(found, nothing, nothing), 0

    for first_has_it in (True, False):
        frames = [frame(first_has_it, False), frame(True, True), frame(True, False)]
        between = [mask for mask, _ in follow_lines(frames, t)][1]
        if first_has_it:
            assert between[104:132, 98:100].all(), np.flatnonzero(between[:, 98:100].any(axis=1))
        else:
            assert not between.any(), np.flatnonzero(between.any(axis=1))


def test_a_proven_scratch_goes_on_between_scene_lines_where_the_picture_beside_it_is_unchanged() -> None:
    """A dark scratch at columns 98-99 between two dark poles 5 px to each side: the poles answer
    the top-hat as strongly as the scratch, so it does not stand out from them (stands_out), and
    an unproven track is not followed. A proven one is followed where the picture beside it is
    unchanged (STILL_BESIDE), also where it drifted a pixel; not into a frame whose picture
    beside it changed (20 levels brighter) where the scratch faded from a quarter of its rows;
    there in all its rows, it is (PRESENT_ROWS: proven, it need not have stood out)."""
    t = DamageThresholds()
    rng = np.random.default_rng(9)
    picture = smooth_image(rng, 144, 256)[..., 1].astype(np.float64) * 0.5 + 60
    for left in (91, 98, 105):  # pole, scratch, pole
        picture[8:136, left : left + 2] -= 40

    def frame(brighter: float = 0.0, drift: int = 0, faded: int = 0) -> np.ndarray:
        noisy = picture + brighter + rng.normal(0, 2, picture.shape)
        noisy[8:136, 98:101] = noisy[8:136, 98 - drift : 101 - drift]  # the scratch moved on the film
        noisy[136 - faded : 136, 98:100] += 40
        return np.clip(noisy, 0, 255).astype(np.uint8)

    here, there, changed = frame(), frame(), frame(brighter=20, faded=32)
    proven = track_of(here, np.s_[8:136, 98:100], t)
    followed = sought(proven, here, there, t)
    assert followed is not None and set(np.unique(followed.columns)) <= {98, 99}, followed
    assert followed.rows.min() <= 12 and followed.rows.max() >= 131
    assert sought(replace(proven, proven=False), here, there, t) is None
    drifted = frame(drift=1)  # its own change is no change of the picture beside it
    assert sought(proven, here, drifted, t) is not None
    assert sought(proven, here, changed, t) is None
    assert sought(proven, here, frame(brighter=20), t) is not None


def test_gin_scratches_follows_lines_unless_told_not_to(tmp_path: Path) -> None:
    """`gin scratches --line-follow 0` judges every frame alone: the long scratch of the first
    test is then missed in the first 12 frames of the folder; by default it is found there."""
    rng = np.random.default_rng(5)
    picture = smooth_image(rng, 144, 256).astype(np.float64) * 0.5 + 60
    for number, frame in enumerate(still_shot_with_line(picture, range(24), rng, 36), start=1):
        write_image(tmp_path / "frames" / f"frame_{number:04d}.png", frame)
    flagged = {}
    for name, extra in {"default": [], "alone": ["--line-follow", "0"]}.items():
        result = CliRunner().invoke(main, ["scratches", str(tmp_path / "frames"), "-o", str(tmp_path / name), *extra])
        assert result.exit_code == 0, result.output
        masks = [read_image(path) > 0 for path in sorted((tmp_path / name).glob("*.png"))]
        flagged[name] = found_on_line(masks)[:12]
    assert flagged == {"default": [1] * 12, "alone": [0] * 12}, flagged
