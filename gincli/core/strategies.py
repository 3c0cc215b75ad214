"""Inpainting an image of any size with a network that sees 256 x 256 tiles.

Each strategy takes an H x W x 3 image (uint8, uint16, or float in [0, 1]), an H x W
mask (1 = hole) and a ``TileFn`` that inpaints a batch of tiles, and returns the fill:
an H x W x 3 float32 array whose values inside the hole are the network's; outside
the hole they are unspecified (zero where nothing was computed, which costs no memory
for `crop` on a huge image). The composite (valid pixels taken bit-exactly from the
source) is the caller's, in the file's own dtype. No I/O here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from gincli.core.imagemath import to_unit_float
from gincli.core.lazy import cv2
from gincli.core.tiling import (
    TILE,
    Box,
    context_window,
    feather_weights,
    fit_to_tile,
    hole_boxes,
    polyphase_grid,
    resize_to,
    tile_polyphase,
    untile_polyphase,
    window_starts,
)

# (N x 256 x 256 x 3 images, N x 256 x 256 masks) -> N x 256 x 256 x 3 completed tiles
TileFn = Callable[[np.ndarray, np.ndarray], np.ndarray]
SLIDING_OVERLAP = 64
CROP_MARGIN = 32  # context kept around each hole by `crop`


def _binary(mask: np.ndarray) -> np.ndarray:
    return (mask >= 0.5).astype(np.float32)


def inpaint_polyphase(image: np.ndarray, mask: np.ndarray, run: TileFn) -> np.ndarray:
    """The authors' test-time procedure: resize to multiples of 256, split by pixel
    sub-sampling, inpaint every tile, reassemble, resize back, blur lightly, composite."""
    h, w = mask.shape
    sh, sw = polyphase_grid(h, w)
    big_image = resize_to(to_unit_float(image), sh * TILE, sw * TILE)
    big_mask = _binary(cv2.resize(mask, (sw * TILE, sh * TILE), interpolation=cv2.INTER_NEAREST))
    tiles = run(tile_polyphase(big_image), tile_polyphase(big_mask))
    merged = resize_to(untile_polyphase(tiles, (sh, sw)), h, w)
    if sh * sw > 1:  # the light blur hides the sub-sampling pattern (half size and back, bicubic)
        half = cv2.resize(merged, (max(1, w // 2), max(1, h // 2)), interpolation=cv2.INTER_CUBIC)
        merged = cv2.resize(half, (w, h), interpolation=cv2.INTER_CUBIC)
    return np.clip(merged, 0, 1)


def _pad_to_tile(image: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Reflect-pad sides shorter than a tile (the padding is valid context, never a hole)."""
    h, w = mask.shape
    ph, pw = max(0, TILE - h), max(0, TILE - w)
    if not (ph or pw):
        return image, mask
    border = cv2.BORDER_REFLECT_101 if min(h, w) > 1 else cv2.BORDER_REPLICATE
    image = cv2.copyMakeBorder(image, 0, ph, 0, pw, border)
    return image, cv2.copyMakeBorder(mask, 0, ph, 0, pw, cv2.BORDER_CONSTANT, value=0)


def _pad_mask_to_tile(mask: np.ndarray) -> np.ndarray:
    h, w = mask.shape
    return np.pad(mask, ((0, max(0, TILE - h)), (0, max(0, TILE - w))))


def _sliding_windows(padded_mask: np.ndarray, overlap: int = SLIDING_OVERLAP) -> list[tuple[int, int]]:
    """Top-left corners of the windows that hold a hole pixel."""
    ph, pw = padded_mask.shape
    starts = [(t, left) for t in window_starts(ph, TILE, overlap) for left in window_starts(pw, TILE, overlap)]
    return [(t, left) for t, left in starts if padded_mask[t : t + TILE, left : left + TILE].any()]


def inpaint_sliding(image: np.ndarray, mask: np.ndarray, run: TileFn, overlap: int = SLIDING_OVERLAP) -> np.ndarray:
    """Overlapping 256 x 256 windows at full resolution, blended with feathered weights.
    Windows without a hole pixel are not run."""
    h, w = mask.shape
    padded, padded_mask = _pad_to_tile(to_unit_float(image), _binary(mask))
    ph, pw = padded_mask.shape
    starts = _sliding_windows(padded_mask, overlap)
    accum = np.zeros((ph, pw, 3), np.float32)
    weight = np.zeros((ph, pw, 1), np.float32)
    if starts:
        tiles = run(
            np.stack([padded[t : t + TILE, left : left + TILE] for t, left in starts]),
            np.stack([padded_mask[t : t + TILE, left : left + TILE] for t, left in starts]),
        )
        feather = feather_weights(TILE, overlap)[..., None]
        for (t, left), tile in zip(starts, tiles, strict=True):
            accum[t : t + TILE, left : left + TILE] += tile * feather
            weight[t : t + TILE, left : left + TILE] += feather
    return (accum / np.maximum(weight, 1e-8))[:h, :w]


@dataclass(frozen=True)
class CropPlan:
    """The windows `crop` will inpaint: one tile each (downscaled where larger than a tile)."""

    windows: list[Box]

    @property
    def tiles(self) -> int:
        return len(self.windows)


def plan_crop(mask: np.ndarray, margin: int = CROP_MARGIN) -> CropPlan:
    h, w = mask.shape
    return CropPlan([context_window(box, h, w) for box in hole_boxes(mask, margin)])


