"""Per-tile latency and throughput: ONNX Runtime CPU (fp32, optionally int8), OpenVINO
(f32, bf16, int8) and torch eager / channels_last, same weights, same run, with the
machine's matmul peak. The last column compares each backend with ONNX Runtime fp32.

    python benchmarks/engine.py                                   # widths 64 32 16
    python benchmarks/engine.py --widths 64 --int8-calibration data/holdout
    python benchmarks/engine.py --checkpoint gincli/models/deepgin_default.onnx --batches 1

GFLOP per tile counts every convolution and the attention matmuls (2 FLOP per MAC).
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from export.onnx_export import InpaintingGraph, export_checkpoint
from gincli.core.engine import Engine
from gincli.core.hardware import cpu_has_bf16
from train.checkpoint import load_generator
from train.generator import DeepGINGenerator, NonLocalSelfAttention

TILE = 256


_NUMPY_PEAK = """
import sys, time, numpy as np
n, best = 2048, 0.0
a = np.random.rand(n, n).astype(np.float32)
a @ a
for _ in range(7):
    t0 = time.perf_counter(); a @ a; best = max(best, 2 * n**3 / (time.perf_counter() - t0) / 1e9)
print(best)
"""


def matmul_peak_gflops(threads: int, size: int = 2048, runs: int = 7) -> dict[str, float]:
    """Best fp32 GEMM rate of torch.mm (MKL) and of numpy (OpenBLAS). numpy runs in a child
    process without OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE, which this machine's environment
    sets and which pin OpenBLAS to a slower kernel; the larger of the two is the peak."""
    torch.set_num_threads(threads)
    a, b = torch.randn(size, size), torch.randn(size, size)
    torch.mm(a, b)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        torch.mm(a, b)
        times.append(time.perf_counter() - t0)
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    env["OPENBLAS_NUM_THREADS"] = str(threads)
    child = subprocess.run([sys.executable, "-c", _NUMPY_PEAK], env=env, capture_output=True, text=True, check=True)
    return {"torch.mm": 2 * size**3 / min(times) / 1e9, "numpy": float(child.stdout.strip())}


def gflop_per_tile(generator: DeepGINGenerator) -> float:
    total = 0.0

    def conv_hook(module: torch.nn.Conv2d, inputs: tuple, output: torch.Tensor) -> None:
        nonlocal total
        k = module.kernel_size[0] * module.kernel_size[1] * module.in_channels // module.groups
        total += 2.0 * k * output[0].numel()

    def attention_hook(module: NonLocalSelfAttention, inputs: tuple, output: torch.Tensor) -> None:
        nonlocal total
        _, c, h, w = inputs[0].shape
        total += 2 * 2.0 * (h * w) ** 2 * (c // 2)  # theta^T phi and f g

    handles = [m.register_forward_hook(conv_hook) for m in generator.modules() if isinstance(m, torch.nn.Conv2d)]
    handles += [
        m.register_forward_hook(attention_hook) for m in generator.modules() if isinstance(m, NonLocalSelfAttention)
    ]
    with torch.inference_mode():
        generator(torch.rand(1, 3, TILE, TILE), torch.zeros(1, 1, TILE, TILE))
    for h in handles:
        h.remove()
    return total / 1e9


def seconds_per_tile(
    engines: dict[str, Engine], graph: InpaintingGraph, graph_cl: InpaintingGraph, batch: int, runs: int
) -> dict[str, float]:
    """Median seconds per tile of every backend on the same random batch."""
    rng = np.random.default_rng(0)
    images = rng.random((batch, 3, TILE, TILE), dtype=np.float32)
    masks = (rng.random((batch, 1, TILE, TILE)) < 0.3).astype(np.float32)
    ti, tm = torch.from_numpy(images), torch.from_numpy(masks)
    cl = torch.channels_last
    ti_cl, tm_cl = ti.contiguous(memory_format=cl), tm.contiguous(memory_format=cl)
    runners: dict[str, Callable[[], object]] = {
        name: functools.partial(engine.run, images, masks) for name, engine in engines.items()
    }
    runners["torch eager"] = functools.partial(graph, ti, tm)
    runners["torch channels_last"] = functools.partial(graph_cl, ti_cl, tm_cl)
    with torch.inference_mode():
        for run in runners.values():  # warm-up
            run()
        times: dict[str, list[float]] = {name: [] for name in runners}
        for _ in range(runs):  # interleaved rounds: drift in machine load hits every backend alike
            for name, run in runners.items():
                t0 = time.perf_counter()
                run()
                times[name].append(time.perf_counter() - t0)
    return {name: statistics.median(t) / batch for name, t in times.items()}


def startup_seconds(onnx_path: Path, threads: int) -> dict[str, float]:
    """Seconds to open the model and run its first tile (OpenVINO compiles on the first
    batch): ONNX Runtime, OpenVINO with an empty model cache, and again with the cache the
    first OpenVINO run filled (each in a fresh process)."""
    code = (
        "import sys, time; import numpy as np; from gincli.core.engine import Engine; t0 = time.perf_counter(); "
        f"e = Engine(sys.argv[1], provider=sys.argv[2], threads={threads}, report=lambda s: None); "
        "e.run(np.zeros((1, 3, 256, 256), np.float32), np.zeros((1, 1, 256, 256), np.float32)); "
        "print(time.perf_counter() - t0)"
    )
    result = {}
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "XDG_CACHE_HOME": cache}
        for label, provider in (("ort-cpu", "cpu"), ("openvino, cold cache", "openvino"),
                                ("openvino, cached", "openvino")):  # fmt: skip
            out = subprocess.run([sys.executable, "-c", code, str(onnx_path), provider], env=env, check=True,
                                 capture_output=True, text=True).stdout  # fmt: skip
            result[label] = float(out.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--widths", type=int, nargs="+", default=[64, 32, 16])
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 4, 8])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--checkpoint", type=Path, help="use these weights (any width) instead of random ones")
    parser.add_argument("--int8-calibration", type=Path, help="also quantise to int8, calibrated on this folder")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)  # the ORT sessions flush denormals too
    peaks = matmul_peak_gflops(args.threads)
    peak = max(peaks.values())
    rates = ", ".join(f"{k} {v:.0f}" for k, v in peaks.items())
    print(f"fp32 matmul peak, {args.threads} threads, 2048^3, best of 7: {rates} GFLOP/s -> peak {peak:.0f}\n")
    bf16_label = "openvino bf16" if cpu_has_bf16() else "openvino bf16 (emul.)"
    print(f"CPU computes bf16 natively: {'yes' if cpu_has_bf16() else 'no (OpenVINO runs bf16 requests in f32)'}")
    print(
        f"{'ngf':>4} {'backend':<22} {'batch':>5} {'ms/tile':>8} {'tiles/s':>8} {'GFLOP/s':>8} {'% peak':>7} {'vs ORT':>7}"
    )
    widths = [None] if args.checkpoint else args.widths
    for ngf in widths:
        with tempfile.TemporaryDirectory() as tmp:
            ckpt = args.checkpoint or Path(tmp) / "g.pth"
            if not args.checkpoint:
                torch.manual_seed(0)
                torch.save(DeepGINGenerator(ngf).state_dict(), ckpt)
            onnx_path = Path(tmp) / "fp32.onnx"
            ngf = export_checkpoint(ckpt, onnx_path).ngf
            generator, _ = load_generator(ckpt)
            gflop = gflop_per_tile(generator)
            graph = InpaintingGraph(generator).eval()
            graph_cl = InpaintingGraph(DeepGINGenerator(ngf).eval()).eval()
            graph_cl.generator.load_state_dict(generator.state_dict())
            graph_cl = graph_cl.to(memory_format=torch.channels_last)
            quiet = {"threads": args.threads, "report": lambda s: None}
            engines = {
                "ort-cpu fp32": Engine(onnx_path, provider="cpu", **quiet),
                "openvino f32": Engine(onnx_path, provider="openvino", precision="fp32", **quiet),
                bf16_label: Engine(onnx_path, provider="openvino", precision="bf16", **quiet),
            }
            if args.int8_calibration:
                from export.quantize import quantize_model

                int8_path = quantize_model(onnx_path, Path(tmp) / "int8.onnx", args.int8_calibration)
                engines["ort-cpu int8"] = Engine(int8_path, provider="cpu", **quiet)
                engines["openvino int8"] = Engine(int8_path, provider="openvino", precision="fp32", **quiet)
            opened = ", ".join(f"{k} {v:.2f} s" for k, v in startup_seconds(onnx_path, args.threads).items())
            print(f"{ngf:>4} model open (fresh process): {opened}")
            for batch in args.batches:
                timings = seconds_per_tile(engines, graph, graph_cl, batch, args.runs)
                for name, per_tile in timings.items():
                    rate = gflop / per_tile
                    print(f"{ngf:>4} {name:<22} {batch:>5} {1000 * per_tile:>8.1f} {1 / per_tile:>8.2f} "
                          f"{rate:>8.0f} {100 * rate / peak:>6.0f}% {timings['ort-cpu fp32'] / per_tile:>6.2f}x",
                          flush=True)  # fmt: skip
        print(f"     ({gflop:.1f} GFLOP per {TILE} x {TILE} tile; fp32 floor at peak {1000 * gflop / peak:.0f} ms)\n")


if __name__ == "__main__":
    main()
