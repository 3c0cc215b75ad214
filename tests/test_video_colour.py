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
from gincli.io.video_colour import Colour, from_rgb, with_holes_filled
from gincli.io.video_encode import pixel_format
from gincli.io.yuv_planes import LAYOUTS, chroma_size, format_name, frame_planes
from gincli.jobs.video import VideoOptions, run_video
from gincli.testing.clips import changes_outside, clip_samples, write_lossless_clip

PATCH, ROWS, COLUMNS = 16, 4, 6  # flat patches of one colour each, so no chroma is interpolated


def patch_samples(rng: np.random.Generator) -> np.ndarray:
    """ROWS x COLUMNS x 3 (Y, U, V) sample values, within every range's limits."""
    return np.stack([rng.integers(20, 231, (ROWS, COLUMNS)), *rng.integers(60, 197, (2, ROWS, COLUMNS))], axis=-1)


def standard_rgb(samples: np.ndarray, matrix: int, full_range: bool) -> np.ndarray:
    """The RGB (0-255, unrounded) that BT.601, BT.709 (``matrix`` 1) or BT.2020 (9) gives for
    8-bit Y, U, V samples."""
    kr, kb = {1: (0.2126, 0.0722), 9: (0.2627, 0.0593)}.get(matrix, (0.299, 0.114))
    y, u, v = np.moveaxis(samples.astype(np.float64), -1, 0)
    if full_range:
        y, u, v = y / 255, (u - 128) / 255, (v - 128) / 255
    else:
        y, u, v = (y - 16) / 219, (u - 128) / 224, (v - 128) / 224
    r, b = y + 2 * (1 - kr) * v, y + 2 * (1 - kb) * u
    g = (y - kr * r - kb * b) / (1 - kr - kb)
    return np.clip(np.stack([r, g, b], axis=-1) * 255, 0, 255)


def lossless_clip(path: Path, samples: np.ndarray, pix_fmt: str, matrix: int, colour_range: int) -> None:
    """Two frames of flat patches, encoded losslessly in ``pix_fmt`` with those colour tags (8-bit
    ``samples`` times 4 in a 10-bit format); 2 rows more than the patches (the last row's again),
    so that the height is no multiple of 4 (4:2:0's chroma planes are then no whole rows of the
    frame's width, as at 480 x 270)."""
    layout = LAYOUTS[pix_fmt]
    scaled = samples * 2 ** (layout.depth - 8)
    planes = [np.kron(scaled[..., c], np.ones((PATCH, PATCH))).astype(layout.dtype) for c in range(3)]
    planes = [np.vstack([plane, plane[-2:]]) for plane in planes]
    chroma = [p[:: 2**layout.shift_y, :: 2**layout.shift_x] for p in planes[1:]]
    write_lossless_clip(path, [[planes[0], *chroma]] * 2, pix_fmt, matrix, colour_range)


