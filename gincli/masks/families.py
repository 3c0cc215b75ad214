"""Mask families: the paper's three (rectangle, free-form, cellular automata) and thin lines.

Pure numpy / OpenCV, no torch: training and the CLI's ``--auto-mask`` share them.
Every generator draws only from the ``numpy.random.Generator`` it is given, so a
seed reproduces a mask set bit for bit. Masks are float32 H x W, 1 = hole.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from gincli.core.lazy import cv2

MaskFn = Callable[[int, int, np.random.Generator], np.ndarray]

# free-form strokes, DeepFill v2 style (pixel units of the specification)
STROKES = (15, 23)
VERTICES = (1, 5)
ANGLES = np.array([0.01, 1.01, 2.01, 3.01])
LENGTH = (10, 69)
BRUSH_WIDTH = (10, 24)
# cellular automata (AIM 2020)
CA_SCALES = (1, 2, 4, 8)
CA_MEDIAN_PASSES = (2, 6)


def rectangle_mask(height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """One axis-aligned hole whose sides are each uniform in [30%, 70%] of the image's."""
    mask = np.zeros((height, width), np.float32)
    h = round(rng.uniform(0.3, 0.7) * height)
    w = round(rng.uniform(0.3, 0.7) * width)
    top = int(rng.integers(0, height - h + 1))
    left = int(rng.integers(0, width - w + 1))
    mask[top : top + h, left : left + w] = 1.0
    return mask


def free_form_mask(height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """15-23 brush strokes of 1-5 straight segments, 10-69 px long and 10-24 px wide."""
    canvas = np.zeros((height, width), np.uint8)
    for stroke in range(int(rng.integers(STROKES[0], STROKES[1] + 1))):
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        for _ in range(int(rng.integers(VERTICES[0], VERTICES[1] + 1))):
            angle = float(rng.choice(ANGLES))
            if stroke % 2:
                angle = 2 * np.pi - angle
            length = int(rng.integers(LENGTH[0], LENGTH[1] + 1))
            brush = int(rng.integers(BRUSH_WIDTH[0], BRUSH_WIDTH[1] + 1))
            nx = int(np.clip(x + length * np.sin(angle), 0, width - 1))
            ny = int(np.clip(y + length * np.cos(angle), 0, height - 1))
            cv2.line(canvas, (x, y), (nx, ny), 1, brush)
            x, y = nx, ny
    return canvas.astype(np.float32)


def cellular_automata_mask(height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """Random binary grid at 1/s size, 3x3 median filtered r times, upscaled, dilated if s > 1."""
    scale = int(rng.choice(CA_SCALES))
    passes = int(rng.integers(CA_MEDIAN_PASSES[0], CA_MEDIAN_PASSES[1] + 1))
    gh, gw = max(1, height // scale), max(1, width // scale)
    grid = (rng.random((gh, gw)) < 0.5).astype(np.float32)
    for _ in range(passes):
        # the median of nine binary values is 1 exactly when five or more are 1; zero border
        votes = cv2.boxFilter(grid, -1, (3, 3), normalize=False, borderType=cv2.BORDER_CONSTANT)
        grid = (votes >= 4.5).astype(np.float32)
    mask = cv2.resize(grid, (width, height), interpolation=cv2.INTER_NEAREST)
    if scale > 1:
        cross = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))
        mask = cv2.dilate(mask, cross, iterations=1)
    return mask


def thin_line_mask(height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """Film-scratch-like holes: 3-8 thin (1-5 px), long, near-vertical lines with a slight
    drift. Not one of the paper's families: it measures (and trains) the thin-line case."""
    canvas = np.zeros((height, width), np.uint8)
    for _ in range(int(rng.integers(3, 9))):
        length = int(rng.uniform(0.3, 1.0) * height)
        top = int(rng.integers(0, height - length + 1))
        x0 = float(rng.uniform(0, width))
        drift = float(rng.uniform(-0.05, 0.05)) * length
        cv2.line(canvas, (round(x0), top), (round(x0 + drift), top + length - 1), 1, int(rng.integers(1, 6)))
    return canvas.astype(np.float32)


@dataclass(frozen=True)
class MaskFamily:
    name: str
    summary: str
    draw: MaskFn
    paper: bool  # one of the paper's three training families (the default for training and "mixed")
    seed_id: int  # seeds evaluation masks: fixed, so published results stay reproducible


# The one table of mask families: training, `gin eval`, `gin inpaint --auto-mask` and their
# help texts all read it. Add a family here and every command offers it.
FAMILIES: dict[str, MaskFamily] = {f.name: f for f in (
    MaskFamily("rect", "one rectangle, sides 30-70 % of the image's", rectangle_mask, paper=True, seed_id=2),
    MaskFamily("freeform", "15-23 brush strokes, 10-24 px wide", free_form_mask, paper=True, seed_id=1),
    MaskFamily("ca", "cellular-automata blobs", cellular_automata_mask, paper=True, seed_id=0),
    MaskFamily("lines", "3-8 thin (1-5 px) near-vertical lines, like film scratches", thin_line_mask, paper=False, seed_id=3),
)}  # fmt: skip
PAPER_FAMILIES = tuple(name for name, family in FAMILIES.items() if family.paper)
MIXED = "mixed"  # a random paper family per mask
RENAMED = {"scratches": "lines"}  # old spelling -> name; `scratches` now means only the film-damage detector


def family_help() -> str:
    return "; ".join(f"{f.name}: {f.summary}" for f in FAMILIES.values())


def resolve_family(name: str) -> str:
    """A family name as given by a user or a saved config: old spellings are accepted with a
    deprecation note; an unknown name is a ValueError that lists the choices."""
    if name in RENAMED:
        warnings.warn(f"mask family {name!r} is now called {RENAMED[name]!r}", FutureWarning, stacklevel=2)
        name = RENAMED[name]
    if name not in FAMILIES:
        raise ValueError(f"unknown mask family {name!r}; choose from {', '.join(FAMILIES)}")
    return name


def generate_mask(family: str, height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """A mask of ``family`` (a name in :data:`FAMILIES`, or ``mixed``: a random paper family)."""
    if family == MIXED:
        family = str(rng.choice(sorted(PAPER_FAMILIES)))
    try:
        return FAMILIES[family].draw(height, width, rng)
    except KeyError:
        raise ValueError(f"unknown mask family {family!r}; choose one of {', '.join([*FAMILIES, MIXED])}") from None
