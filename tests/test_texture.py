"""The texture step of ``--fill auto``: the patch search finds the neighbourhoods it is shown, the
detail it carries brings the grain of the picture into a smooth fill, and it touches nothing else."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from gincli.cli.main import main
from gincli.core.inpainter import Inpainter
from gincli.core.lazy import cv2
from gincli.core.model_contract import TILE
from gincli.core.texture import add_texture, nearest_patches, neighbourhood_descriptors
from tests.contract_model import write_passthrough_model


def grainy_picture(size: int = 128) -> np.ndarray:
    """A smooth gradient with a fine grain (seeded noise blurred to about 2 px), float32 in [0, 1]."""
    rng = np.random.default_rng(3)
    grain = cv2.GaussianBlur(rng.normal(0, 0.12, (size, size, 3)).astype(np.float32), (0, 0), 0.8)
    ramp = np.linspace(0.3, 0.7, size, dtype=np.float32)[None, :, None]
    return np.clip(ramp + grain, 0, 1).astype(np.float32)


def fine_detail(image: np.ndarray) -> np.ndarray:
    return image - cv2.GaussianBlur(image, (0, 0), 1.0)


def test_the_patch_search_finds_an_exact_copy_of_each_neighbourhood() -> None:
    """The target square is a copy of a square elsewhere (not itself a source): nearly every
    target pixel must be matched to its own original, which random guesses alone almost never hit."""
    rng = np.random.default_rng(0)
    image = grainy_picture()
    image[70:100, 70:100] = image[10:40, 20:50]
    sources = np.ones(image.shape[:2], bool)
    sources[60:110, 60:110] = False
    ty, tx = np.nonzero(np.pad(np.ones((22, 22), bool), ((74, 32), (74, 32))))  # the copy's inside
    my, mx = nearest_patches(neighbourhood_descriptors(image, rng), ty, tx, sources, rng)
    exact = (my == ty - 60) & (mx == tx - 50)
    assert exact.mean() > 0.95


def test_a_smooth_fill_gets_the_grain_of_the_picture_around_it_and_only_the_hole_changes() -> None:
    truth = grainy_picture()
    hole = np.zeros(truth.shape[:2], bool)
    hole[34:94, 34:94] = True
    smooth = np.where(hole[..., None], cv2.GaussianBlur(truth, (0, 0), 4.0), truth)
    textured = add_texture(smooth, hole, hole, strength=1.0)
    deep = np.zeros_like(hole)
    deep[48:80, 48:80] = True  # beyond the fade-in from the rim
    around = fine_detail(truth)[~hole].std()
    assert fine_detail(smooth)[deep].std() < 0.2 * around  # the fill alone is a blur
    assert fine_detail(textured)[deep].std() > 0.6 * around
    assert np.array_equal(textured[~hole], smooth[~hole])
    half = add_texture(smooth, hole, hole, strength=0.5)
    assert fine_detail(half)[deep].std() == pytest.approx(0.5 * fine_detail(textured)[deep].std(), rel=0.15)
    assert np.array_equal(add_texture(smooth, hole, hole, strength=1.0), textured)  # seeded
    assert add_texture(smooth, hole, hole, strength=0.0) is smooth


def test_auto_fill_adds_texture_to_wide_holes_at_the_chosen_strength(tmp_path: Path) -> None:
    """A pass-through stand-in returns the hole as it was given: flat grey inside a grainy picture.
    The default ``auto`` fill gives it grain; ``texture=0`` leaves it flat; outside the hole every
    pixel is the input's."""
    model = write_passthrough_model(tmp_path / "m.onnx", "white")
    image = np.round(np.tile(grainy_picture(), (2, 2, 1)) * 255).astype(np.uint8)
    assert image.shape[:2] == (TILE, TILE)
    mask = np.zeros((TILE, TILE), np.uint8)
    mask[70:190, 60:200] = 1
    hole = mask > 0
    image[hole] = 128
    deep = np.zeros_like(hole)
    deep[90:170, 80:180] = True
    flat = Inpainter(model, provider="cpu", texture=0.0).inpaint(image, mask)
    grainy = Inpainter(model, provider="cpu").inpaint(image, mask)
    detail = lambda a: fine_detail(a.astype(np.float32))[deep].std()  # noqa: E731
    assert detail(flat) < 1
    assert detail(grainy) > 0.25 * fine_detail(image.astype(np.float32))[~hole].std()
    assert np.array_equal(grainy[~hole], image[~hole])
    with pytest.raises(ValueError, match="texture"):
        Inpainter(model, provider="cpu", texture=1.5)


def test_texture_out_of_range_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["inpaint", str(tmp_path), "--auto-mask", "rect", "--texture", "2", "-o", "o"])
    assert result.exit_code == 2
    assert "--texture" in result.output


def test_photos_get_texture_by_default_and_video_does_not() -> None:
    """Grain copied afresh into each frame would flicker: ``gin video`` defaults to none."""
    from gincli.cli.inpaint import inpaint_command
    from gincli.cli.video import video_command
    from gincli.core.texture import TEXTURE_STRENGTH

    default = lambda command: next(p.default for p in command.params if p.name == "texture")  # noqa: E731
    assert default(video_command) == 0
    assert default(inpaint_command) == TEXTURE_STRENGTH > 0