# BT.601 untagged (OpenCV converts it), BT.709, BT.601 in full range, 4:2:2, and 10-bit footage
# (read into 16-bit RGB) in 4:2:0, 4:2:2 (BT.2020) and 4:4:4
@pytest.mark.parametrize(
    ("pix_fmt", "matrix", "colour_range"),
    [
        ("yuv420p", 2, 0),
        ("yuv420p", 1, 1),
        ("yuv420p", 5, 2),
        ("yuv422p", 6, 1),
        ("yuv420p10le", 1, 1),
        ("yuv422p10le", 9, 1),
        ("yuv444p10le", 2, 0),
    ],
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
        assert image.dtype == LAYOUTS[pix_fmt].dtype  # 10-bit footage keeps its precision
        image = image / 257 if image.dtype == np.uint16 else image
        # each patch's inner pixels, away from chroma shared with its neighbours
        inner = image[: ROWS * PATCH].reshape(ROWS, PATCH, COLUMNS, PATCH, 3)[:, 2:-2, :, 2:-2].astype(np.float64)
        error = inner - expected[:, None, :, None]
        assert np.abs(error).max() < 0.75, np.abs(error).max()  # rounded to nearest, in fixed point
        assert abs(error.mean()) < 0.1, error.mean()


# 4:2:0 at a height that is no multiple of 4 (its chroma planes are then no whole rows of the
# frame's width: splicing them as rows failed, a traceback from `gin video`), in BT.709 (swscale
# converts it), 4:2:2 at an odd width (its last chroma column covers one pixel), 4:4:4 in 10 bits
@pytest.mark.parametrize(("pix_fmt", "matrix", "height", "width"), [
    ("yuv420p", 2, 18, 16), ("yuv420p", 1, 50, 40), ("yuv422p", 2, 16, 15), ("yuv444p10le", 9, 12, 16)])  # fmt: skip
def test_holes_are_spliced_into_the_samples_of_any_layout(pix_fmt: str, matrix: int, height: int, width: int) -> None:
    """Every sample outside the holes stays; a luma sample in one and a chroma sample that
    covers any pixel of one are what the whole image converts to there, though only boxes
    around the holes are converted: holes with odd edges (a chroma sample read at its first
    pixel alone would miss them), at the frame's edge and far apart."""
    layout, colour = LAYOUTS[pix_fmt], Colour(matrix, 1)
    rng = np.random.default_rng(0)
    sizes = [(height, width), *[chroma_size(layout, height, width)] * 2]
    decoded = tuple(rng.integers(16, 100, size).astype(layout.dtype) << (layout.depth - 8) for size in sizes)
    image = rng.integers(0, np.iinfo(layout.dtype).max, (height, width, 3), endpoint=True).astype(layout.dtype)
    hole = np.zeros((height, width), bool)
    hole[5:8, 7:10] = hole[-1:, -3:] = True
    spliced = with_holes_filled(decoded, layout, image, hole, colour)
    whole = frame_planes(from_rgb(image, format_name(layout), colour))
    block_y, block_x = 2**layout.shift_y, 2**layout.shift_x
    padded = np.zeros((sizes[1][0] * block_y, sizes[1][1] * block_x), bool)
    padded[:height, :width] = hole
    covers = padded.reshape(sizes[1][0], block_y, sizes[1][1], block_x).any(axis=(1, 3))
    for index, (now, was, converted) in enumerate(zip(spliced, decoded, whole, strict=True)):
        in_hole = hole if index == 0 else covers
        assert np.array_equal(now[~in_hole], was[~in_hole]), index
        assert np.array_equal(now[in_hole], converted[in_hole]), (index, now[in_hole], converted[in_hole])


def test_gin_video_fills_holes_in_a_clip_whose_height_is_no_multiple_of_4(tmp_path: Path) -> None:
    """The same through the video job, as a user runs it: it ended in a traceback."""
    lossless_clip(tmp_path / "patches.mp4", patch_samples(np.random.default_rng(0)), "yuv420p", 2, 0)
    mask = np.zeros((ROWS * PATCH + 2, COLUMNS * PATCH), np.uint8)
    mask[20:40, 30:40] = 255
    write_image(tmp_path / "mask.png", mask)
    options = VideoOptions(output=tmp_path / "out.mp4", mask=tmp_path / "mask.png")
    run_video(tmp_path / "patches.mp4", Inpainter(fill="classical"), options, progress=False)
    assert len(list(VideoFileReader(tmp_path / "out.mp4").frames())) == 2


# 4:2:2 and 4:4:4, and 10-bit footage: the output keeps the input's format, and its samples outside
# the holes bit for bit. Before, each was written as 8-bit 4:2:0: a 10-bit scan lost two bits, a
# 4:2:2 one half of its chroma; then, in its own format but through RGB, every colour outside RGB's
# cube was clipped (up to 64 codes of 1023 off on Big Buck Bunny) and every sample rounded twice
# FFV1 (lossless at any depth) keeps any planar YUV layout as it is: before, it stored 16-bit RGB
@pytest.mark.parametrize(("pix_fmt", "codec"), [("yuv422p", "h264"), ("yuv444p", "h264"), ("yuv420p10le", "h264"),
                                                ("yuv422p10le", "h264"), ("yuv420p", "ffv1"),
                                                ("yuv422p12le", "ffv1"), ("yuv444p16le", "ffv1")])  # fmt: skip
def test_gin_video_keeps_the_chroma_subsampling_and_depth_of_its_input(
    tmp_path: Path, pix_fmt: str, codec: str
) -> None:
    layout = LAYOUTS[pix_fmt]
    height, width, step = 34, 48, 2 ** (layout.depth - 8)
    # grain at every code of the depth, and colours in and outside RGB's cube alike
    rng = np.random.default_rng(1)
    luma = rng.integers(16 * step, 235 * step + 1, (height, width))
    chroma = rng.integers(16 * step, 240 * step + 1, (2, *chroma_size(layout, height, width)))
    source, output = (tmp_path / f"{name}.{'mkv' if codec == 'ffv1' else 'mp4'}" for name in ("grain", "out"))
    frame = [p.astype(layout.dtype) for p in (luma, *chroma)]
    write_lossless_clip(source, [frame] * 2, pix_fmt, 1, 1, "ffv1" if layout.depth > 10 else "libx264")
    mask = np.zeros((height, width), np.uint8)
    mask[9:20, 13:30] = 255
    write_image(tmp_path / "mask.png", mask)
    options = VideoOptions(output=output, mask=tmp_path / "mask.png", codec=codec, crf=0)
    run_video(source, Inpainter(fill="classical"), options, progress=False)
    before, after = clip_samples(source), clip_samples(output)
    assert len(after) == 2
    # a chroma sample is the hole's where any pixel it covers is: its first pixel is then a pixel off at most
    near_hole = cv2.dilate(mask, np.ones((3, 3), np.uint8)) > 0
    for (_, planes), (name, out_planes) in zip(before, after, strict=True):
        assert name == pix_fmt
        outside = changes_outside(planes, out_planes, near_hole, layout)
        inside = changes_outside(planes, out_planes, ~near_hole, layout)
        for index, (change, filled) in enumerate(zip(outside, inside, strict=True)):
            assert change.max() == 0, (index, np.count_nonzero(change), change.max())
            assert filled.max() > 0  # the hole was filled


def test_a_16_bit_frame_folder_becomes_a_10_bit_video(tmp_path: Path) -> None:
    """16-bit scans (PNG or TIFF) encoded by `gin video`: it ended in a traceback from OpenCV's
    8-bit colour conversion. Now H.264 in 10 bits (FFV1: 16-bit RGB, lossless): two levels a
    quarter of an 8-bit step apart stay apart."""
    frames = tmp_path / "scan"
    frames.mkdir()
    image = np.full((32, 48, 3), 30000, np.uint16)
    image[:, 24:] += 64  # a quarter of 257, a step of 8-bit levels: 10 bits hold it, 8 do not
    for number in (1, 2):
        write_image(frames / f"{number:04d}.png", image)
    mask = np.zeros((32, 48), np.uint8)
    mask[4:8, 4:8] = 255
    write_image(tmp_path / "mask.png", mask)
    options = VideoOptions(output=tmp_path / "out.mp4", mask=tmp_path / "mask.png", crf=0)
    run_video(frames, Inpainter(fill="classical"), options, progress=False)
    (name, (luma, *_)), _ = clip_samples(tmp_path / "out.mp4")
    assert name == "yuv420p10le"
    assert luma[16:, 30:].mean() - luma[16:, :18].mean() == pytest.approx(64 / 65535 * 219 * 4, abs=0.5)
    lossless = VideoOptions(output=tmp_path / "out.mkv", mask=tmp_path / "mask.png", codec="ffv1")
    run_video(frames, Inpainter(fill="classical"), lossless, progress=False)
    (name, planes), _ = clip_samples(tmp_path / "out.mkv")
    green, blue, red = planes
    assert name == "gbrp16le" and (np.stack([red, green, blue], -1)[8:] == image[8:]).all()


# (codec, source format) -> the output's: H.264 keeps a YUV source's layout up to 10 bits, HEVC up
# to 12, FFV1 any (8 to 16 bits: it stored 16-bit RGB); other deep sources 10 bits, or FFV1's
# 16-bit RGB; MPEG-4 8-bit 4:2:0 always
@pytest.mark.parametrize(("codec", "source", "expected"), [
    ("h264", "yuv422p12le", "yuv422p10le"), ("hevc", "yuv422p12le", "yuv422p12le"),
    ("hevc", "yuv444p16le", "yuv444p12le"), ("ffv1", "yuv444p16le", "yuv444p16le"),
    ("ffv1", "yuvj420p", "yuv420p"), ("ffv1", "yuv420p10le", "yuv420p10le"),
    ("hevc", "rgb48le", "yuv420p10le"), ("ffv1", "rgb48le", "gbrp16le"), ("ffv1", "rgb24", "bgr0"),
    ("mpeg4", "yuv422p10le", "yuv420p"),
])  # fmt: skip
def test_the_output_keeps_the_sources_layout_and_as_many_bits_as_its_codec_writes(
    codec: str, source: str, expected: str
) -> None:
    assert pixel_format(codec, 64, 48, source) == expected
