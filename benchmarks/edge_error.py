"""Where a model's fill is wrong: error by distance from the hole's edge, per stage, against
OpenCV Telea, and the edge-blend diagnostic (Telea's fill within 2 px of the edge, blended to
the network's by 8 px: if that beats the network's own fill, the network does not continue
the surrounding pixels), for the network alone and for the "rim-corrected" fill: the network's
with the harmonic offset that ``--fill auto`` adds to wide holes (``gincli.core.harmonic``;
thin parts are not split off here). After that correction, blending Telea in at the edge
should no longer gain.

    python benchmarks/edge_error.py gincli/models/deepgin_default.onnx data/holdout
    python benchmarks/edge_error.py runs/r4/latest.pth data/holdout --families rect,freeform

MODEL is anything ``gin train --init-from`` takes (a checkpoint or an exported graph): the
generator runs in torch so that its coarse (G1) output can be measured too.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
import torch

from gincli.core.harmonic import continue_rim
from gincli.core.metrics import psnr
from gincli.jobs.evaluate import eval_mask, load_images
from train.checkpoint import load_generator

BANDS = ((0, 2), (2, 4), (4, 8), (8, 16), (16, 10_000))  # distance from the nearest valid pixel, px
EDGE_PX, BLEND_PX = 2, 8


def stage_outputs(generator: torch.nn.Module, image: np.ndarray, mask: np.ndarray) -> dict[str, np.ndarray]:
    x = torch.from_numpy(image.transpose(2, 0, 1)[None].copy())
    m = torch.from_numpy(mask[None, None].astype(np.float32))
    with torch.no_grad():
        out = generator(x, m)
    as_hwc = lambda t: t[0].clamp(0, 1).numpy().transpose(1, 2, 0)  # noqa: E731
    return {"G1 coarse": as_hwc(out.coarse), "network": as_hwc(out.completed)}


def edge_blend(network: np.ndarray, classical: np.ndarray, distance: np.ndarray) -> np.ndarray:
    """Telea's fill within EDGE_PX of the hole's edge, the network's from BLEND_PX, linear between."""
    weight = np.clip((distance - EDGE_PX) / (BLEND_PX - EDGE_PX), 0, 1)[..., None]
    return weight * network + (1 - weight) * classical


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", type=Path)
    parser.add_argument("photos", type=Path)
    parser.add_argument("--families", default="rect,freeform,ca")
    parser.add_argument("--masks-per-image", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    generator, info = load_generator(args.model)
    images = load_images(args.photos, 256, full=False)
    print(f"{args.model} (ngf {info['ngf']}), {len(images)} photos, 256 x 256 centre squares\n")
    print("mean |error| in 0-255 levels by distance from the hole's edge (px):")
    print(
        f"{'family':<9} {'method':<14}" + "".join(f"{f'{lo}-{hi}' if hi < 10_000 else f'{lo}+':>8}" for lo, hi in BANDS)
    )
    blend_rows = []
    for family in args.families.split(","):
        sums: dict[str, np.ndarray] = {}
        counts = np.zeros(len(BANDS))
        gain: dict[str, list[float]] = {"network": [], "rim-corrected": []}
        for index, (_, rgb) in enumerate(images):
            for repeat in range(args.masks_per_image):
                mask = eval_mask(family, index, rgb.shape[:2], args.seed, repeat)
                truth = rgb.astype(np.float32) / 255
                outs = stage_outputs(generator, truth, mask)
                hole = (mask > 0).astype(np.uint8)
                telea = cv2.inpaint(rgb, hole, 5, cv2.INPAINT_TELEA).astype(np.float32) / 255
                outs["Telea"] = telea
                distance = cv2.distanceTransform(hole, cv2.DIST_L2, 3)
                outs["rim-corrected"] = continue_rim(truth, outs["network"], hole)
                for b, (lo, hi) in enumerate(BANDS):
                    band = (distance > lo) & (distance <= hi)
                    counts[b] += band.sum()
                    for name, out in outs.items():
                        sums.setdefault(name, np.zeros(len(BANDS)))[b] += np.abs(out - truth)[band].mean(axis=1).sum()
                inside = hole[..., None] > 0
                for name, values in gain.items():
                    blended = np.where(inside, edge_blend(outs[name], telea, distance), truth)
                    values.append(psnr(blended, truth) - psnr(np.where(inside, outs[name], truth), truth))
        for name, total in sums.items():
            print(f"{family:<9} {name:<14}" + "".join(f"{255 * v:>8.2f}" for v in total / np.maximum(counts, 1)))
        blend_rows += [(family, name, float(np.mean(values)), len(values)) for name, values in gain.items()]
    print(f"\nedge-blend diagnostic (Telea within {EDGE_PX} px, blended to the fill by {BLEND_PX} px):")
    print(f"{'family':<9} {'fill':<14} {'PSNR gain dB':>13} {'n':>4}")
    for family, name, value, n in blend_rows:
        print(f"{family:<9} {name:<14} {value:>+13.2f} {n:>4}")


if __name__ == "__main__":
    main()
