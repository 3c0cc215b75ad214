"""Classical fills for thin holes, and the split of a mask into thin and wide holes.

Scratches and dust are a few pixels wide; there OpenCV's inpainting (diffusion from the hole's
rim: Navier-Stokes for narrow holes, Telea for wider ones) is close to ideal and about a
hundred times cheaper than the network.
A hole pixel is *wide* when it lies in a disk (a square, at corners) of radius above
``max_radius`` that fits inside the hole, and *thin* otherwise: so a scratch stays thin where
it crosses another scratch, and a scratch running out of a large blot is thin outside it.

Wide holes get the network's fill, carried to the level of the pixels around the hole by
:mod:`gincli.core.harmonic`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gincli.core.boxes import at_pixels
from gincli.core.imagemath import connected_components, from_unit_float, nonzero_pixels, to_unit_float
from gincli.core.lazy import cv2


@dataclass(frozen=True)
class Diffusion:
    """One OpenCV inpainting run: its algorithm (a ``cv2`` flag name) and the radius of the
    neighbourhood it reads around each hole pixel."""

    flag: str
    radius: int


# A connected hole no deeper than NARROW_DEPTH px (about 8 px wide or less: scratches, specks)
# is narrow, and gets NARROW_FILL; wider ones WIDE_FILL. Measured on the 43 held-out photos x 3
# masks (`benchmarks/classical_fill.py`, PSNR / ST-LPIPS): Navier-Stokes at radius 1 leaves a
# sharper fill than Telea at radius 2 (thin lines 36.48 dB / 0.010 against 36.54 / 0.016; CA
# holes better on every metric), for up to 0.25 dB on scratches 4-6 px wide; wide holes (free-form
# strokes, rectangles) are best with Telea at radius 5.
NARROW_DEPTH = 4.0
WIDE_SHARE = 0.1  # a hole with more of its pixels deeper than NARROW_DEPTH is wide
NARROW_FILL = Diffusion("INPAINT_NS", 1)
WIDE_FILL = Diffusion("INPAINT_TELEA", 5)
# (narrow, wide) fills: gin's own, and the one the `telea` hole-fill models were trained with
CLASSICAL_FILLS = (NARROW_FILL, WIDE_FILL)
TELEA_FILLS = (Diffusion("INPAINT_TELEA", 2), WIDE_FILL)
# --fill auto's split (see thin_holes). Photos: parts up to about 8 px wide go to the classical fill; the
# network with its rim correction fills wider parts better (chosen on training tiles; on the
# held-out photos CA holes 23.58 dB against 23.46 at 8 px, free-form and rectangles within 0.02).
THIN_RADIUS = 4.0
# Film damage: scratches and dust up to about 16 px wide go to the classical fill, so that a film's damage
# never wakes the network (3-4 frames/s at 720p instead of 10-14; benchmarks/video.py).
FILM_THIN_RADIUS = 8.0
FILL_BOXES = 256  # classical_fill's most boxes (see at_pixels)


@dataclass(frozen=True)
class FillMethod:
    name: str
    summary: str


FILL_METHODS = {m.name: m for m in (
    FillMethod("auto", "classical for the thin parts of holes (scratches, dust, lines), the network for the rest, "
                       "its level matched to the pixels around each hole"),
    FillMethod("network", "the network everywhere"),
    FillMethod("classical", "OpenCV everywhere, no network: Navier-Stokes for narrow holes, Telea for wide ones "
                            "(fast; smooth on large holes)"),
)}  # fmt: skip


def network_input(image: np.ndarray, hole: np.ndarray, hole_fill: str) -> np.ndarray:
    """What a model of the ``hole_fill`` convention (see ``model_contract.HOLE_FILLS``) reads
    in an H x W x 3 float32 tile in [0, 1] whose hole is ``hole`` (H x W, 1 = hole): the hole
    white, or filled by Telea on the tile's 8-bit values (``TELEA_FILLS``). Pixels outside the
    hole are the tile's. Training and inference both call this, so a model sees the same fill in each."""
    binary = hole > 0.5
    filled = image.copy()
    if hole_fill == "white":
        filled[binary] = 1.0
    elif binary.any():
        filled[binary] = classical_fill(from_unit_float(image, np.uint8), binary, binary, fills=TELEA_FILLS)
    return filled


