"""Texture for the network's smooth fills: fine detail carried in from the photo's own patches.

The bundled network fills a large hole with the right colours and shapes but without their fine
grain: grass, foliage and fabric come back as a smooth blur, which perceptual metrics and people
see at once (ST-LPIPS on the held-out photos: README, *Texture*). Here each hole pixel's
neighbourhood in the blurred fill is matched to a neighbourhood of the valid pixels around the
hole (PatchMatch: random guesses improved by the matches of neighbouring pixels, so that
neighbours copy neighbours and the grain stays coherent), and the matched pixel's detail (its
value less its Gaussian blur) is added to the fill's blur, scaled by ``strength`` and faded in
over the first ``RAMP`` px from the hole's rim, where the fill already continues the picture.

The detail copied is real texture in the wrong place, so it trades a little PSNR and SSIM (which
reward a blur that is right on average) for a fill that looks like the picture around it; the
default strength is the measured balance. Pure numpy / OpenCV, seeded: the same input gives the
same output.
"""

from __future__ import annotations

import numpy as np

from gincli.core.imagemath import hole_windows
from gincli.core.lazy import cv2

TEXTURE_STRENGTH = 0.4  # photos' default (gin inpaint, gin eval, the API), measured: README, *Texture*
DETAIL_SIGMA = 1.0  # the detail is the image less its Gaussian blur of this sigma (px)
PATCH_RADIUS = 3  # neighbourhoods of 7 x 7 px are compared
DESCRIPTOR_SIZE = 8  # ... through their first principal components (147 values -> 8)
RAMP = 8.0  # px from the hole's rim over which the detail fades in
SEARCH_ROUNDS = 3  # PatchMatch rounds: propagation at 8, 4, 2, 1 px, then a random search; 5 rounds / 12
# components matched as well on the held-out photos (ST-LPIPS within 0.002) in 1.7 times the time
MARGIN = 48  # px around a hole from which its detail is taken
_SAMPLES = 4000  # pixels whose neighbourhoods estimate the principal components


def add_texture(
    completed: np.ndarray, hole: np.ndarray, unknown: np.ndarray, strength: float = TEXTURE_STRENGTH, seed: int = 0
) -> np.ndarray:
    """``completed`` (H x W x 3 float32 in [0, 1], an image with its holes filled) with detail
    added at the ``hole`` pixels (H x W bool), taken from pixels that are neither ``unknown``
    (H x W bool: every pixel that is not the photo's own, ``hole`` included) nor near one.
    Other pixels are returned as they are; a hole with no valid pixels around it is left smooth."""
    if strength <= 0 or not hole.any():
        return completed
    result = completed.copy()
    rng = np.random.default_rng(seed)
    for window, inside in hole_windows(hole.view(np.uint8), MARGIN):
        _texture_window(completed[window], inside, unknown[window], strength, rng, result[window])
    return result


def _texture_window(
    completed: np.ndarray, inside: np.ndarray, unknown: np.ndarray, strength: float, rng: np.random.Generator,
    out: np.ndarray,
) -> None:  # fmt: skip
    """:func:`add_texture` on one window, whose target pixels are ``inside``, into ``out``."""
    height, width = inside.shape
    reach = PATCH_RADIUS + int(np.ceil(3 * DETAIL_SIGMA))  # a source's neighbourhood and blur stay valid
    sources = cv2.distanceTransform((~unknown).view(np.uint8), cv2.DIST_L2, 3) > reach
    sources[:PATCH_RADIUS], sources[height - PATCH_RADIUS :] = False, False
    sources[:, :PATCH_RADIUS], sources[:, width - PATCH_RADIUS :] = False, False
    if not sources.any():
        return
    blur = cv2.GaussianBlur(completed, (0, 0), DETAIL_SIGMA)
    detail = completed - blur
    ty, tx = np.nonzero(inside)
    sy, sx = nearest_patches(neighbourhood_descriptors(blur, rng), ty, tx, sources, rng)
    depth = cv2.distanceTransform(inside.view(np.uint8), cv2.DIST_L2, 3)[ty, tx]
    weight = (strength * np.minimum(1, depth / RAMP))[:, None]
    out[ty, tx] = np.clip(blur[ty, tx] + weight * detail[sy, sx], 0, 1)


