"""Temporal stability for video inpainting: smoothing the fill across frames, and the flicker
measure that says whether it helped. Pure numpy / OpenCV, float RGB in [0, 1], 1 = hole.

Each frame is inpainted on its own, so grain and compression noise in the context make the
fill of a static hole shimmer from frame to frame. ``FillSmoother`` blends each frame's fill
with the previous output where the hole persists and the picture around it has not changed
(a recursive filter, an exponential moving average over frames); a cut or motion around the
hole resets it, so moving content is never smeared.
"""

from __future__ import annotations

import numpy as np

from gincli.core.imagemath import to_unit_float
from gincli.core.lazy import cv2

CONTEXT_RING = 8  # px around the hole compared between frames to detect change
GRAIN_SIGMA = 2.0  # px of blur that removes film grain before frames are compared
SCENE_CHANGE = 0.03  # mean absolute change of that ring (0-1) that stops the blending


class FillSmoother:
    """``strength`` in [0, 1): the weight of the previous output inside persisting holes."""

    def __init__(self, strength: float, scene_change: float = SCENE_CHANGE) -> None:
        if not 0.0 <= strength < 1.0:
            raise ValueError(f"temporal strength must be in [0, 1), got {strength}")
        self.strength, self.scene_change = strength, scene_change
        self._previous: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # picture, output, mask
        self.blended_frames = 0  # frames whose fill was blended with the previous output

    def reset(self) -> None:
        self._previous = None

    def __call__(self, frame: np.ndarray, result: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """``frame``: the damaged input; ``result``: its inpainted version; both H x W x 3 float."""
        smoothed = result
        picture = _denoised(frame)  # grain changes every frame, the picture does not
        if self._previous is not None and self.strength > 0:
            before, before_out, before_mask = self._previous
            ring = (_grow(mask, CONTEXT_RING) > 0) & (mask == 0) & (before_mask == 0)
            if before.shape == picture.shape and ring.any():
                change = float(np.abs(picture[ring] - before[ring]).mean())
                if change < self.scene_change:
                    both = ((mask > 0) & (before_mask > 0))[..., None]
                    blended = (1 - self.strength) * result + self.strength * before_out
                    smoothed = np.where(both, blended, result)
                    self.blended_frames += 1
        self._previous = (picture, smoothed, mask)
        return smoothed


def _denoised(frame: np.ndarray) -> np.ndarray:
    return cv2.GaussianBlur(frame, (0, 0), GRAIN_SIGMA)


def _grow(mask: np.ndarray, pixels: int) -> np.ndarray:
    return cv2.dilate(mask.astype(np.uint8), np.ones((2 * pixels + 1,) * 2, np.uint8))


def hole_flicker(outputs: list[np.ndarray], masks: list[np.ndarray]) -> float:
    """Mean absolute frame-to-frame change (0-1 scale) inside the holes that two consecutive
    frames share: 0 for a perfectly steady fill."""
    total, count = 0.0, 0
    for i in range(1, len(outputs)):
        a, b = outputs[i - 1], outputs[i]
        shared = (masks[i - 1] > 0) & (masks[i] > 0)
        if shared.any():
            total += float(np.abs(to_unit_float(a[shared]) - to_unit_float(b[shared])).sum(dtype=np.float64))
            count += int(shared.sum()) * (a.shape[2] if a.ndim == 3 else 1)
    return total / count if count else 0.0
