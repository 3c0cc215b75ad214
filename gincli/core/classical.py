"""Classical fills for thin holes, and the split of a mask into thin and wide holes.

Scratches and dust are a few pixels wide; there OpenCV's Telea inpainting (diffusion from
the hole's rim) is close to ideal and about a hundred times cheaper than the network.
A connected hole is *thin* when its largest inscribed radius (the maximum of its distance
transform) is at most ``max_radius`` pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gincli.core.imagemath import to_unit_float
from gincli.core.lazy import cv2

TELEA_RADIUS = 5  # neighbourhood OpenCV considers around each hole pixel
THIN_RADIUS = 4.0  # default, measured by benchmarks/fill_threshold.py: lines up to about 8 px go to Telea


@dataclass(frozen=True)
class FillMethod:
    name: str
    summary: str


FILL_METHODS = {m.name: m for m in (
    FillMethod("auto", "per connected hole: classical for thin ones (scratches, dust), the network for the rest"),
    FillMethod("network", "the network everywhere"),
    FillMethod("classical", "OpenCV Telea everywhere (fast; smooth on large holes)"),
)}  # fmt: skip


def thin_holes(hole: np.ndarray, max_radius: float = THIN_RADIUS) -> np.ndarray:
    """The connected holes of a binary H x W mask whose inscribed radius is at most ``max_radius``."""
    binary = (hole > 0).astype(np.uint8)
    if not binary.any():
        return np.zeros_like(binary, dtype=bool)
    radius = cv2.distanceTransform(binary, cv2.DIST_L2, 3)
    count, labels = cv2.connectedComponents(binary, connectivity=8)
    widest = np.zeros(count, np.float32)
    np.maximum.at(widest, labels.ravel(), radius.ravel())
    thin_labels = widest <= max_radius
    thin_labels[0] = False  # background
    return thin_labels[labels]


def classical_fill(image: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """Telea fill of ``hole`` (H x W, nonzero = hole) in an H x W x 3 image of any dtype;
    returns H x W x 3 float32 in [0, 1] (the caller composites)."""
    binary = (hole > 0).astype(np.uint8)
    if image.dtype == np.uint8:
        return to_unit_float(cv2.inpaint(np.ascontiguousarray(image), binary, TELEA_RADIUS, cv2.INPAINT_TELEA))
    unit = to_unit_float(image)  # 16-bit and float: per channel in float32, no loss of depth
    channels = [cv2.inpaint(np.ascontiguousarray(unit[..., c]), binary, TELEA_RADIUS, cv2.INPAINT_TELEA)
                for c in range(unit.shape[2])]  # fmt: skip
    return np.clip(np.dstack(channels), 0, 1)
