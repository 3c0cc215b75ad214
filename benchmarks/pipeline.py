"""The batch pipeline against the bare engine, strategies on a 12 MP photo, and tiling cost.

    python benchmarks/pipeline.py --model model.onnx     # an exported model (any width)
    python benchmarks/pipeline.py                        # exports a random width-32 model first (needs torch)

1. images/s for 50 generated photos at 512 x 512 and at 1920 x 1080 with free-form masks
   (mask files), through `run_batch` exactly as `gin inpaint` runs it, against the bare
   engine's throughput on the same number of tiles at the same batch size;
2. seconds and peak RSS for one 4000 x 3000 photo with holes under 1% of its area, per
   strategy, each in its own process;
3. polyphase split + merge time for a 1024 x 1024 image.
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

import cv2
import numpy as np

from gincli.core.engine import Engine
from gincli.core.inpainter import Inpainter
from gincli.core.tiling import tile_polyphase, untile_polyphase
from gincli.io.images import read_image, write_image
from gincli.jobs.batch import BatchOptions, run_batch
from gincli.masks.families import free_form_mask


def photo(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """Photo-like content: smooth colour fields with texture, uint8 RGB."""
    base = cv2.resize(
        rng.random((max(2, h // 64), max(2, w // 64), 3)).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC
    )
    texture = cv2.GaussianBlur(rng.random((h, w, 3)).astype(np.float32), (0, 0), 1.5)
    return (np.clip(0.8 * base + 0.2 * texture, 0, 1) * 255).astype(np.uint8)


def make_folder(root: Path, count: int, h: int, w: int) -> tuple[Path, Path]:
    rng = np.random.default_rng(0)
    images, masks = root / f"img_{w}x{h}", root / f"mask_{w}x{h}"
    for i in range(count):
        write_image(images / f"{i:03d}.jpg", photo(rng, h, w), quality=92)
        # free-form strokes drawn at 512 and scaled, so the holes keep their share of the frame
        m = cv2.resize(free_form_mask(512, 512, rng), (w, h), interpolation=cv2.INTER_NEAREST)
        write_image(masks / f"{i:03d}.png", (m * 255).astype(np.uint8))
    return images, masks


def pipeline_vs_engine(model: Path, root: Path, count: int, h: int, w: int, batch: int, provider: str) -> dict:
    images, masks = make_folder(root, count, h, w)
    tiles = 0
    bare = Engine.run

    def counting(engine: Engine, x: np.ndarray, m: np.ndarray) -> np.ndarray:
        nonlocal tiles
        tiles += len(x)
        return bare(engine, x, m)

    Engine.run = counting  # type: ignore[method-assign]  # before the Inpainter binds it
    try:
        # the network for every hole: this measures how much of the engine's speed the pipeline keeps
        inpainter = Inpainter(model, provider=provider, batch_size=batch, fill="network")
        opts = BatchOptions(output=root / f"out_{w}x{h}", masks=masks, overwrite=True)
        t0 = time.perf_counter()
        summary = run_batch([str(images)], inpainter, opts, progress=False, warn=lambda _: None)
        elapsed = time.perf_counter() - t0
    finally:
        Engine.run = bare  # type: ignore[method-assign]
    run = inpainter.engine.run
    assert summary.done == count, summary.failed
    rng = np.random.default_rng(1)
    x = rng.random((batch, 3, 256, 256), dtype=np.float32)
    m = (rng.random((batch, 1, 256, 256)) < 0.3).astype(np.float32)
    run(x, m)
    t0 = time.perf_counter()
    for _ in range(int(np.ceil(tiles / batch))):
        run(x, m)
    engine_tiles_per_s = int(np.ceil(tiles / batch)) * batch / (time.perf_counter() - t0)
    return {"images_per_s": count / elapsed, "tiles": tiles, "pipeline_tiles_per_s": tiles / elapsed,
            "engine_tiles_per_s": engine_tiles_per_s, "strategies": summary.strategies}  # fmt: skip


def make_large(root: Path) -> tuple[Path, Path, float]:
    """A 4000 x 3000 JPEG with six blotches of 40-90 px (about 0.2% of the area)."""
    rng = np.random.default_rng(2)
    mask = np.zeros((3000, 4000), np.uint8)
    for _ in range(6):
        y, x, r = int(rng.integers(100, 2900)), int(rng.integers(100, 3900)), int(rng.integers(20, 45))
        cv2.circle(mask, (x, y), r, 255, -1)
    write_image(root / "large.jpg", photo(rng, 3000, 4000), quality=92)
    write_image(root / "large_mask.png", mask)
    return root / "large.jpg", root / "large_mask.png", 100 * float((mask > 0).mean())


def one_large(model: str, strategy: str, image_path: str, mask_path: str) -> dict:
    """Child process: decode, inpaint with ``strategy``; its own peak RSS."""
    image, mask = read_image(image_path), read_image(mask_path)
    inpainter = Inpainter(model)
    t0 = time.perf_counter()
    inpainter.inpaint(image, mask, strategy=strategy)
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def tiling_ms(runs: int = 20) -> float:
    image = np.random.default_rng(0).random((1024, 1024, 3)).astype(np.float32)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        untile_polyphase(tile_polyphase(image), (4, 4))
        times.append(time.perf_counter() - t0)
    return 1000 * statistics.median(times)


def export_random_model(root: Path, ngf: int) -> Path:
    import torch

    from export.onnx_export import export_checkpoint
    from train.generator import DeepGINGenerator

    torch.manual_seed(0)
    torch.save(DeepGINGenerator(ngf).state_dict(), root / "g.pth")
    return export_checkpoint(root / "g.pth", root / "model.onnx").path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path)
    parser.add_argument("--ngf", type=int, default=32, help="width of the random model when no --model is given")
    parser.add_argument("--count", type=int, default=50)
    parser.add_argument("--batch-size", type=int, default=1)
    parser.add_argument("--providers", default="cpu,openvino", help="engines to compare, comma-separated")
    parser.add_argument("--parts", default="folders,large,tiling", help="which measurements to run (comma-separated)")
    parser.add_argument(
        "--large", nargs=4, help=argparse.SUPPRESS
    )  # internal: MODEL STRATEGY IMAGE MASK, child process
    args = parser.parse_args()
    if args.large:
        print(json.dumps(one_large(*args.large)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        model = args.model or export_random_model(root, args.ngf)
        print(f"model {model.name}; batch size {args.batch_size}\n")
        print(
            f"{'engine':<9} {'folder':<22} {'images/s':>9} {'tiles':>6} {'pipeline tiles/s':>17} {'engine tiles/s':>15}"
            f" {'ratio':>6}  strategies"
        )
        parts = set(args.parts.split(","))
        for h, w in ((512, 512), (1080, 1920)) if "folders" in parts else ():
            for provider in args.providers.split(","):
                r = pipeline_vs_engine(model, root, args.count, h, w, args.batch_size, provider)
                ratio = r["pipeline_tiles_per_s"] / r["engine_tiles_per_s"]
                print(f"{provider:<9} {args.count} x {w}x{h:<11} {r['images_per_s']:>9.2f} {r['tiles']:>6} "
                      f"{r['pipeline_tiles_per_s']:>17.2f} {r['engine_tiles_per_s']:>15.2f} {ratio:>6.0%}  "
                      f"{r['strategies']}", flush=True)  # fmt: skip
        if "large" in parts:
            image_path, mask_path, share = make_large(root)
            print(f"\n4000 x 3000 JPEG, holes {share:.2f}% of the area")
            print(f"{'strategy':<12} {'seconds':>9} {'peak RSS MB':>12}")
            for strategy in ("crop", "polyphase", "sliding"):
                cmd = [sys.executable, __file__, "--large", str(model), strategy, str(image_path), str(mask_path)]
                r = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.splitlines()[-1])
                print(f"{strategy:<12} {r['seconds']:>9.2f} {r['peak_rss_mb']:>12.0f}", flush=True)
        if "tiling" in parts:
            print(f"\npolyphase split + merge of a 1024 x 1024 image: {tiling_ms():.1f} ms (median of 20)")


if __name__ == "__main__":
    main()
