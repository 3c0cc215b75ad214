"""Side-by-side picture grids (rows of equally sized RGB images) for people to look at."""

from __future__ import annotations

import numpy as np


def image_grid(rows: list[list[np.ndarray]], gap: int = 4) -> np.ndarray:
    """Tile H x W x 3 float images in [0, 1] into one image with white gaps between cells."""
    h, w = rows[0][0].shape[:2]
    cols = max(len(r) for r in rows)
    grid = np.ones((len(rows) * (h + gap) - gap, cols * (w + gap) - gap, 3), np.float32)
    for i, row in enumerate(rows):
        for j, cell in enumerate(row):
            grid[i * (h + gap) : i * (h + gap) + h, j * (w + gap) : j * (w + gap) + w] = cell
    return grid
