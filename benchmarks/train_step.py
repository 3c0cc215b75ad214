"""Seconds per training step and peak RSS per width and crop size, and generator forward latency.

Each configuration runs in its own process so its peak RSS is its own. A step is
one GAN-stage step (D update + G update, every loss but the VGG ones) on 1 image
x 3 masks, the authors' reference setting.

    python benchmarks/train_step.py                 # widths 64 32 16, crops 128 256
    python benchmarks/train_step.py --widths 16 --crops 128 --steps 3
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def measure(ngf: int, crop: int, steps: int, forward_runs: int) -> dict:
    import cv2
    import numpy as np
    import torch

    from train.config import TrainConfig
    from train.trainer import Trainer

    with tempfile.TemporaryDirectory() as tmp:
        rng = np.random.default_rng(0)
        cv2.imwrite(f"{tmp}/a.png", (rng.random((crop, crop, 3)) * 255).astype(np.uint8))
        config = TrainConfig(data=tmp, out=f"{tmp}/run", ngf=ngf, load_size=crop, crop_size=crop, batch_size=1,
                             warmup_steps=0, main_steps=10**6, num_workers=0)  # fmt: skip
        trainer = Trainer(config, progress=False)
        images, masks = next(trainer._batches(0))
        trainer.train_step(images, masks)  # warm-up: allocator, kernels
        times = []
        for _ in range(steps):
            t0 = time.perf_counter()
            trainer.train_step(images, masks)
            times.append(time.perf_counter() - t0)
        generator = trainer.generator.eval()
        x, m = torch.rand(1, 3, crop, crop), (torch.rand(1, 1, crop, crop) > 0.7).float()
        fwd = []
        with torch.inference_mode():
            generator(x, m)
            for _ in range(forward_runs):
                t0 = time.perf_counter()
                generator(x, m)
                fwd.append(time.perf_counter() - t0)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"ngf": ngf, "crop": crop, "step_s": statistics.median(times), "forward_ms": 1000 * statistics.median(fwd),
            "peak_rss_mb": peak_mb, "threads": torch.get_num_threads()}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--widths", type=int, nargs="+", default=[64, 32, 16])
    parser.add_argument("--crops", type=int, nargs="+", default=[128, 256])
    parser.add_argument("--steps", type=int, default=5, help="timed steps per configuration (median reported)")
    parser.add_argument("--forward-runs", type=int, default=11)
    parser.add_argument("--one", nargs=2, type=int, help=argparse.SUPPRESS)  # internal: run one config, print JSON
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one[0], args.one[1], args.steps, args.forward_runs)))
        return
    root = Path(__file__).resolve().parent.parent
    print(f"{'ngf':>4} {'crop':>5} {'s/step (3 samples)':>19} {'G forward ms (b1)':>18} {'peak RSS MB':>12}")
    for ngf in args.widths:
        for crop in args.crops:
            cmd = [sys.executable, __file__, "--one", str(ngf), str(crop), "--steps", str(args.steps),
                   "--forward-runs", str(args.forward_runs)]  # fmt: skip
            r = json.loads(
                subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=root).stdout.splitlines()[-1]
            )
            print(
                f"{ngf:>4} {crop:>5} {r['step_s']:>19.3f} {r['forward_ms']:>18.1f} {r['peak_rss_mb']:>12.0f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
