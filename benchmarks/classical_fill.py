"""Which classical fill suits which hole: OpenCV's Telea and Navier-Stokes at several radii, and
gin's classical fill (``gincli.core.classical.classical_fill``: ``NARROW_FILL`` for narrow
holes, ``WIDE_FILL`` for wide ones; ``gin (Telea narrow)`` is the same with the previous narrow
fill, Telea at radius 2), on the held-out photos (256 x 256 centre squares) with ``gin eval``'s
seeded masks, then on scratches of growing width (what ``NARROW_DEPTH`` is chosen by). Per
method: PSNR and SSIM of the completed image, ST-LPIPS with ``--perceptual`` (needs the train
extra), and the median time per mask on one thread.

    python benchmarks/classical_fill.py data/holdout --perceptual
    python benchmarks/classical_fill.py data/holdout --families lines --widths 2 4 6 8
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
from fill_threshold import scratch_mask  # benchmarks/fill_threshold.py

from gincli.core.classical import CLASSICAL_FILLS, TELEA_FILLS, Diffusion, classical_fill
from gincli.core.metrics import psnr, ssim
from gincli.jobs.evaluate import BASELINES, eval_mask, load_images, opencv_baseline

Fill = Callable[[np.ndarray, np.ndarray], np.ndarray]  # uint8 image, bool hole -> uint8 completed image
Cases = list[tuple[np.ndarray, np.ndarray]]


def gin_classical(fills: tuple[Diffusion, Diffusion]) -> Fill:
    def fill(image: np.ndarray, hole: np.ndarray) -> np.ndarray:
        filled = image.copy()
        filled[hole] = np.round(classical_fill(image, hole, hole, fills=fills) * 255).astype(np.uint8)
        return filled

    return fill


def methods(specs: list[str]) -> dict[str, Fill]:
    """``telea:2``, ``ns:1`` ... and ``gin`` / ``gin-telea`` -> named fills."""
    chosen: dict[str, Fill] = {}
    for spec in specs:
        if spec == "gin":
            chosen["gin"] = gin_classical(CLASSICAL_FILLS)
        elif spec == "gin-telea":
            chosen["gin (Telea narrow)"] = gin_classical(TELEA_FILLS)
        else:
            algorithm, radius = spec.split(":")
            chosen[f"{algorithm} r{radius}"] = opencv_baseline(BASELINES[algorithm], int(radius))
    return chosen


def measure(fills: dict[str, Fill], cases: Cases, perceptual: Callable | None) -> dict[str, list[float]]:
    """Per method: [PSNR dB, SSIM, ST-LPIPS or nan, median ms per mask] over (image, hole) cases."""
    rows: dict[str, list[tuple[float, ...]]] = {name: [] for name in fills}
    seconds: dict[str, list[float]] = {name: [] for name in fills}
    for image, hole in cases:
        truth, completed = image.astype(np.float32) / 255, []
        for name, fill in fills.items():
            start = time.process_time()
            completed.append(fill(image, hole).astype(np.float32) / 255)
            seconds[name].append(time.process_time() - start)
        distances = perceptual(completed, truth) if perceptual else [float("nan")] * len(fills)
        for name, got, distance in zip(fills, completed, distances, strict=True):
            rows[name].append((psnr(got, truth), ssim(got, truth), distance))
    return {name: [*np.mean(rows[name], axis=0).tolist(), 1000 * float(np.median(seconds[name]))] for name in fills}


def table(rows: dict[str, Cases], fills: dict[str, Fill], perceptual: Callable | None) -> None:
    print("| holes | method | PSNR dB | SSIM | ST-LPIPS | ms per mask |")
    print("|---|---|---|---|---|---|")
    for name, cases in rows.items():
        for method, (db, similarity, distance, ms) in measure(fills, cases, perceptual).items():
            lpips = f"{distance:.4f}" if perceptual else "-"
            print(f"| {name} | {method} | {db:.2f} | {similarity:.4f} | {lpips} | {ms:.1f} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("photos", type=Path)
    parser.add_argument("--families", nargs="+", default=["lines", "freeform", "rect", "ca"])
    parser.add_argument("--masks-per-image", type=int, default=3)
    parser.add_argument("--widths", type=int, nargs="*", default=[1, 2, 3, 4, 6, 8, 10, 12])
    parser.add_argument("--methods", nargs="+", default=["telea:2", "telea:5", "ns:1", "ns:2", "ns:5", "gin", "gin-telea"],
                        help="telea:R and ns:R (OpenCV at radius R), gin and gin-telea")  # fmt: skip
    parser.add_argument("--perceptual", action="store_true", help="ST-LPIPS too (needs the train extra)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    cv2.setNumThreads(1)
    perceptual = None
    if args.perceptual:
        from train.perceptual import numpy_distances

        perceptual = numpy_distances()
    fills = methods(args.methods)
    images = [image for _, image in load_images(args.photos, 256, full=False)]
    print(f"{len(images)} photos x {args.masks_per_image} masks per family; one thread\n")
    repeats = range(args.masks_per_image)
    table({
        family: [(image, eval_mask(family, index, image.shape[:2], args.seed, r) > 0)
                 for index, image in enumerate(images) for r in repeats]
        for family in args.families
    }, fills, perceptual)  # fmt: skip
    if args.widths:
        print()
        rng = np.random.default_rng(args.seed)
        table({
            f"scratches {width} px": [(image, scratch_mask(*image.shape[:2], width, rng) > 0) for image in images]
            for width in args.widths
        }, fills, perceptual)  # fmt: skip


if __name__ == "__main__":
    main()
