"""Interlaced footage, field by field: each frame is two instants (its even lines, its odd lines),
so damage is found in each field's own clip and filled from that field's lines alone."""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
from click.testing import CliRunner

from gincli.cli.main import main
from gincli.core.imagemath import field, grey, weave_fields
from gincli.core.inpainter import Inpainter
from gincli.core.interlacing import PROGRESSIVE, by_field_given, fields_by_content
from gincli.io.images import read_image, write_image
from gincli.io.video import VideoFileReader, VideoInfo
from gincli.jobs.video import works_by_field
from gincli.masks.scratches import damage_masks
from gincli.testing.film_damage import pan_clip, woven
from tests.conftest import scratched_still_shot, smooth_image
from tests.test_video import make_video

DROPOUT = (slice(80, 96, 2), slice(100, 112))  # eight lines of the top field, 12 px wide
BOTTOM_LINES_AROUND = (slice(75, 101, 2), slice(95, 117))  # the odd rows in and around it


def taped_clip() -> list[np.ndarray]:
    """Twelve frames of a 256 x 192 pan; frame 7 has a bright dropout in its top field alone
    (on tape, a field's lines are recorded apart and lose signal apart)."""
    rng = np.random.default_rng(3)
    frames = list(pan_clip(smooth_image(rng, 400, 500), 12, 256, 192, rng))
    frames[6][DROPOUT] = 250
    return frames


def test_a_field_is_filled_from_its_own_lines() -> None:
    """An extreme comb: the top field dark, the bottom one bright (a flash between the fields).
    Filled whole, the hole takes the mean of both; by field, each line keeps its field's level."""
    frame = np.zeros((96, 96, 3), np.uint8)
    frame[0::2], frame[1::2] = 50, 200
    hole = np.zeros((96, 96), np.float32)
    hole[30:60, 30:60] = 1
    inpainter = Inpainter(fill="classical")
    whole = inpainter.inpaint(frame, hole)
    assert 100 < whole[30:60, 30:60].mean() < 150
    by_field, how = inpainter.inpaint_with_info(frame, hole, fields=True)
    assert how == "classical"
    assert np.abs(by_field[30:60:2].astype(int) - 50).max() <= 2
    assert np.abs(by_field[31:60:2].astype(int) - 200).max() <= 2
    assert np.array_equal(by_field[hole == 0], frame[hole == 0])


def test_a_hole_in_still_picture_is_filled_whole_and_one_in_a_comb_by_field() -> None:
    """One interlaced frame, two holes: in a comb (its fields two instants, the left half), each
    line keeps its field's level; in still picture (the right half: both fields one instant), a
    dropout of eight top-field lines is filled from the bottom field's lines between them, as a
    whole frame's fill does, far closer than from the top field's own lines 16 lines apart."""
    still = smooth_image(np.random.default_rng(4), 96, 96)
    frame = np.concatenate([np.zeros((96, 96, 3), np.uint8), still], axis=1)
    frame[0::2, :96], frame[1::2, :96] = 50, 200
    hole = np.zeros((96, 192), np.float32)
    hole[30:60, 20:60] = 1  # in the comb
    hole[40:56:2, 130:160] = 1  # every other line: one field's dropout
    dropout = hole[:, 96:] > 0
    inpainter = Inpainter(fill="classical")
    filled = inpainter.inpaint(frame, hole, fields=True)
    assert np.abs(filled[30:60:2, 20:60].astype(int) - 50).max() <= 2
    assert np.abs(filled[31:60:2, 20:60].astype(int) - 200).max() <= 2

    def error(picture: np.ndarray) -> float:  # in the still picture's dropout
        return float(np.abs(picture[dropout].astype(int) - still[dropout]).mean())

    whole = inpainter.inpaint(frame[:, 96:], dropout.astype(np.float32))
    fields_only = weave_fields(*(inpainter.inpaint(field(still, p), field(dropout, p).astype(np.float32))
                                 if field(dropout, p).any() else field(still, p) for p in (0, 1)))  # fmt: skip
    assert error(filled[:, 96:]) == error(whole) < error(fields_only) / 3, (error(whole), error(fields_only))


def test_damage_in_one_field_is_found_in_that_field_alone() -> None:
    """Judged whole, the dropout's comb is found and grown over the bottom field's clean lines
    between, which the fill would then replace; by field, only the top field's lines are damage."""
    frames = taped_clip()
    whole = [mask > 0 for mask in damage_masks(frames)]
    by_field = [mask > 0 for mask in damage_masks(frames, fields=True)]
    for masks in (whole, by_field):
        assert masks[6][DROPOUT].all()
        assert not any(mask.any() for i, mask in enumerate(masks) if i != 6)
    assert whole[6][BOTTOM_LINES_AROUND].any() and not by_field[6][BOTTOM_LINES_AROUND].any()