def inpaint_crop(image: np.ndarray, mask: np.ndarray, run: TileFn, plan: CropPlan | None = None) -> np.ndarray:
    """Inpaint only a window around each hole (with context), at full resolution when it
    fits in a tile, downscaled to fit otherwise, and paste the holes back."""
    plan = plan or plan_crop(mask)
    out = np.zeros((*mask.shape, 3), np.float32)  # untouched pages cost no memory
    if not plan.windows:
        return out
    crops, crop_masks = [], []
    for box in plan.windows:
        region = (slice(box.top, box.bottom), slice(box.left, box.right))
        sub, sub_mask = _pad_to_tile(to_unit_float(image[region]), _binary(mask[region]))
        crops.append(fit_to_tile(sub))
        # nearest-neighbour shrink can drop one-pixel holes: keep every hole visible by max-pooling
        crop_masks.append(_shrink_mask(sub_mask))
    tiles = run(np.stack(crops), np.stack(crop_masks))
    for box, tile in zip(plan.windows, tiles, strict=True):
        restored = resize_to(tile, max(box.height, TILE), max(box.width, TILE))[: box.height, : box.width]
        region = (slice(box.top, box.bottom), slice(box.left, box.right))
        # windows may share context, never holes: write the holes only
        out[region] = np.where(mask[region][..., None] > 0, restored, out[region])
    return out


def _shrink_mask(mask: np.ndarray) -> np.ndarray:
    if mask.shape == (TILE, TILE):
        return mask
    factor = max(mask.shape) / TILE
    grown = cv2.dilate(mask, np.ones((int(np.ceil(factor)) + 1,) * 2, np.uint8)) if factor > 1 else mask
    return _binary(cv2.resize(grown, (TILE, TILE), interpolation=cv2.INTER_NEAREST))


def inpaint_resize(image: np.ndarray, mask: np.ndarray, run: TileFn) -> np.ndarray:
    """The whole image to one 256 x 256 tile and back: fast, soft at large sizes."""
    h, w = mask.shape
    tile = run(fit_to_tile(to_unit_float(image))[None], _shrink_mask(_binary(mask))[None])[0]
    return np.clip(resize_to(tile, h, w), 0, 1)


@dataclass(frozen=True)
class Strategy:
    """One way to cover an image with tiles: its name, a one-line summary (help text),
    how many tiles it needs for a mask, and how it runs."""

    name: str
    summary: str
    tiles: Callable[[np.ndarray], int]  # H x W mask -> engine tiles
    run: Callable[[np.ndarray, np.ndarray, TileFn], np.ndarray]  # (image, mask, TileFn) -> fill


STRATEGIES: dict[str, Strategy] = {s.name: s for s in (
    Strategy("polyphase", "the paper's: resize to multiples of 256, split by pixel sub-sampling",
             lambda m: int(np.prod(polyphase_grid(*m.shape))), inpaint_polyphase),
    Strategy("sliding", "overlapping 256 x 256 windows at full resolution, feathered",
             lambda m: len(_sliding_windows(_pad_mask_to_tile(_binary(m)))), inpaint_sliding),
    Strategy("crop", "only a window around each hole, full resolution where it fits",
             lambda m: plan_crop(m).tiles, inpaint_crop),
    Strategy("resize", "the whole image through one tile (fast, soft on large images)", lambda m: 1, inpaint_resize),
)}  # fmt: skip
AUTO_SUMMARY = "resize for small images; else crop or polyphase, whichever needs fewer tiles"
STRATEGY_NAMES = ("auto", *STRATEGIES)


def strategy_help() -> str:
    """The strategies section of the commands' help, from the registry."""
    rows = [("auto", AUTO_SUMMARY), *((s.name, s.summary) for s in STRATEGIES.values())]
    return "\n".join(f"  {name:<10} {summary}" for name, summary in rows)


def choose_strategy(height: int, width: int, mask: np.ndarray) -> tuple[str, CropPlan | None]:
    """`auto`: one tile (`resize`) for images no larger than a tile; otherwise whichever of
    `crop` and `polyphase` needs fewer tiles (crop wins when holes are few and small)."""
    if height <= TILE and width <= TILE:
        return "resize", None
    plan = plan_crop(mask)
    if plan.tiles <= STRATEGIES["polyphase"].tiles(mask) and all(
        max(b.height, b.width) <= 2 * TILE for b in plan.windows
    ):
        return "crop", plan
    return "polyphase", None


def inpaint_any_size(
    image: np.ndarray, mask: np.ndarray, run: TileFn, strategy: str = "auto"
) -> tuple[np.ndarray, str]:
    """Dispatch to a strategy; returns the fill and the strategy that ran."""
    h, w = mask.shape
    if strategy == "auto":
        strategy, plan = choose_strategy(h, w, mask)
        if plan is not None:  # reuse the plan auto made
            return inpaint_crop(image, mask, run, plan), strategy
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; choose one of {', '.join(STRATEGY_NAMES)}")
    return STRATEGIES[strategy].run(image, mask, run), strategy


def self_ensemble(run: TileFn) -> TileFn:
    """The paper's 5-way self-ensemble: as is, rotated 90/180/270 and flipped left-right,
    each result transformed back, averaged."""

    def ensembled(tiles: np.ndarray, masks: np.ndarray) -> np.ndarray:
        forward = [lambda x, k=k: np.rot90(x, k, axes=(1, 2)) for k in range(4)] + [lambda x: x[:, :, ::-1]]
        inverse = [lambda x, k=k: np.rot90(x, -k, axes=(1, 2)) for k in range(4)] + [lambda x: x[:, :, ::-1]]
        n = len(tiles)
        stacked = run(
            np.ascontiguousarray(np.concatenate([f(tiles) for f in forward])),
            np.ascontiguousarray(np.concatenate([f(masks) for f in forward])),
        )
        return np.mean([inv(stacked[i * n : (i + 1) * n]) for i, inv in enumerate(inverse)], axis=0)

    return ensembled
