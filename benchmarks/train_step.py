"""Seconds per training step and peak RSS per width, crop size and precision (fp32, bf16
autocast), and generator forward latency; optionally the loss curves of a short fp32 run
and a short bf16 run from the same seed, side by side.

Each configuration runs in its own process so its peak RSS is its own. A step is
one GAN-stage step (D update + G update, every loss but the perceptual ones) on 1 image
x 3 masks, the authors' reference setting. bf16 is forced here even where the CPU only
emulates it (then it is many times slower: `gin train --precision auto` would not use it).

    python benchmarks/train_step.py                 # widths 64 32 16, crops 128 256, fp32 and bf16
    python benchmarks/train_step.py --widths 32 --crops 256 --precisions fp32 --steps 3
    python benchmarks/train_step.py --widths --curves 20   # only the two loss curves
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


def measure(ngf: int, crop: int, steps: int, forward_runs: int, precision: str = "fp32") -> dict:
    import cv2
    import numpy as np
    import torch

    from train.config import TrainConfig
    from train.trainer import Trainer

    with tempfile.TemporaryDirectory() as tmp:
        rng = np.random.default_rng(0)
        cv2.imwrite(f"{tmp}/a.png", (rng.random((crop, crop, 3)) * 255).astype(np.uint8))
        config = TrainConfig(data=tmp, out=f"{tmp}/run", ngf=ngf, load_size=crop, crop_size=crop, batch_size=1,
                             warmup_steps=0, main_steps=10**6, num_workers=0, precision=precision,
                             perceptual_net="none")  # fmt: skip
        trainer = Trainer(config, progress=False)
        batch = next(trainer._batches(0))
        trainer.train_step(*batch)  # warm-up: allocator, kernels
        times = []
        for _ in range(steps):
            t0 = time.perf_counter()
            trainer.train_step(*batch)
            times.append(time.perf_counter() - t0)
        generator = trainer.generator.eval()
        x, m = torch.rand(1, 3, crop, crop), (torch.rand(1, 1, crop, crop) > 0.7).float()
        fwd = []
        with torch.inference_mode(), trainer._autocast():
            generator(x, m)
            for _ in range(forward_runs):
                t0 = time.perf_counter()
                generator(x, m)
                fwd.append(time.perf_counter() - t0)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"ngf": ngf, "crop": crop, "precision": precision, "step_s": statistics.median(times),
            "forward_ms": 1000 * statistics.median(fwd),
            "peak_rss_mb": peak_mb, "threads": torch.get_num_threads()}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--widths", type=int, nargs="*", default=[64, 32, 16])
    parser.add_argument("--precisions", nargs="+", default=["fp32", "bf16"], choices=["fp32", "bf16"])
    parser.add_argument("--curves", type=int, default=0, help="also run this many steps in fp32 and bf16, same seed")
    parser.add_argument("--crops", type=int, nargs="+", default=[128, 256])
    parser.add_argument("--steps", type=int, default=5, help="timed steps per configuration (median reported)")
    parser.add_argument("--forward-runs", type=int, default=11)
    parser.add_argument("--one", nargs=3, help=argparse.SUPPRESS)  # internal: ngf crop precision -> JSON
    args = parser.parse_args()
    if args.one:
        ngf, crop, precision = int(args.one[0]), int(args.one[1]), args.one[2]
        print(json.dumps(measure(ngf, crop, args.steps, args.forward_runs, precision)))
        return
    from gincli.core.hardware import cpu_has_bf16

    root = Path(__file__).resolve().parent.parent
    print(f"CPU computes bf16 natively: {'yes' if cpu_has_bf16() else 'no (bf16 below is emulated)'}")
    print(f"{'ngf':>4} {'crop':>5} {'precision':>9} {'s/step (3 samples)':>19} {'G forward ms (b1)':>18} "
          f"{'peak RSS MB':>12}")  # fmt: skip
    for ngf in args.widths:
        for crop in args.crops:
            for precision in args.precisions:
                cmd = [sys.executable, __file__, "--one", str(ngf), str(crop), precision, "--steps", str(args.steps),
                       "--forward-runs", str(args.forward_runs)]  # fmt: skip
                out = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=root).stdout
                r = json.loads(out.splitlines()[-1])
                print(f"{ngf:>4} {crop:>5} {precision:>9} {r['step_s']:>19.3f} {r['forward_ms']:>18.1f} "
                      f"{r['peak_rss_mb']:>12.0f}", flush=True)  # fmt: skip
    if args.curves:
        loss_curves(args.curves)


def loss_curves(steps: int, ngf: int = 16, crop: int = 64) -> None:
    """Generator loss per step of two runs that differ only in precision (warm-up then GAN stage)."""
    import cv2
    import numpy as np

    from train.config import TrainConfig
    from train.trainer import Trainer

    curves = {}
    with tempfile.TemporaryDirectory() as tmp:
        rng = np.random.default_rng(0)
        for i in range(4):
            cv2.imwrite(f"{tmp}/{i}.png", cv2.GaussianBlur((rng.random((96, 96, 3)) * 255).astype(np.uint8), (9, 9), 3))
        for precision in ("fp32", "bf16"):
            config = TrainConfig(data=tmp, out=f"{tmp}/{precision}", ngf=ngf, load_size=crop + 8, crop_size=crop,
                                 batch_size=2, warmup_steps=steps // 2, main_steps=steps - steps // 2, num_workers=0,
                                 log_every=1, sample_every=10**6, checkpoint_every=10**6, precision=precision,
                                 perceptual_net="none")  # fmt: skip
            Trainer(config, progress=False).train()
            lines = Path(f"{tmp}/{precision}/metrics.jsonl").read_text().splitlines()
            curves[precision] = [json.loads(line)["g_total"] for line in lines]
    print(f"\nloss curves, ngf {ngf}, {crop} px crops, batch 2 x 3 masks, same seed (g_total per step):")
    print(f"{'step':>4} {'fp32':>9} {'bf16':>9} {'rel diff':>9}")
    for step, (a, b) in enumerate(zip(curves["fp32"], curves["bf16"], strict=True), start=1):
        print(f"{step:>4} {a:>9.4f} {b:>9.4f} {abs(b - a) / abs(a):>8.1%}")


if __name__ == "__main__":
    main()