def test_a_leaning_scratch_is_found_by_field_as_it_is_whole() -> None:
    """A field's rows are every other line, so a scratch leaning 0.045 columns a line leans 0.09
    a field's row: past --line-max-slant (0.06) unless the field's thresholds count in lines."""
    rng = np.random.default_rng(5)
    rows = np.arange(8, 136)
    columns = 100 + np.round(0.045 * (rows - 8)).astype(int)
    scratch = (np.concatenate([rows, rows]), np.concatenate([columns, columns + 1]))
    frames = scratched_still_shot(smooth_image(rng, 144, 256).astype(np.float64), rng, scratch, 90)
    for fields in (False, True):
        found = [mask[scratch].mean() for mask in damage_masks(frames, fields=fields)]
        assert found == [0.0] * 8 + [1.0] * 9 + [0.0] * 8, (fields, found)


def pan(seed: int, frames: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return list(pan_clip(smooth_image(rng, 400, 500), frames, 256, 192, rng))


def test_combed_frames_are_told_from_progressive_ones() -> None:
    """A pan woven either way is found interlaced in that order (the pairing of fields that lie
    furthest apart in time fits worst); the pan itself, a still woven frame (nothing moves, so
    nothing tells) and a progressive pan over every-other-line slats (a comb within each frame,
    the same in every frame) are not."""
    frames = pan(3, 24)
    slats = smooth_image(np.random.default_rng(5), 192, 400).astype(np.float64)
    slats[0::2] *= 0.5
    for clip, order in (
        (woven(frames), "top"),
        (woven(frames, top_first=False), "bottom"),
        (frames, None),
        ([woven(frames)[3]] * 12, None),
        ([slats[:, 3 * i : 3 * i + 256].astype(np.uint8) for i in range(12)], None),
    ):
        assert fields_by_content(grey(frame) for frame in clip) == order


def test_the_look_at_a_still_shot_stops_after_so_many_frames_or_pixels(monkeypatch: pytest.MonkeyPatch) -> None:
    """A still never tells: the look stops at LOOK_AHEAD frames, sooner for large ones."""
    import gincli.core.interlacing as interlacing

    def read(count: list[int], size: int) -> Iterator[np.ndarray]:
        still = smooth_image(np.random.default_rng(0), size, size)[..., 0].astype(np.float32)
        while True:
            count[0] += 1
            yield still

    small, large = [0], [0]
    assert fields_by_content(read(small, 16)) is None and small[0] == interlacing.LOOK_AHEAD
    monkeypatch.setattr(interlacing, "LOOK_AHEAD_PIXELS", 40 * 32 * 32)
    assert fields_by_content(read(large, 32)) is None and large[0] == 41  # the 41st read, then left


@pytest.mark.parametrize(("seen", "flagged", "by_field"), [
    ("top", None, True), ("bottom", "top", True), ("top", "top", True),
    (PROGRESSIVE, "top", False), (PROGRESSIVE, None, False), (None, "bottom", True), (None, None, False),
])  # fmt: skip
def test_the_frames_decide_where_they_tell_and_the_file_where_they_do_not(
    seen: str | None, flagged: str | None, by_field: bool
) -> None:
    assert by_field_given(seen, flagged) == by_field


@pytest.mark.parametrize(("fields", "by_field"), [("separate", True), ("whole", False)])
def test_fields_separate_and_whole_read_no_frame(fields: str, by_field: bool) -> None:
    info = VideoInfo(256, 192, Fraction(25), Fraction(1, 25), None, has_audio=False, first_field="top")
    notes: list[str] = []
    assert works_by_field(Path("nowhere.mp4"), SimpleNamespace(info=info), fields, notes.append) == by_field
    assert not notes


def test_gin_video_finds_combed_frames_a_file_does_not_flag(tmp_path: Path) -> None:
    """Interlaced frames in a file that says nothing of fields (a remux that lost its flags):
    with --fields auto, gin video reads their combs and works by field, the top field's dropout
    filled and the bottom field's lines kept; a progressive pan in such a file is worked whole."""
    frames = woven(pan(3, 24))
    frames[6][DROPOUT] = 250
    for name, clip, by_field in (("woven", frames, True), ("pan", taped_clip(), False)):
        source = make_video(tmp_path / f"{name}.mkv", clip, audio=False, pix_fmt="yuv444p",
                            setup=lambda stream: stream.options.update({"x264-params": "qp=0"}))  # fmt: skip
        assert VideoFileReader(source).info.first_field is None
        out = tmp_path / f"{name}-out"
        result = CliRunner().invoke(main, ["video", str(source), "--auto-mask", "scratches", "--fill", "classical",
                                           "-o", str(out)])  # fmt: skip
        assert result.exit_code == 0, result.output
        assert ("its frames are combed, interlaced (top field first)" in result.output) == by_field, result.output
        given, filled = read_image_of(source, 6), read_image(out / "000007.png")
        assert not np.array_equal(filled[DROPOUT], given[DROPOUT])
        assert np.array_equal(filled[BOTTOM_LINES_AROUND], given[BOTTOM_LINES_AROUND]) == by_field


def test_gin_video_works_on_interlaced_footage_field_by_field(tmp_path: Path) -> None:
    """Flagged top field first, the tape's dropout is filled in the top field alone: the bottom
    field's lines come out as they went in. With --fields whole they are filled too."""
    frames = woven(pan(3, 24))
    frames[6][DROPOUT] = 250
    source = top_field_first(tmp_path / "tape.mkv", frames)
    given = read_image_of(source, 6)
    for fields, bottom_kept in (("auto", True), ("whole", False)):
        out = tmp_path / fields
        result = CliRunner().invoke(main, ["video", str(source), "--auto-mask", "scratches", "--fill", "classical",
                                           "--fields", fields, "-o", str(out)])  # fmt: skip
        assert result.exit_code == 0, result.output
        assert ("each field" in result.output) == (fields == "auto"), result.output
        filled = read_image(out / "000007.png")
        assert not np.array_equal(filled[DROPOUT], given[DROPOUT])
        assert np.array_equal(filled[BOTTOM_LINES_AROUND], given[BOTTOM_LINES_AROUND]) == bottom_kept


def top_field_first(path: Path, frames: list[np.ndarray]) -> Path:
    """``frames`` in x264, lossless 4:4:4, flagged interlaced, top field first."""
    source = make_video(path, frames, audio=False, pix_fmt="yuv444p",
                        setup=lambda stream: stream.options.update({"x264-params": "tff=1:qp=0"}))  # fmt: skip
    assert VideoFileReader(source).info.first_field == "top"
    return source


def each_way_under(source: Path, mask: np.ndarray, tmp_path: Path) -> dict[str, str]:
    """``gin video`` on ``source`` under ``mask`` with the classical fill, ``--fields`` auto and
    whole, into ``tmp_path / "auto"`` and ``tmp_path / "whole"``: each run's output text."""
    write_image(tmp_path / "m.png", mask)
    outputs = {}
    for fields in ("auto", "whole"):
        result = CliRunner().invoke(main, ["video", str(source), "--mask", str(tmp_path / "m.png"), "--fill",
                                           "classical", "--fields", fields, "-o", str(tmp_path / fields)])  # fmt: skip
        assert result.exit_code == 0, result.output
        outputs[fields] = result.output
    return outputs


def test_film_transferred_frame_for_frame_and_flagged_interlaced_is_worked_whole(tmp_path: Path) -> None:
    """A progressive pan (its frames move, none combs) in a file flagged top field first: gin
    video says so and works on whole frames, as --fields whole does."""
    rng = np.random.default_rng(0)
    texture = cv2.GaussianBlur(rng.random((400, 500, 3)).astype(np.float32), (0, 0), 2.0)
    texture = (255 * (texture - texture.min()) / np.ptp(texture)).astype(np.uint8)
    film = [texture[3 * i : 3 * i + 192, 2 * i : 2 * i + 256] for i in range(30)]
    source = top_field_first(tmp_path / "film.mkv", film)
    mask = np.zeros((192, 256), np.uint8)
    mask[60:100, 80:140] = 255
    for fields, output in each_way_under(source, mask, tmp_path).items():
        assert ("but its frames are progressive" in output) == (fields == "auto"), output
    for name in ("000001.png", "000015.png"):
        assert np.array_equal(read_image(tmp_path / "auto" / name), read_image(tmp_path / "whole" / name))


def test_gin_video_fills_each_field_of_a_hole_from_its_own_lines(tmp_path: Path) -> None:
    """A flash between the fields (top dark, bottom bright) under a --mask: by field, each of the
    hole's lines keeps its field's level; whole, the two are mixed."""
    frame = np.zeros((64, 96, 3), np.uint8)
    frame[0::2], frame[1::2] = 50, 200
    source = top_field_first(tmp_path / "flash.mkv", [frame] * 3)
    mask = np.zeros((64, 96), np.uint8)
    mask[20:44, 30:60] = 255
    for fields in each_way_under(source, mask, tmp_path):
        top, bottom = (read_image(tmp_path / fields / "000002.png")[20 + parity : 44 : 2, 30:60] for parity in (0, 1))
        if fields == "auto":
            assert np.abs(top.astype(int) - 50).max() <= 2 and np.abs(bottom.astype(int) - 200).max() <= 2
        else:
            assert 100 < top.mean() < 150 and 100 < bottom.mean() < 150


def read_image_of(video: Path, index: int) -> np.ndarray:
    return next(frame.image for frame in VideoFileReader(video).frames() if frame.index == index)
