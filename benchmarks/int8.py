"""int8 against fp32 with trained weights: speed, and PSNR loss on held-out photos.

    python benchmarks/int8.py runs/x/latest.pth --calibration data/train --holdout data/holdout

The checkpoint is exported to fp32 and quantised (calibrated on --calibration); both
graphs then inpaint centre crops of the held-out photos under seeded masks of every
family. Reported: ms per tile for each, PSNR of each completed image against the
ground truth, and PSNR of int8 against fp32 (how far quantisation moves the result).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from export.onnx_export import export_checkpoint
from export.quantize import calibration_batches, quantize_model
from gincli.core.engine import Engine
from gincli.core.metrics import psnr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("--calibration", type=Path, required=True)
    parser.add_argument("--holdout", type=Path, required=True)
    parser.add_argument("--samples", type=int, default=21, help="held-out samples (photos x masks)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = export_checkpoint(args.checkpoint, Path(tmp) / "fp32.onnx").path
        int8 = quantize_model(fp32, Path(tmp) / "int8.onnx", args.calibration)
        engines = {
            name: Engine(p, provider="cpu", threads=args.threads, report=lambda s: None)
            for name, p in (("fp32", fp32), ("int8", int8))
        }
        quality: dict[str, list[float]] = {"fp32": [], "int8": [], "int8 vs fp32": []}
        times: dict[str, list[float]] = {"fp32": [], "int8": []}
        for sample in calibration_batches(args.holdout, args.samples, seed=7):
            outputs = {}
            for name, engine in engines.items():
                t0 = time.perf_counter()
                outputs[name] = engine.run(sample["image"], sample["mask"])
                times[name].append(time.perf_counter() - t0)
                quality[name].append(psnr(outputs[name], sample["image"]))
            quality["int8 vs fp32"].append(psnr(outputs["int8"], outputs["fp32"]))
    print(f"{args.checkpoint}: {args.samples} held-out samples from {args.holdout}\n")
    print(f"{'graph':<14} {'ms/tile':>8} {'PSNR dB (mean)':>15}")
    for name in ("fp32", "int8"):
        print(f"{name:<14} {1000 * statistics.median(times[name]):>8.1f} {np.mean(quality[name]):>15.2f}")
    print(f"{'int8 vs fp32':<14} {'':>8} {np.mean(quality['int8 vs fp32']):>15.2f}")
    loss = np.mean(quality["fp32"]) - np.mean(quality["int8"])
    speedup = statistics.median(times["fp32"]) / statistics.median(times["int8"])
    print(f"\nint8: {speedup:.2f}x faster, PSNR loss against ground truth {loss:.2f} dB")


if __name__ == "__main__":
    main()