def hole_depth(hole: np.ndarray) -> np.ndarray:
    """Each pixel's distance (px, float32) to the nearest valid pixel of the H x W ``hole`` mask
    (nonzero = hole), 0 outside the hole: computed once per image and shared by the thin / wide
    split, the edge blend and the band-only classical fill (a 12 MP mask takes about 0.15 s)."""
    return cv2.distanceTransform((hole > 0).astype(np.uint8), cv2.DIST_L2, 3)


def thin_holes(hole: np.ndarray, max_radius: float = THIN_RADIUS, depths: np.ndarray | None = None) -> np.ndarray:
    """The thin pixels of a binary H x W hole mask: those not covered by the wide parts, where
    the distance to the nearest valid pixel exceeds ``max_radius``, grown back by that radius.
    ``depths``: the mask's :func:`hole_depth`, when the caller has it."""
    binary = (hole > 0).astype(np.uint8)
    if not binary.any():
        return np.zeros_like(binary, dtype=bool)
    core = ((hole_depth(hole) if depths is None else depths) > max_radius).astype(np.uint8)
    if not core.any():
        return binary > 0
    reach = 2 * int(np.ceil(max_radius)) + 3  # a square: the wide part keeps its corners
    wide = cv2.dilate(core, np.ones((reach, reach), np.uint8)) & binary
    return (binary > 0) & (wide == 0)


