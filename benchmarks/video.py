"""`gin video` throughput and memory on 1280 x 720 footage with thin scratch masks.

    python benchmarks/video.py                              # the bundled model
    python benchmarks/video.py --model model.onnx --seconds 10,60 --whole-seconds 2
    python benchmarks/video.py --seconds 5 --whole-seconds 0 --no-flicker   # the two fill routes, quickly
    python benchmarks/video.py --seconds 10 --whole-seconds 0 --no-flicker --fills classical --detect --presets medium,faster
    python benchmarks/video.py --seconds 10 --whole-seconds 0 --no-flicker --fills classical --detect --workers 1,2,3,4,6

A clip (a pan over a generated photo, 24 fps, H.264; each length a cut of the same shot) and one
scratch mask per frame (3-8 thin near-vertical lines, `gincli.masks.families.thin_line_mask`) are
made first; then each run is a separate `gin video ... --masks DIR` process, timed end to end
(decode, inpaint, encode, join) with its peak RSS. With `--detect`, each run is repeated on the clip
with film damage planted in its frames (`gincli.testing.film_damage.damage_clip`: scratches and
dust) and `--auto-mask scratches` instead of mask files: decode, detect, fill, encode. `crop` runs
on every clip length (memory must not grow with the length) once per fill route (`--fill classical`:
OpenCV's classical fill on every hole; `--fill network`); whole-frame tiling (`polyphase`, the paper's) on a shorter
clip, as it is far slower.
Then flicker: a static 640 x 360 shot with heavy grain (sigma 8 of 255) with a fixed hole (a 64 x 64
square and a scratch), inpainted with `--temporal` 0 and 0.5; the mean absolute frame-to-frame
change inside the hole.
"""

from __future__ import annotations

import argparse
import itertools
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
from pipeline import photo  # benchmarks/pipeline.py: photo-like generated content

from gincli.core.imagemath import from_unit_float
from gincli.core.inpainter import Inpainter
from gincli.io.images import read_image, write_image
from gincli.io.video import Frame, VideoInfo
from gincli.io.video_encode import DEFAULT_PRESET, encode_chunk
from gincli.jobs.temporal import hole_flicker
from gincli.jobs.video import VideoOptions, run_video
from gincli.masks.families import thin_line_mask
from gincli.testing.film_damage import damage_clip, pan_clip

WIDTH, HEIGHT, FPS = 1280, 720, 24
# `gin` in a child process that writes its own peak RSS (KB) to the file named by its last argument
REPORTING_GIN = """
import atexit, resource, sys
rss_file = sys.argv.pop()
atexit.register(lambda: open(rss_file, "w").write(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)))
from gincli.cli.main import main
main()
"""


def make_clip(folder: Path, frames: int, pan_frames: int, damaged: bool = False) -> tuple[Path, Path]:
    """(clip.mp4, masks folder) for the first ``frames`` frames of one footage ``pan_frames``
    long: every clip length is a cut of the same shot and masks, so their peak memory differs
    by length alone (clips drawn from different seeds once differed by 5 % in content alone).
    ``damaged``: scratches and dust in the frames, and no masks folder (the run detects them)."""
    rng = np.random.default_rng(0)  # the pan, its grain and the damage, drawn frame by frame
    mask_rng = np.random.default_rng(1)
    still = photo(rng, 900, 1600)
    info = VideoInfo(WIDTH, HEIGHT, Fraction(FPS), Fraction(1, FPS), frames, has_audio=False)
    clip = folder / f"clip_{frames}{'_damaged' if damaged else ''}.mp4"
    pictures = itertools.islice(pan_clip(still, pan_frames, WIDTH, HEIGHT, rng), frames)
    if damaged:
        pictures = (damaged.image for damaged in damage_clip(pictures, rng))
    encode_chunk(clip, (Frame(i, f, i, i + 1) for i, f in enumerate(pictures)), info, "h264", 18, 0)
    if damaged:
        return clip, folder / "no_masks"  # none: the run detects them
    masks = folder / f"masks_{frames}"
    for i in range(frames):
        write_image(masks / f"{i + 1:06d}.png", from_unit_float(thin_line_mask(HEIGHT, WIDTH, mask_rng), np.uint8))
    return clip, masks


