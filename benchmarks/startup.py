"""What a `gin` command costs before and around its work: one small photo, one short clip.

    python benchmarks/startup.py                 # the bundled model, 5 runs each
    python benchmarks/startup.py --model model.onnx --runs 9

Each run is a separate `gin` process, timed end to end: `gin inpaint` on one 400 x 300 photo
with one 80 x 40 hole (the default `--fill auto`, whose network route runs), and `gin video` on
a 6-frame 1280 x 720 clip with film damage planted (`--auto-mask scratches`) with each fill
method. On such small work the time is mostly the command's start: imports, reading the model,
starting the engine. The table shows the median and the range of the runs, alternated.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
from pipeline import photo  # benchmarks/pipeline.py: photo-like generated content

from gincli.io.images import write_image
from gincli.io.video import Frame, VideoInfo
from gincli.io.video_encode import encode_chunk
from gincli.testing.film_damage import damage_clip, pan_clip


def make_inputs(folder: Path) -> tuple[Path, Path, Path]:
    """(photo, its mask, a damaged 6-frame 720p clip)."""
    rng = np.random.default_rng(0)
    picture, mask = folder / "photo.png", folder / "mask.png"
    write_image(picture, photo(rng, 300, 400))
    hole = np.zeros((300, 400), np.uint8)
    hole[100:140, 100:180] = 255
    write_image(mask, hole)
    clip = folder / "clip.mp4"
    info = VideoInfo(1280, 720, Fraction(24), Fraction(1, 24), 6, has_audio=False)
    frames = itertools.islice(pan_clip(photo(rng, 900, 1600), 6, 1280, 720, rng), 6)
    damaged = (d.image for d in damage_clip(frames, rng))
    encode_chunk(clip, (Frame(i, f, i, i + 1) for i, f in enumerate(damaged)), info, "h264", 18, 0)
    return picture, mask, clip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="ONNX model [default: the bundled one]")
    parser.add_argument("--runs", type=int, default=5, help="runs of each command, alternated")
    args = parser.parse_args()
    model = ["--model", args.model] if args.model else []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        picture, mask, clip = make_inputs(folder)
        commands = {
            "gin inpaint, 1 photo": ["inpaint", str(picture), "--masks", str(mask), "-o", str(folder / "out")],
            **{
                f"gin video, 6 frames, --fill {fill}": [
                    "video", str(clip), "--auto-mask", "scratches", "--fill", fill, "-o", str(folder / "out.mp4"),
                ]
                for fill in ("classical", "auto", "network")
            },
        }  # fmt: skip
        seconds: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.runs):
            for name, command in commands.items():
                start = time.perf_counter()
                gin = [
                    sys.executable,
                    "-c",
                    "from gincli.cli.main import main; main()",
                    *command,
                    *model,
                    "--overwrite",
                ]
                subprocess.run(gin, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                seconds[name].append(time.perf_counter() - start)
    print("| command | runs | median s | range s |")
    print("|---|---|---|---|")
    for name, times in seconds.items():
        print(f"| {name} | {len(times)} | {statistics.median(times):.2f} | {min(times):.2f}-{max(times):.2f} |")


if __name__ == "__main__":
    main()
