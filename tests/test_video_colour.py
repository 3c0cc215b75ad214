"""Frames read from a video file at their true colour: the level and the matrix that the
standards give, not FFmpeg's fast conversion's (about a level of 255 darker)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from gincli.core.inpainter import Inpainter
from gincli.io.images import write_image
from gincli.io.video import VideoFileReader
from gincli.io.video_colour import Colour, with_holes_filled
from gincli.jobs.video import VideoOptions, inpaint_video
from gincli.testing.clips import write_lossless_clip

PATCH, ROWS, COLUMNS = 16, 4, 6  # flat patches of one colour each, so no chroma is interpolated


def patch_samples(rng: np.random.Generator) -> np.ndarray:
    """ROWS x COLUMNS x 3 (Y, U, V) sample values, within every range's limits."""
    return np.stack([rng.integers(20, 231, (ROWS, COLUMNS)), *rng.integers(60, 197, (2, ROWS, COLUMNS))], axis=-1)


def standard_rgb(samples: np.ndarray, matrix: int, full_range: bool) -> np.ndarray:
    """The RGB (0-255, unrounded) that BT.601 or BT.709 (``matrix`` 1) gives for Y, U, V samples."""
    kr, kb = (0.2126, 0.0722) if matrix == 1 else (0.299, 0.114)
    y, u, v = np.moveaxis(samples.astype(np.float64), -1, 0)
    if full_range:
        y, u, v = y / 255, (u - 128) / 255, (v - 128) / 255
    else:
        y, u, v = (y - 16) / 219, (u - 128) / 224, (v - 128) / 224
    r, b = y + 2 * (1 - kr) * v, y + 2 * (1 - kb) * u
    g = (y - kr * r - kb * b) / (1 - kr - kb)
    return np.clip(np.stack([r, g, b], axis=-1) * 255, 0, 255)


def lossless_clip(path: Path, samples: np.ndarray, pix_fmt: str, matrix: int, colour_range: int) -> None:
    """Two frames of flat patches, encoded losslessly in ``pix_fmt`` with those colour tags; 2
    rows more than the patches (the last row's again), so that the height is no multiple of 4
    (4:2:0's chroma planes are then no whole rows of the frame's width, as at 480 x 270)."""
    height = ROWS * PATCH + 2
    planes = [np.kron(samples[..., c], np.ones((PATCH, PATCH))).astype(np.uint8) for c in range(3)]
    planes = [np.vstack([plane, plane[-2:]]) for plane in planes]
    chroma_height = height // 2 if pix_fmt == "yuv420p" else height
    chroma = [p[:: height // chroma_height, ::2] for p in planes[1:]]
    write_lossless_clip(path, [[planes[0], *chroma]] * 2, pix_fmt, matrix, colour_range)


# BT.601 untagged (OpenCV converts it), BT.709, BT.601 in full range, and 4:2:2 (swscale does)
@pytest.mark.parametrize(
    ("pix_fmt", "matrix", "colour_range"),
    [("yuv420p", 2, 0), ("yuv420p", 1, 1), ("yuv420p", 5, 2), ("yuv422p", 6, 1)],
)
@pytest.mark.parametrize("keep_samples", [False, True])
def test_frames_are_read_at_the_colour_their_samples_stand_for(
    tmp_path: Path, pix_fmt: str, matrix: int, colour_range: int, keep_samples: bool
) -> None:
    """Every pixel within three quarters of a level of 255 of the standard's value (rounded, in
    OpenCV's fixed point), and none off on average: FFmpeg's default conversion read these
    patches up to 2.7 levels off (0.8-1.4 darker on average on real clips), and every fill and
    every frame written to a folder kept that."""
    samples = patch_samples(np.random.default_rng(matrix + colour_range))
    lossless_clip(tmp_path / "patches.mp4", samples, pix_fmt, matrix, colour_range)
    expected = standard_rgb(samples, matrix, colour_range == 2)
    images = [f.image for f in VideoFileReader(tmp_path / "patches.mp4", keep_samples).frames()]
    assert len(images) == 2
    for image in images:
        # each patch's inner pixels, away from chroma shared with its neighbours
        inner = image[: ROWS * PATCH].reshape(ROWS, PATCH, COLUMNS, PATCH, 3)[:, 2:-2, :, 2:-2].astype(np.float64)
        error = inner - expected[:, None, :, None]
        assert np.abs(error).max() < 0.75, np.abs(error).max()  # rounded to nearest, in fixed point
        assert abs(error.mean()) < 0.1, error.mean()


def test_holes_are_spliced_into_the_samples_at_a_height_that_is_no_multiple_of_4() -> None:
    """At 480 x 270 the chroma planes of 4:2:0 samples are no whole rows of the frame's width:
    splicing a hole's pixels into them took them as rows and failed (a ValueError from numpy,
    a traceback from `gin video`). Every sample outside the hole stays; the hole's are the
    image's."""
    height, width = 18, 16
    rng = np.random.default_rng(0)
    decoded = rng.integers(16, 236, (height * 3 // 2, width)).astype(np.uint8)
    image = np.full((height, width, 3), 200, np.uint8)
    hole = np.zeros((height, width), bool)
    hole[4:8, 6:10] = True
    spliced = with_holes_filled(decoded, image, hole, Colour())
    changed = spliced != decoded
    assert (
        not changed[:height][~hole].any()
        and (spliced[:height][hole] == cv2.cvtColor(image, cv2.COLOR_RGB2YUV_I420)[:height][hole]).all()
    )
    # the hole covers 2 x 2 chroma samples of each plane: 8 of the 2 x 9 x 8
    assert changed[height:].sum() == 2 * 2 * 2


def test_gin_video_fills_holes_in_a_clip_whose_height_is_no_multiple_of_4(tmp_path: Path) -> None:
    """The same through the video job, as a user runs it: it ended in a traceback."""
    lossless_clip(tmp_path / "patches.mp4", patch_samples(np.random.default_rng(0)), "yuv420p", 2, 0)
    mask = np.zeros((ROWS * PATCH + 2, COLUMNS * PATCH), np.uint8)
    mask[20:40, 30:40] = 255
    write_image(tmp_path / "mask.png", mask)
    options = VideoOptions(output=tmp_path / "out.mp4", mask=tmp_path / "mask.png")
    inpaint_video(tmp_path / "patches.mp4", Inpainter(fill="classical"), options, progress=False)
    assert len(list(VideoFileReader(tmp_path / "out.mp4").frames())) == 2