def run(
    clip: Path,
    masks: Path,
    strategy: str,
    fill: str,
    model: str | None,
    out: Path,
    provider: str,
    preset: str,
    workers: int,
) -> tuple[float, float]:
    """(seconds, peak RSS in MB) of one `gin video` process."""
    rss_file = out.with_suffix(".rss")
    source = ["--masks", str(masks)] if masks.exists() else ["--auto-mask", "scratches"]
    command = [sys.executable, "-c", REPORTING_GIN, "video", str(clip), *source, "-o", str(out),
               "--strategy", strategy, "--fill", fill, "--provider", provider, "--preset", preset,
               "--workers", str(workers), "--overwrite"]  # fmt: skip
    command += ["--model", model] if model else []
    start = time.perf_counter()
    subprocess.run([*command, str(rss_file)], check=True, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start, int(rss_file.read_text()) / 1024


def flicker(folder: Path, model: str | None, frames: int = 48) -> dict[float, float]:
    """Hole flicker (0-1 scale) of a static grainy shot, per --temporal strength."""
    rng = np.random.default_rng(1)
    still = photo(rng, 360, 640).astype(np.float32)
    shots = folder / "static"
    for i in range(frames):
        write_image(shots / f"{i + 1:06d}.png", np.clip(still + rng.normal(0, 8, still.shape), 0, 255).astype(np.uint8))
    mask = np.zeros((360, 640), np.uint8)
    mask[150:214, 300:364] = 255
    mask[:, 500:503] = 255
    write_image(folder / "static_mask.png", mask)
    inpainter = Inpainter(model, provider="cpu", strategy="crop")
    result = {}
    for strength in (0.0, 0.5):
        out = folder / f"static_out_{int(strength * 10)}"
        run_video(shots, inpainter, VideoOptions(output=out, mask=folder / "static_mask.png", temporal=strength),
                      progress=False)  # fmt: skip
        outputs = [read_image(p) for p in sorted(out.iterdir())]
        result[strength] = hole_flicker(outputs, [mask > 0] * len(outputs))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="ONNX model [default: the bundled one]")
    parser.add_argument("--seconds", default="10,60", help="clip lengths for crop, comma-separated")
    parser.add_argument("--whole-seconds", type=float, default=2.0, help="clip length for whole-frame tiling (0: none)")
    parser.add_argument("--fills", default="classical,network", help="fill routes for the crop runs")
    parser.add_argument("--no-flicker", action="store_true", help="skip the --temporal flicker measurement")
    parser.add_argument("--providers", default="auto", help="engines for the network route, comma-separated")
    parser.add_argument("--detect", action="store_true", help="also on damaged clips with --auto-mask scratches")
    parser.add_argument("--presets", default=DEFAULT_PRESET,
                        help="x264 presets to run each plan with, comma-separated [default: gin video's]")  # fmt: skip
    parser.add_argument("--workers", default=str(VideoOptions.workers),
                        help="frames in flight (gin video --workers) to run each plan with, comma-separated "
                             "[default: gin video's]")  # fmt: skip
    parser.add_argument("--repeats", type=int, default=1,
                        help="runs of each plan: the table shows the median speed and peak RSS, and the peaks' range "
                             "(a run's peak varies by a few %% with thread timing)")  # fmt: skip
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        providers = args.providers.split(",")
        plans = [("crop", fill, float(s), p) for fill in args.fills.split(",") for s in args.seconds.split(",")
                 for p in (providers if fill != "classical" else ["auto"])]  # fmt: skip
        plans += [("polyphase", "network", args.whole_seconds, p) for p in providers] if args.whole_seconds else []
        plans += [(*plan, True) for plan in plans if plan[0] == "crop"] if args.detect else []
        pan_frames = max(round(plan[2] * FPS) for plan in plans)
        variants = itertools.product(plans, args.presets.split(","), [int(w) for w in args.workers.split(",")])
        for (strategy, fill, seconds, provider, *detect), preset, workers in variants:
            frames = round(seconds * FPS)
            clip, masks = make_clip(folder, frames, pan_frames, damaged=bool(detect))
            runs = [run(clip, masks, strategy, fill, args.model, folder / "out.mp4", provider, preset, workers)
                    for _ in range(args.repeats)]  # fmt: skip
            fps = float(np.median([frames / elapsed for elapsed, _ in runs]))
            peaks = [peak for _, peak in runs]
            peak = float(np.median(peaks))
            fill_name = (fill if fill == "classical" else f"{fill} ({provider})") + (" + detect" if detect else "")
            rows.append((strategy, fill_name, preset, workers, seconds, frames, fps, peak, min(peaks), max(peaks)))
            print(f"{strategy:<10} {fill_name:<20} {preset:<9} {workers:>2} workers {seconds:>5.0f} s  {frames:>5} frames  "
                  f"{fps:>6.2f} frames/s  peak RSS {peak:>6.0f} MB ({min(peaks):.0f}-{max(peaks):.0f})",
                  flush=True)  # fmt: skip
        steadiness = {} if args.no_flicker else flicker(folder, args.model)
    print(
        "\n| strategy | fill | preset | workers | clip | frames | frames/s | peak RSS | range |\n"
        "|---|---|---|---|---|---|---|---|---|"
    )
    for strategy, fill, preset, workers, seconds, frames, fps, peak, low, high in rows:
        print(
            f"| {strategy} | {fill} | {preset} | {workers} | {seconds:.0f} s | {frames} | {fps:.2f} | {peak:.0f} MB "
            f"| {low:.0f}-{high:.0f} MB |"
        )
    if not steadiness:
        return
    print("\n| --temporal | hole flicker (mean abs change per frame, of 255) |\n|---|---|")
    for strength, value in steadiness.items():
        print(f"| {strength} | {255 * value:.2f} |")


if __name__ == "__main__":
    main()
