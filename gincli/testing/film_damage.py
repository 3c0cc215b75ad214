"""Synthetic film footage and damage, with the true damage mask: for measuring the scratch
detector (``benchmarks/scratches.py``), tests and demos. Pure numpy / OpenCV, seeded.

Scratches: 1-5 px wide near-vertical lines, bright or dark, lasting a few to a few dozen
frames while drifting sideways; dust: specks and blotches of random size in one frame only.
Each frame comes with where its damage is, and which of it the scratches made.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from gincli.core.imagemath import field, to_unit_float, weave_fields
from gincli.core.lazy import cv2

VISIBLE = 0.04  # a pixel is damaged where the blemish changed it by this much (10 of 255 levels)


def pan_clip(
    photo: np.ndarray, frames: int, width: int, height: int, rng: np.random.Generator, grain: float = 0.01
) -> Iterator[np.ndarray]:
    """Clean footage from a still: a slow pan and zoom (Ken Burns) with film grain; uint8 RGB."""
    photo = to_unit_float(photo)
    ph, pw = photo.shape[:2]
    scale = max(width / pw, height / ph) * 1.25  # room to move
    big = cv2.resize(photo, (round(pw * scale), round(ph * scale)), interpolation=cv2.INTER_AREA)
    bh, bw = big.shape[:2]
    start = np.array([rng.uniform(0, bw - width), rng.uniform(0, bh - height)])
    end = np.array([rng.uniform(0, bw - width), rng.uniform(0, bh - height)])
    for i in range(frames):
        x, y = start + (end - start) * i / max(1, frames - 1)
        matrix = np.float32([[1, 0, -x], [0, 1, -y]])
        frame = cv2.warpAffine(big, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        frame = frame + rng.normal(0, grain, frame.shape).astype(np.float32)
        yield (np.clip(frame, 0, 1) * 255 + 0.5).astype(np.uint8)


def woven(frames: list[np.ndarray], top_first: bool = True) -> list[np.ndarray]:
    """Interlaced frames from progressive ones, as a video camera's two fields are two instants:
    each frame's first field (the top one, or the bottom with ``top_first`` False) from one frame,
    its second from the next; half as many frames (an odd last one is left out)."""
    pairs = zip(frames[::2], frames[1::2], strict=False)
    return [weave_fields(field(a if top_first else b, 0), field(b if top_first else a, 1)) for a, b in pairs]


@dataclass
class Scratch:
    x: float  # column at the top of the frame
    top: int
    length: int
    width: int
    slant: float  # columns moved per row
    drift: float  # columns moved per frame
    contrast: float  # > 0 brighter, < 0 darker
    frames_left: int


def _new_scratch(height: int, width: int, rng: np.random.Generator) -> Scratch:
    length = int(rng.uniform(0.4, 1.0) * height)
    return Scratch(
        x=float(rng.uniform(0.05, 0.95) * width),
        top=int(rng.integers(0, height - length + 1)),
        length=length,
        width=int(rng.integers(1, 6)),
        slant=float(rng.uniform(-0.03, 0.03)),
        drift=float(rng.uniform(-1.5, 1.5)),
        contrast=float(rng.choice([-1, 1]) * rng.uniform(0.2, 0.6)),
        frames_left=int(rng.integers(3, 30)),
    )


def _apply(frame: np.ndarray, coverage: np.ndarray, contrast: float) -> np.ndarray:
    """Brighten towards white or darken towards black by ``contrast`` where covered."""
    cover = (coverage * abs(contrast))[..., None]
    return frame + cover * (1.0 - frame) if contrast > 0 else frame * (1.0 - cover)


class DamagedFrame(NamedTuple):
    """A frame with planted damage, and where the damage is."""

    image: np.ndarray  # uint8, damaged
    truth: np.ndarray  # bool: the pixels the damage changed by VISIBLE or more
    scratches: np.ndarray  # bool: those of them the line scratches changed so (the rest is dust's)


def damage_clip(
    frames: Iterable[np.ndarray], rng: np.random.Generator, scratches_per_frame: float = 0.15, dust_per_frame: float = 3
) -> Iterator[DamagedFrame]:
    """Each clean frame with planted damage (:class:`DamagedFrame`).

    ``scratches_per_frame``: chance a new scratch starts in a frame; ``dust_per_frame``: mean
    number of specks (Poisson)."""
    active: list[Scratch] = []
    for clean in frames:
        height, width = clean.shape[:2]
        original = to_unit_float(clean)
        frame = original  # each blemish makes a new array (_apply): the original stays as it was
        if rng.random() < scratches_per_frame or not active:
            active.append(_new_scratch(height, width, rng))
        for scratch in active:
            coverage = np.zeros((height, width), np.float32)
            bottom = scratch.top + scratch.length - 1
            x_end = scratch.x + scratch.slant * scratch.length
            # 4 bits of sub-pixel precision: slants and drifts stay smooth
            start = (round(scratch.x * 16), scratch.top * 16)
            cv2.line(coverage, start, (round(x_end * 16), bottom * 16), 1.0, scratch.width, cv2.LINE_AA, shift=4)
            frame = _apply(frame, coverage, scratch.contrast)
            scratch.x += scratch.drift + float(rng.normal(0, 0.3))
            scratch.frames_left -= 1
        active = [s for s in active if s.frames_left > 0 and 0 <= s.x < width]
        scratched = np.abs(frame - original).max(axis=2) >= VISIBLE
        for _ in range(int(rng.poisson(dust_per_frame))):
            coverage = np.zeros((height, width), np.float32)
            centre = (int(rng.integers(0, width)), int(rng.integers(0, height)))
            axes = (int(rng.integers(1, 7)), int(rng.integers(1, 7)))
            cv2.ellipse(coverage, centre, axes, float(rng.uniform(0, 180)), 0, 360, 1.0, -1, cv2.LINE_AA)
            contrast = float(rng.choice([-1, 1]) * rng.uniform(0.3, 0.8))
            frame = _apply(frame, coverage, contrast)
        truth = np.abs(frame - original).max(axis=2) >= VISIBLE
        yield DamagedFrame((np.clip(frame, 0, 1) * 255 + 0.5).astype(np.uint8), truth, truth & scratched)


def detection_scores(found: np.ndarray, truth: np.ndarray, *parts: np.ndarray, tolerance: int = 2) -> tuple[int, ...]:
    """(true detections, all detections, found truths, all truths), each as pixel counts: a
    detected pixel is right within ``tolerance`` px of a true one, and a true pixel is found
    within ``tolerance`` px of a detected one; then (found, all) the same way for each of
    ``parts`` of the truth (its line scratches, its dust), ``found`` widened once for all."""
    near_truth, near_found = _near(truth, tolerance), _near(found, tolerance)
    counts = (count for part in (truth, *parts) for count in (int((part & near_found).sum()), int(part.sum())))
    return int((found & near_truth).sum()), int(found.sum()), *counts


def _near(mask: np.ndarray, tolerance: int) -> np.ndarray:
    """The pixels within ``tolerance`` px of ``mask``'s."""
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * tolerance + 1,) * 2)
    return cv2.dilate(mask.astype(np.uint8), kernel) > 0
