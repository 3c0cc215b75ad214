"""Tile geometry around the network's 256 x 256 input: pure numpy / OpenCV, no I/O.

Images here are H x W x C float32 in [0, 1], masks H x W float32 with 1 = hole.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from gincli.core.imagemath import connected_components
from gincli.core.lazy import cv2
from gincli.core.model_contract import TILE


def polyphase_grid(height: int, width: int, tile: int = TILE) -> tuple[int, int]:
    """Tiles per axis for the paper's procedure: each side resized to the nearest multiple of the tile."""
    return max(1, round(height / tile)), max(1, round(width / tile))


def tile_polyphase(image: np.ndarray, tile: int = TILE) -> np.ndarray:
    """Split an (sh*tile) x (sw*tile) x C image by pixel sub-sampling into sh*sw tiles.

    Tile (a, b) holds pixels [a::sh, b::sw]: every tile is a low-resolution copy of the whole image.
    Returns sh*sw x tile x tile x C, tile index a * sw + b.
    """
    h, w = image.shape[:2]
    sh, sw = h // tile, w // tile
    if sh * tile != h or sw * tile != w:
        raise ValueError(f"polyphase split needs sides that are multiples of {tile}, got {w} x {h}")
    channels = image.shape[2:]
    grid = image.reshape(tile, sh, tile, sw, *channels)
    order = (1, 3, 0, 2, *range(4, 4 + len(channels)))
    return np.ascontiguousarray(grid.transpose(order)).reshape(sh * sw, tile, tile, *channels)


def untile_polyphase(tiles: np.ndarray, grid: tuple[int, int]) -> np.ndarray:
    """Exact inverse of :func:`tile_polyphase`."""
    sh, sw = grid
    tile = tiles.shape[1]
    channels = tiles.shape[3:]
    stacked = tiles.reshape(sh, sw, tile, tile, *channels)
    order = (2, 0, 3, 1, *range(4, 4 + len(channels)))
    return np.ascontiguousarray(stacked.transpose(order)).reshape(sh * tile, sw * tile, *channels)


def window_starts(length: int, tile: int = TILE, overlap: int = 64) -> list[int]:
    """Start offsets of tile-long windows covering [0, length) with at least ``overlap`` shared pixels."""
    if length <= tile:
        return [0]
    stride = tile - overlap
    count = int(np.ceil((length - tile) / stride)) + 1
    return [round(i * (length - tile) / (count - 1)) for i in range(count)]


def feather_weights(tile: int = TILE, overlap: int = 64) -> np.ndarray:
    """tile x tile blending weights: 1 in the middle, ramping linearly (never to 0) over ``overlap`` at the edges."""
    ramp = np.minimum(1.0, (np.arange(tile, dtype=np.float32) + 1.0) / (overlap + 1.0))
    ramp = np.minimum(ramp, ramp[::-1])
    return np.outer(ramp, ramp)


class Box(NamedTuple):
    top: int
    left: int
    bottom: int  # exclusive
    right: int  # exclusive

    @property
    def height(self) -> int:
        return self.bottom - self.top

    @property
    def width(self) -> int:
        return self.right - self.left


def _overlaps(a: Box, b: Box) -> bool:
    return a.top < b.bottom and b.top < a.bottom and a.left < b.right and b.left < a.right


def hole_boxes(mask: np.ndarray, margin: int) -> list[Box]:
    """Boxes around each connected hole, grown by ``margin`` of context and clipped to the
    image; boxes that overlap are merged until none do."""
    holes = (mask > 0).astype(np.uint8)
    if margin > 0:  # holes closer than 2 x margin become one component: few boxes to merge below
        holes = cv2.dilate(holes, cv2.getStructuringElement(cv2.MORPH_RECT, (2 * margin + 1, 2 * margin + 1)))
    count, _, stats = connected_components(holes)
    boxes = [Box(int(y), int(x), int(y + bh), int(x + bw)) for x, y, bw, bh, _ in stats[1:count]]
    merged = True
    while merged:
        merged = False
        for i in range(len(boxes)):
            for j in range(i + 1, len(boxes)):
                if _overlaps(boxes[i], boxes[j]):
                    a, b = boxes[i], boxes.pop(j)
                    boxes[i] = Box(
                        min(a.top, b.top), min(a.left, b.left), max(a.bottom, b.bottom), max(a.right, b.right)
                    )
                    merged = True
                    break
            if merged:
                break
    return boxes


def context_window(box: Box, height: int, width: int, tile: int = TILE) -> Box:
    """A window of at least tile x tile (where the image allows) centred on ``box``, inside the image,
    square when the box is larger than a tile so that downscaling keeps the aspect ratio."""
    side_h = max(tile, box.height, box.width) if max(box.height, box.width) > tile else tile
    side_w = side_h
    side_h, side_w = min(side_h, height), min(side_w, width)
    top = int(np.clip((box.top + box.bottom - side_h) // 2, 0, height - side_h))
    left = int(np.clip((box.left + box.right - side_w) // 2, 0, width - side_w))
    return Box(top, left, top + side_h, left + side_w)


def centre_square(image: np.ndarray, size: int) -> np.ndarray:
    """The largest centred square of ``image``, resized to size x size (area averaging)."""
    h, w = image.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    return cv2.resize(image[top : top + side, left : left + side], (size, size), interpolation=cv2.INTER_AREA)


def fit_to_tile(image: np.ndarray, tile: int = TILE, interpolation: int | None = None) -> np.ndarray:
    """Resize any H x W (x C) array to tile x tile (area averaging unless ``interpolation`` is given)."""
    if image.shape[:2] == (tile, tile):
        return image
    return cv2.resize(image, (tile, tile), interpolation=cv2.INTER_AREA if interpolation is None else interpolation)


def resize_to(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize to (height, width): area averaging when shrinking, bicubic when enlarging."""
    if image.shape[:2] == (height, width):
        return image
    shrinking = height * width < image.shape[0] * image.shape[1]
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC)
