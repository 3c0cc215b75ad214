"""Which Telea radius suits which hole: PSNR of the completed image and time per mask of OpenCV
Telea at radii 1-5 and of gin's classical fill (``gincli.core.classical.classical_fill``:
narrow holes at ``NARROW_TELEA_RADIUS``, wide ones at ``TELEA_RADIUS``), on the held-out photos
(256 x 256 centre squares) with ``gin eval``'s seeded masks, then on scratches of growing width
(what ``NARROW_DEPTH`` is chosen by).

    python benchmarks/telea_radius.py data/holdout
    python benchmarks/telea_radius.py data/holdout --families lines --widths 2 4 6 8
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
from fill_threshold import scratch_mask  # benchmarks/fill_threshold.py

from gincli.core.classical import classical_fill
from gincli.core.metrics import psnr
from gincli.jobs.evaluate import eval_mask, load_images

RADII = (1, 2, 3, 4, 5)


def telea(radius: int) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    return lambda image, hole: cv2.inpaint(image, hole.astype(np.uint8), radius, cv2.INPAINT_TELEA)


def gin_classical(image: np.ndarray, hole: np.ndarray) -> np.ndarray:
    filled = image.copy()
    filled[hole] = np.round(classical_fill(image, hole, hole) * 255).astype(np.uint8)
    return filled


def measure(fill: Callable, cases: list[tuple[np.ndarray, np.ndarray]]) -> tuple[float, float]:
    """(mean PSNR in dB, median ms per mask) of ``fill`` over (image, hole) cases."""
    scores, seconds = [], []
    for image, hole in cases:
        start = time.process_time()
        filled = fill(image, hole)
        seconds.append(time.process_time() - start)
        scores.append(psnr(filled.astype(np.float32) / 255, image.astype(np.float32) / 255))
    return float(np.mean(scores)), 1000 * float(np.median(seconds))


def table(rows: dict[str, list[tuple[np.ndarray, np.ndarray]]]) -> None:
    methods = {**{f"radius {r}": telea(r) for r in RADII}, "gin classical": gin_classical}
    print("| holes | " + " | ".join(methods) + " |")
    print("|---" * (len(methods) + 1) + "|")
    for name, cases in rows.items():
        cells = [measure(fill, cases) for fill in methods.values()]
        print(f"| {name} | " + " | ".join(f"{db:.2f} dB, {ms:.1f} ms" for db, ms in cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("photos", type=Path)
    parser.add_argument("--families", nargs="+", default=["lines", "freeform", "rect", "ca"])
    parser.add_argument("--masks-per-image", type=int, default=3)
    parser.add_argument("--widths", type=int, nargs="+", default=[1, 2, 3, 4, 5, 6, 7, 8, 10, 12])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    cv2.setNumThreads(1)
    images = [image for _, image in load_images(args.photos, 256, full=False)]
    print(f"{len(images)} photos x {args.masks_per_image} masks per family; one thread\n")
    repeats = range(args.masks_per_image)
    table({
        family: [(image, eval_mask(family, index, image.shape[:2], args.seed, r) > 0)
                 for index, image in enumerate(images) for r in repeats]
        for family in args.families
    })  # fmt: skip
    print()
    rng = np.random.default_rng(args.seed)
    table({
        f"scratches {width} px": [(image, scratch_mask(*image.shape[:2], width, rng) > 0) for image in images]
        for width in args.widths
    })  # fmt: skip


if __name__ == "__main__":
    main()
