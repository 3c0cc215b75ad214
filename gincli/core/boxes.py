"""A local operation's result at a few pixels of a frame, computed on boxes around them only:
the same values as on the whole frame, for a fraction of its cost. No I/O.

The film-damage detector judges a few dust specks over a 720p frame this way, and the
classical fill diffuses into scratches and dust: every whole-frame pass of either would
cost as much for a speck as for the frame."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from gincli.core.lazy import cv2

# at_pixels works box by box while there are at most this many: each costs a call
MOST_BOXES = 16


def at_pixels(
    ys: np.ndarray,
    xs: np.ndarray,
    reach: int,
    local: Callable[..., np.ndarray],
    *images: np.ndarray,
    most_boxes: int = MOST_BOXES,
) -> np.ndarray:
    """``local(*images)`` at pixels (``ys``, ``xs``), for an operation that looks at most
    ``reach`` px away: computed on the boxes around those pixels only, with the same values as
    on the whole frame, since every pixel looked at lies ``reach`` px inside a box or at the
    frame's own edge. The pixels go in groups more than ``2 * reach`` px apart, a box each
    (while their boxes cover less than half of the one box around them all, and there are
    at most ``most_boxes``): nothing within ``reach`` of one group lies within ``reach`` of
    another, and what touches stays in one group. A few dust specks over a 720p frame: a few
    per cent of it, where one box around them all was most of it. (Where ``local`` numbers
    what it finds and breaks ties by number, as the dust's ring does where two specks share
    it, a box numbers them otherwise than the whole frame: BBB, 60 frames, 13 px of 598,886.)
    ``local`` returns H x W or H x W x C; the result is N or N x C."""
    if not ys.size:
        return np.zeros(0, images[0].dtype)
    groups = _groups(ys, xs, reach, most_boxes)
    whole = _box(ys, xs, reach)
    boxes = [_box(ys[group], xs[group], reach) for group in groups] if len(groups) > 1 else [whole]
    if len(groups) == 1 or sum(_area(box) for box in boxes) > _area(whole) / 2:
        top, left, bottom, right = whole  # one box: read at the pixels as they are (a large hole has millions)
        return local(*(image[top:bottom, left:right] for image in images))[ys - top, xs - left]
    values = None
    for group, (top, left, bottom, right) in zip(groups, boxes, strict=True):
        box = local(*(image[top:bottom, left:right] for image in images))
        if values is None:
            values = np.empty((ys.size, *box.shape[2:]), box.dtype)
        values[group] = box[ys[group] - top, xs[group] - left]
    return values


def _groups(ys: np.ndarray, xs: np.ndarray, reach: int, most: int) -> list[np.ndarray]:
    """The indices of pixels (``ys``, ``xs``) in groups: squares ``2 * reach`` px a side that
    hold pixels, joined where they touch (pixels in squares that do not touch lie more than
    ``2 * reach`` apart); a single group where there would be more than ``most``."""
    side = max(1, 2 * reach)
    rows, columns = ys // side, xs // side
    grid = np.zeros((rows.max() + 1, columns.max() + 1), np.uint8)
    grid[rows, columns] = 1
    count, labels = cv2.connectedComponents(grid, connectivity=8)
    if count - 1 > most or count == 2:
        return [np.arange(ys.size)]
    owner = labels[rows, columns]
    order = np.argsort(owner, kind="stable")
    return np.split(order, np.flatnonzero(np.diff(owner[order])) + 1)


def _box(ys: np.ndarray, xs: np.ndarray, reach: int) -> tuple[int, int, int, int]:
    """(top, left, bottom, right), the last two past the end: the box ``reach`` px around
    pixels (``ys``, ``xs``), cut at the frame's top and left (slicing cuts the rest)."""
    return max(0, ys.min() - reach), max(0, xs.min() - reach), ys.max() + reach + 1, xs.max() + reach + 1


def _area(box: tuple[int, int, int, int]) -> int:
    top, left, bottom, right = box
    return (bottom - top) * (right - left)