def neighbourhood_descriptors(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """H x W x ``DESCRIPTOR_SIZE`` float32: each pixel's (2r + 1)^2 x 3 neighbourhood of
    ``image`` (reflected at the borders) projected on its principal components, estimated from
    ``_SAMPLES`` random pixels. Squared distances between descriptors approximate those between
    neighbourhoods; projected one offset at a time, so memory stays at the descriptors' size."""
    height, width, channels = image.shape
    r = PATCH_RADIUS
    padded = cv2.copyMakeBorder(image, r, r, r, r, cv2.BORDER_REFLECT_101)
    offsets = [(dy, dx) for dy in range(2 * r + 1) for dx in range(2 * r + 1)]
    ys, xs = rng.integers(0, height, _SAMPLES), rng.integers(0, width, _SAMPLES)
    samples = np.concatenate([padded[ys + dy, xs + dx] for dy, dx in offsets], axis=1)
    mean = samples.mean(axis=0)
    _, vectors = np.linalg.eigh(np.cov(samples - mean, rowvar=False))
    components = vectors[:, ::-1][:, :DESCRIPTOR_SIZE].astype(np.float32)  # largest variance first
    descriptors = np.zeros((height * width, components.shape[1]), np.float32)
    for k, (dy, dx) in enumerate(offsets):
        shifted = padded[dy : dy + height, dx : dx + width].reshape(-1, channels)
        descriptors += shifted @ components[k * channels : (k + 1) * channels]
    descriptors -= mean.astype(np.float32) @ components
    return descriptors.reshape(height, width, -1)


def nearest_patches(
    descriptors: np.ndarray, ty: np.ndarray, tx: np.ndarray, sources: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """For each target pixel (``ty``, ``tx``), a ``sources`` pixel (H x W bool) whose descriptor
    is close to its own: PatchMatch, vectorised over the targets. Each round offers every target
    its neighbours' matches shifted back by the neighbour's offset (at 8, 4, 2 and 1 px: a good
    match spreads across a region in one round), then random guesses around its own match at
    halving radii and one anywhere; a guess is kept where it is a source and closer."""
    height, width = sources.shape
    pool_y, pool_x = np.nonzero(sources)
    targets = descriptors[ty, tx]
    index = np.full((height, width), -1, np.intp)
    index[ty, tx] = np.arange(len(ty))
    pick = rng.integers(0, len(pool_y), len(ty))
    my, mx = pool_y[pick], pool_x[pick]
    cost = ((descriptors[my, mx] - targets) ** 2).sum(axis=1)

    def offer(cy: np.ndarray, cx: np.ndarray) -> None:
        nonlocal my, mx, cost
        inside = (cy >= 0) & (cy < height) & (cx >= 0) & (cx < width)
        cy, cx = np.where(inside, cy, my), np.where(inside, cx, mx)
        candidate = ((descriptors[cy, cx] - targets) ** 2).sum(axis=1)
        better = sources[cy, cx] & (candidate < cost)
        my, mx, cost = np.where(better, cy, my), np.where(better, cx, mx), np.where(better, candidate, cost)

    for _ in range(SEARCH_ROUNDS):
        for step in (8, 4, 2, 1):
            for dy, dx in ((step, 0), (-step, 0), (0, step), (0, -step)):
                ny, nx = np.clip(ty + dy, 0, height - 1), np.clip(tx + dx, 0, width - 1)
                neighbour = np.where((ny == ty + dy) & (nx == tx + dx), index[ny, nx], -1)
                known = neighbour >= 0
                at = np.maximum(neighbour, 0)
                offer(np.where(known, my[at] - dy, -1), np.where(known, mx[at] - dx, -1))
        radius = max(height, width) // 2
        while radius >= 1:
            offer(my + rng.integers(-radius, radius + 1, len(ty)), mx + rng.integers(-radius, radius + 1, len(ty)))
            radius //= 2
        pick = rng.integers(0, len(pool_y), len(ty))
        offer(pool_y[pick], pool_x[pick])
    return my, mx
