"""The harmonic rim correction of ``--fill auto``: the Laplace solver, the offset it adds, and
that the inpainter applies it to the network's fill of wide holes and nowhere else."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gincli.core.harmonic import continue_rim, rim, solve_laplace
from gincli.core.inpainter import Inpainter
from gincli.core.model_contract import TILE
from gincli.masks.families import FAMILIES
from tests.conftest import smooth_image
from tests.contract_model import write_passthrough_model


def test_laplace_solution_is_a_plane_where_the_rim_is_one() -> None:
    """A plane is harmonic: given its values on the rim of a large hole, the solver must give it
    back inside (coarse levels alone are off by several levels of 255)."""
    rows, cols = np.mgrid[:200, :240].astype(np.float32)
    plane = (0.1 + 0.003 * cols + 0.002 * rows)[..., None]
    hole = np.zeros((200, 240), bool)
    hole[30:180, 20:220] = True
    edge = rim(hole)
    solved = solve_laplace(np.where(edge[..., None], plane, 0).astype(np.float32), hole, edge)
    assert np.abs(solved - plane)[hole].max() < 0.005
    assert np.array_equal(solved[edge], plane[edge])


def exact_laplace(values: np.ndarray, unknown: np.ndarray) -> np.ndarray:
    """The discrete Laplace equation at the ``unknown`` pixels solved directly (scipy's sparse
    LU): neighbours outside the array mirror the pixel itself, as the solver's borders do."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.linalg import spsolve

    height, width = unknown.shape
    index = -np.ones(unknown.shape, int)
    index[unknown] = np.arange(np.count_nonzero(unknown))
    rows, cols, data, rhs = [], [], [], np.zeros(np.count_nonzero(unknown))
    for k, (y, x) in enumerate(zip(*np.nonzero(unknown), strict=True)):
        rows.append(k), cols.append(k), data.append(4.0)
        for ny, nx in ((y + 1, x), (y - 1, x), (y, x + 1), (y, x - 1)):
            if not (0 <= ny < height and 0 <= nx < width):
                rows.append(k), cols.append(k), data.append(-1.0)
            elif unknown[ny, nx]:
                rows.append(k), cols.append(index[ny, nx]), data.append(-1.0)
            else:
                rhs[k] += values[ny, nx]
    return spsolve(coo_matrix((data, (rows, cols)), shape=(len(rhs), len(rhs))).tocsr(), rhs)


def test_laplace_solution_equals_the_direct_one_on_brush_strokes_at_the_border() -> None:
    """Rough rim values (noise) on free-form strokes that run off a 121 x 143 image (odd sizes:
    the coarser levels pad): more V-cycles must converge to the direct solution, and the
    default count come close."""
    rng = np.random.default_rng(4)
    hole = FAMILIES["freeform"].draw(121, 143, rng) > 0
    edge = rim(hole)
    values = np.zeros((121, 143, 1), np.float32)
    values[edge, 0] = rng.random(np.count_nonzero(edge))
    exact = exact_laplace(values[..., 0], hole)
    assert np.abs(solve_laplace(values, hole, edge, cycles=12)[hole][:, 0] - exact).max() < 1e-3
    assert np.abs(solve_laplace(values, hole, edge)[hole][:, 0] - exact).max() < 0.05


def test_a_fill_off_in_level_is_brought_to_the_level_around_each_hole() -> None:
    truth = smooth_image(np.random.default_rng(3), 160, 200)
    unit = truth.astype(np.float32) / 255
    hole = np.zeros((160, 200), bool)
    hole[20:90, 30:110] = True
    hole[110:150, 120:190] = True  # a second hole, off the other way: each gets its own offset
    fill = unit.copy()
    fill[20:90, 30:110] += 0.2
    fill[110:150, 120:190] -= 0.15
    got = continue_rim(truth, fill, hole)
    assert np.abs(got - unit)[hole].mean() < 0.01 and np.abs(got - unit)[hole].max() < 0.03
    assert np.array_equal(got[~hole], fill[~hole])  # outside the holes: the fill as it was


def test_auto_fill_meets_the_level_around_a_wide_hole_and_network_fill_does_not(tmp_path: Path) -> None:
    """A pass-through stand-in returns the hole as the network is given it, white, in a grey
    picture: a fill far off the level around it. ``auto`` must bring it to the picture's level;
    ``network`` is the network alone."""
    model = write_passthrough_model(tmp_path / "m.onnx", "white")
    image = np.full((TILE, TILE, 3), 90, np.uint8)
    mask = np.zeros((TILE, TILE), np.uint8)
    mask[60:180, 40:200] = 1  # wide everywhere
    hole = mask > 0
    image[hole] = 250
    network = Inpainter(model, provider="cpu", fill="network").inpaint(image, mask)
    auto = Inpainter(model, provider="cpu", fill="auto").inpaint(image, mask)
    assert (network[hole] == 255).all()  # not the 250 the hole held
    assert np.abs(auto[hole].astype(int) - 90).max() <= 1
    assert np.array_equal(auto[~hole], image[~hole])
