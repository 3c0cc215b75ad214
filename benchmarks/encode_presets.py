"""x264 / x265 speed presets as `gin video` configures them: CPU time, PSNR and size per clip.

    python benchmarks/encode_presets.py                                   # a generated 720p pan
    python benchmarks/encode_presets.py --clips bikes.mp4 bigbuckbunny.mp4 --presets medium,fast,faster
    python benchmarks/encode_presets.py --codec hevc --frames 36
    python benchmarks/encode_presets.py --presets fast,faster --crf 15,18,21,24   # rate-distortion

Each clip's first frames are encoded in memory by `gincli.io.video_encode.encode_chunk` (the encoder
settings `gin video` uses: no B-frames, a key frame at the start), then decoded and compared
with what went in: ms of CPU per frame (all the encoder's threads: the process's CPU time), PSNR over all frames (RGB) and
the encoded size. `--grain 6` adds Gaussian grain (sigma in 8-bit steps) to each clip first,
film-like content that is the hardest to encode.

With several CRFs (``--crf 15,18,21,24``) each preset's rate-distortion curve is compared with
the first preset's by the Bjontegaard delta rate: how much larger its files are, on average over
the PSNR range both curves cover, for the same PSNR (negative: smaller). A faster preset that
needs 3 % more bits for the same quality costs a 3 % larger file at a slightly lower CRF, not
the quality its same-CRF row shows.
"""

from __future__ import annotations

import argparse
import itertools
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
from pipeline import photo  # benchmarks/pipeline.py: photo-like generated content

from gincli.core.metrics import psnr
from gincli.io.video import Frame, VideoInfo, open_frames
from gincli.io.video_encode import PRESETS, encode_chunk
from gincli.testing.film_damage import pan_clip


def clip_frames(path: Path | None, frames: int, grain: float, rng: np.random.Generator) -> list[np.ndarray]:
    if path is None:
        pictures = list(pan_clip(photo(rng, 900, 1600), frames, 1280, 720, rng))
    else:
        pictures = [f.image for f in itertools.islice(open_frames(path).frames(), frames)]
    if grain:
        pictures = [np.clip(p + rng.normal(0, grain, p.shape), 0, 255).astype(np.uint8) for p in pictures]
    return pictures


def encode(pictures: list[np.ndarray], codec: str, preset: str, crf: int, folder: Path) -> tuple[float, float, int]:
    """(ms of CPU per frame, PSNR dB, bytes)."""
    height, width = pictures[0].shape[:2]
    info = VideoInfo(width, height, Fraction(24), Fraction(1, 24), len(pictures), has_audio=False)
    path = folder / f"{codec}_{preset}.mp4"
    start = time.process_time()
    encode_chunk(path, (Frame(i, p, i, i + 1) for i, p in enumerate(pictures)), info, codec, crf, 0, preset)
    seconds = time.process_time() - start
    decoded = np.stack([f.image for f in open_frames(path).frames()])
    return 1000 * seconds / len(pictures), psnr(decoded, np.stack(pictures), peak=255.0), path.stat().st_size


def bd_rate(reference: list[tuple[float, int]], test: list[tuple[float, int]]) -> float:
    """Bjontegaard delta rate (%) of ``test`` against ``reference``, each a list of (PSNR dB,
    bytes) over several CRFs: log size fitted as a cubic in PSNR (a straight line for fewer than
    four points), the difference integrated over the PSNR range both cover. NaN where a curve's
    PSNR does not rise with its size (film grain in RGB, most of which 4:2:0's chroma loses at
    any CRF): no rate stands for a quality there."""
    for points in (reference, test):
        ordered = sorted(points, key=lambda p: p[1])
        if any(later[0] <= earlier[0] for earlier, later in itertools.pairwise(ordered)):
            return float("nan")
    fits = []
    for points in (reference, test):
        quality, size = np.array([p[0] for p in points]), np.log(np.array([p[1] for p in points], float))
        fits.append(np.polyfit(quality, size, min(3, len(points) - 1)))
    low = max(min(p[0] for p in reference), min(p[0] for p in test))
    high = min(max(p[0] for p in reference), max(p[0] for p in test))
    if high <= low:
        return float("nan")  # the curves share no PSNR range
    areas = [np.diff(np.polyval(np.polyint(fit), [low, high]))[0] for fit in fits]
    return float(100 * (np.exp((areas[1] - areas[0]) / (high - low)) - 1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", type=Path, nargs="*", default=[], help="real video files (default: a 720p pan)")
    parser.add_argument("--frames", type=int, default=72)
    parser.add_argument("--codec", choices=["h264", "hevc"], default="h264")
    parser.add_argument("--presets", default="medium,fast,faster")
    parser.add_argument("--crf", default="18", help="one CRF, or several (15,18,21,24) for BD-rates")
    parser.add_argument("--grain", type=float, default=0.0)
    args = parser.parse_args()
    presets = args.presets.split(",")
    unknown = [p for p in presets if p not in PRESETS]
    if unknown:
        parser.error(f"unknown preset {unknown[0]}: choose from {', '.join(PRESETS)}")
    crfs = [int(c) for c in args.crf.split(",")]
    rng = np.random.default_rng(0)
    print("| clip | size | preset | CRF | ms CPU / frame | PSNR dB | KB |\n|---|---|---|---|---|---|---|")
    curves: dict[tuple[str, str], list[tuple[float, int]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for path in args.clips or [None]:
            pictures = clip_frames(path, args.frames, args.grain, rng)
            name = path.name if path else "generated pan"
            height, width = pictures[0].shape[:2]
            for preset in presets:
                for crf in crfs:
                    ms, decibels, size = encode(pictures, args.codec, preset, crf, Path(tmp))
                    curves.setdefault((name, preset), []).append((decibels, size))
                    print(
                        f"| {name} | {width} x {height} | {preset} | {crf} | {ms:.1f} | {decibels:.2f} "
                        f"| {size / 1024:.0f} |",
                        flush=True,
                    )
    if len(crfs) > 1 and len(presets) > 1:
        print(f"\n| clip | preset | BD-rate against {presets[0]} |\n|---|---|---|")
        for (name, preset), curve in curves.items():
            if preset != presets[0]:
                rate = bd_rate(curves[name, presets[0]], curve)
                print(
                    f"| {name} | {preset} | {'n/a: PSNR does not rise with size' if np.isnan(rate) else f'{rate:+.1f} %'} |"
                )


if __name__ == "__main__":
    main()