def classical_context(thin: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """The hole pixels a classical fill of ``thin`` must treat as unknown: every connected hole
    that has thin parts, wide parts included, so a scratch running out of a blot is filled
    from valid pixels only, never from the damage inside the blot."""
    binary = (hole > 0).astype(np.uint8)
    if not (binary.astype(bool) & ~thin).any():
        return thin  # no wide part anywhere (scratches and dust only, or --fill classical)
    count, labels = cv2.connectedComponents(binary, connectivity=8)
    with_thin = np.zeros(count, bool)
    with_thin[labels[thin]] = True
    with_thin[0] = False  # background
    return with_thin[labels]


def classical_fill(
    image: np.ndarray,
    hole: np.ndarray,
    at: np.ndarray,
    deepest: float | None = None,
    depths: np.ndarray | None = None,
    fills: tuple[Diffusion, Diffusion] = CLASSICAL_FILLS,
) -> np.ndarray:
    """Classical fill of ``hole`` (H x W, nonzero = hole) in an H x W x 3 image of any dtype: its
    values at the ``at`` pixels (H x W bool: hole pixels, none deeper than ``deepest``), N x 3
    float32 in [0, 1] (the caller composites; only those few pixels are converted, not the
    whole frame). ``fills``: the (narrow, wide) runs' :class:`Diffusion`, narrow holes being
    those no deeper than ``NARROW_DEPTH``.

    OpenCV runs on boxes around groups of holes (:func:`at_pixels`: holes more than twice its
    reach apart, a box each), and with ``deepest`` (no ``at`` pixel is further than that from
    the valid pixels) on the hole's outer band: the fast marching (both algorithms march)
    reaches each pixel from its nearest valid one and reads its neighbours within the largest
    radius of ``fills``, so a box holding a connected hole and that reach around it fills it as
    the whole frame does, and hole pixels deeper than twice ``deepest`` plus that reach are left
    known: they never touch the values at ``at``, and a large hole costs a band instead of its
    area (a 12 MP photo with a 1000 px square hole: a quarter of the time). ``depths``: the
    :func:`hole_depth` of ``hole``, or of a mask whose connected holes include ``hole``'s
    (distances to the valid pixels are the same within a connected hole)."""
    binary = (hole > 0).astype(np.uint8)
    reach = max(fill.radius for fill in fills) + 1  # the farthest any run reads, and a pixel more
    if deepest is not None:
        depths = hole_depth(hole) if depths is None else depths
        binary[depths > 2 * (deepest + reach)] = 0
    ys, xs = nonzero_pixels(binary)
    if not ys.size:
        return np.zeros((0, image.shape[2]), np.float32)

    def filled(image: np.ndarray, binary: np.ndarray, depths: np.ndarray | None = None) -> np.ndarray:
        runs = _diffusion_runs(binary, depths, fills)
        if image.dtype == np.uint8:
            return _diffuse(np.ascontiguousarray(image), runs)
        # 16-bit and float: per channel in float32, no loss of depth, on the 0-255 scale: OpenCV's inpainting
        # on float32 values in [0, 1] returns values far outside it (-0.3 to 1.7 on a smooth picture)
        levels = to_unit_float(image) * np.float32(255)
        return np.stack([_diffuse(np.ascontiguousarray(levels[..., c]), runs) for c in range(levels.shape[2])], -1)

    known = (image, binary) if depths is None else (image, binary, depths)
    # a box costs a few calls: a frame peppered with dust is still cheaper box by box than whole
    values = at_pixels(ys, xs, reach, filled, *known, most_boxes=FILL_BOXES)[at[ys, xs]]
    if image.dtype == np.uint8:
        return to_unit_float(values)
    return np.clip(values / np.float32(255), 0, 1)


def _diffusion_runs(
    binary: np.ndarray, depths: np.ndarray | None, fills: tuple[Diffusion, Diffusion]
) -> list[tuple[np.ndarray, Diffusion]]:
    """The runs that fill the holes of ``binary`` (uint8), in order: (the pixels a run takes as
    unknown, its :class:`Diffusion`). A connected hole is wide when more than ``WIDE_SHARE`` of
    its pixels lie deeper than ``NARROW_DEPTH`` (``depths``: their :func:`hole_depth`, when
    the caller has it; where two scratches cross, a few pixels are deeper, and they stay
    narrow). Narrow holes are filled with ``fills[0]``, in a run that also takes as unknown every
    wide hole that comes within its reach, whole (its damage would be read, directly or through
    the pixels filled from it); then the wide holes with ``fills[1]``, reading the narrow ones
    as filled."""
    narrow_fill, wide_fill = fills
    deep = ((hole_depth(binary) if depths is None else depths) > NARROW_DEPTH) & (binary > 0)
    if not deep.any():
        return [(binary, narrow_fill)]  # scratches and specks only: nothing to label
    count, labels, stats = connected_components(binary)
    is_wide = np.bincount(labels[deep], minlength=count) > WIDE_SHARE * stats[:, cv2.CC_STAT_AREA]
    is_wide[0] = False  # the valid pixels
    if not is_wide.any():
        return [(binary, narrow_fill)]
    wide = is_wide[labels].astype(np.uint8)
    narrow = binary & (1 - wide)
    if not narrow.any():
        return [(wide, wide_fill)]
    reach = 2 * narrow_fill.radius + 3
    first = ~is_wide  # the narrow holes, and the wide ones near them
    first[labels[cv2.dilate(narrow, np.ones((reach, reach), np.uint8)) > 0]] = True
    first[0] = False
    return [(first[labels].astype(np.uint8), narrow_fill), (wide, wide_fill)]


def _diffuse(image: np.ndarray, runs: list[tuple[np.ndarray, Diffusion]]) -> np.ndarray:
    """``image`` (8-bit, or one float channel) filled by each of :func:`_diffusion_runs`' runs in turn."""
    for unknown, fill in runs:
        image = cv2.inpaint(image, unknown, fill.radius, getattr(cv2, fill.flag))
    return image
