"""Where the classical fill stops being as good as the network: PSNR inside the holes and
time per frame of OpenCV Telea and of the network, for scratch-like holes of growing width,
with each hole's inscribed radius (what ``--thin-radius`` compares against).

    python benchmarks/fill_threshold.py data/holdout
    python benchmarks/fill_threshold.py data/holdout --model runs/x.onnx --widths 1 2 4 8 16
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
import numpy as np

from gincli.core.inpainter import Inpainter
from gincli.core.metrics import psnr
from gincli.jobs.evaluate import load_images


def scratch_mask(height: int, width: int, line_width: int, rng: np.random.Generator, lines: int = 4) -> np.ndarray:
    """A few near-vertical lines of ``line_width`` px across the frame."""
    mask = np.zeros((height, width), np.uint8)
    for _ in range(lines):
        x0 = int(rng.integers(line_width, width - line_width))
        x1 = int(np.clip(x0 + rng.integers(-12, 13), line_width, width - line_width))
        cv2.line(mask, (x0, 0), (x1, height - 1), 255, thickness=line_width)
    return mask


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("photos", type=Path)
    parser.add_argument("--model", type=Path, help="ONNX model [default: the bundled one]")
    parser.add_argument("--widths", type=int, nargs="+", default=[1, 2, 3, 4, 6, 8, 12, 16])
    parser.add_argument("--images", type=int, default=12)
    args = parser.parse_args()
    photos = load_images(args.photos, 256, full=False)[: args.images]
    network = Inpainter(args.model, fill="network")
    classical = Inpainter(args.model, fill="classical")
    print(f"{len(photos)} held-out photos, 256 x 256 centre squares, 4 lines each; PSNR inside the holes")
    print(f"{'width px':>8} {'radius px':>9} {'Telea dB':>9} {'network dB':>10} {'Telea ms':>9} {'network ms':>10}")
    for line_width in args.widths:
        rng = np.random.default_rng(line_width)
        scores: dict[str, list[float]] = {"classical": [], "network": []}
        times: dict[str, list[float]] = {"classical": [], "network": []}
        radii = []
        for _, image in photos:
            mask = scratch_mask(*image.shape[:2], line_width, rng)
            hole = mask > 0
            radii.append(float(cv2.distanceTransform(hole.astype(np.uint8), cv2.DIST_L2, 3).max()))
            for name, inpainter in (("classical", classical), ("network", network)):
                t0 = time.perf_counter()
                out = inpainter.inpaint(image, mask)
                times[name].append(time.perf_counter() - t0)
                scores[name].append(psnr(out[hole].astype(np.float32) / 255, image[hole].astype(np.float32) / 255))
        print(f"{line_width:>8} {np.median(radii):>9.1f} {np.mean(scores['classical']):>9.2f} "
              f"{np.mean(scores['network']):>10.2f} {1000 * np.median(times['classical']):>9.1f} "
              f"{1000 * np.median(times['network']):>10.1f}", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
