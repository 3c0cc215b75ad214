"""`gin eval`: models against OpenCV's classical inpainting on real photos and seeded masks.

Metrics are computed on the completed image (valid pixels from the original): mean
PSNR, SSIM (Gaussian window 11, sigma 1.5, per channel) and L1 error in percent,
per mask family and method. Pure computation over arrays; the CLI writes the files.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from gincli.core.imagemath import from_unit_float, holes_white, to_unit_float
from gincli.core.lazy import cv2
from gincli.core.metrics import mean_l1_percent, psnr, ssim
from gincli.core.tiling import centre_square
from gincli.io.grid import image_grid
from gincli.io.images import ImageReadError, iter_image_files, read_rgb
from gincli.masks.families import FAMILIES

# uint8 RGB image, float mask (1 = hole) -> uint8 RGB completed image
Method = Callable[[np.ndarray, np.ndarray], np.ndarray]
BASELINES = {"telea": "INPAINT_TELEA", "ns": "INPAINT_NS"}  # OpenCV flag names


def opencv_baseline(flag: str, radius: int = 5) -> Method:
    """OpenCV's inpainting with the named flag (``INPAINT_TELEA``, ``INPAINT_NS``)."""

    def run(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return cv2.inpaint(image, (mask > 0).astype(np.uint8), radius, getattr(cv2, flag))

    return run


class NoImagesError(ValueError):
    """The evaluation folder holds no image that decodes."""


def load_images(
    folder: Path,
    size: int,
    full: bool,
    skip: Callable[[str], None] = lambda reason: warnings.warn(reason, stacklevel=3),
) -> list[tuple[str, np.ndarray]]:
    """(name, uint8 RGB) for every image: a centre square at ``size``, or the whole image. A file
    that cannot be decoded is left out, its reason given to ``skip`` (a warning by default); with none left,
    :class:`NoImagesError`."""
    images = []
    for path in iter_image_files(folder):
        try:
            rgb = read_rgb(path)
        except ImageReadError as exc:
            skip(str(exc))
            continue
        rgb = rgb if full else centre_square(rgb, size)
        images.append((path.name, from_unit_float(rgb, np.uint8)))
    if not images:
        raise NoImagesError(f"{folder}: no image to measure on; give a folder of photos (held out from training)")
    return images


# an exact fill (a blown-out sky, a flat wall) has an infinite PSNR, and one such sample made the
# mean infinite and results.json invalid JSON; no other completion of an 8-bit photo scores above
# about 101 dB (one level off at one pixel of 256 x 256)
PSNR_CEILING = 100.0


def eval_mask(family: str, index: int, shape: tuple[int, int], seed: int, repeat: int = 0) -> np.ndarray:
    """Mask ``repeat`` of image ``index`` for ``family``: the same for every method and every run with ``seed``."""
    rng = np.random.default_rng([seed, index, FAMILIES[family].seed_id, repeat])
    return FAMILIES[family].draw(shape[0], shape[1], rng)


@dataclass
class EvalResult:
    # scores[family][method] = {"psnr": mean, "ssim": mean, "l1": mean, "n": count}
    scores: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)
    grid: np.ndarray | None = None

    def markdown(self) -> str:
        perceptual = any("stlpips" in s for methods in self.scores.values() for s in methods.values())
        extra = (" ST-LPIPS |", "---|") if perceptual else ("", "")
        lines = [f"| masks | method | PSNR dB | SSIM | L1 % |{extra[0]} n |", f"|---|---|---|---|---|{extra[1]}---|"]
        for family, methods in self.scores.items():
            for method, s in methods.items():
                lpips = f" {s['stlpips']:.4f} |" if perceptual else ""
                lines.append(
                    f"| {family} | {method} | {s['psnr']:.2f} | {s['ssim']:.4f} | {s['l1']:.3f} |{lpips} {int(s['n'])} |"
                )
        return "\n".join(lines)


def evaluate(
    images: list[tuple[str, np.ndarray]],
    methods: dict[str, Method],
    families: list[str],
    seed: int,
    masks_per_image: int = 1,
    grid_rows: int = 4,
    perceptual: Callable[[list[np.ndarray], np.ndarray], list[float]] | None = None,
    progress: bool = False,
) -> EvalResult:
    """Every method on every image with ``masks_per_image`` seeded masks of each family.
    ``perceptual(completions, truth)`` (H x W x 3 floats in [0, 1]; one distance per completion),
    when given, is reported as ``stlpips``: a learned perceptual distance, lower is better.
    ``progress``: a bar over the samples (family x image x mask)."""
    result = EvalResult()
    rows = []
    # the model card's table is 32 minutes of samples on two cores: say how far it is
    bar = tqdm(total=len(families) * len(images) * masks_per_image, unit="sample", disable=not progress,
               dynamic_ncols=True)  # fmt: skip
    for family in families:
        per_method: dict[str, list[tuple[float, ...]]] = {m: [] for m in methods}
        for (index, (_, image)), repeat in itertools.product(enumerate(images), range(masks_per_image)):
            bar.set_postfix_str(family, refresh=False)
            mask = eval_mask(family, index, image.shape[:2], seed, repeat)
            truth = to_unit_float(image)
            outputs = {  # valid pixels from the original
                name: np.where(mask[..., None] > 0, to_unit_float(method(image, mask)), truth)
                for name, method in methods.items()
            }
            distances = perceptual(list(outputs.values()), truth) if perceptual else None
            for i, (name, completed) in enumerate(outputs.items()):
                peak_snr = min(psnr(completed, truth), PSNR_CEILING)
                scores = (peak_snr, ssim(completed, truth), mean_l1_percent(completed, truth))
                per_method[name].append(scores + ((distances[i],) if distances else ()))
            if repeat == 0 and len(rows) < grid_rows and image.shape[0] <= 1024:  # one row per image
                rows.append([holes_white(truth, mask), *outputs.values(), truth])
            bar.update(1)
        result.scores[family] = {
            name: {"psnr": float(np.mean([v[0] for v in vals])), "ssim": float(np.mean([v[1] for v in vals])),
                   "l1": float(np.mean([v[2] for v in vals])), "n": float(len(vals)),
                   **({"stlpips": float(np.mean([v[3] for v in vals]))} if perceptual else {})}
            for name, vals in per_method.items()
        }  # fmt: skip
    bar.close()
    if rows and all(r[0].shape == rows[0][0].shape for r in rows):
        result.grid = image_grid(rows)
    return result
