"""The default model shipped inside the gincli package: present, described, and trained."""

from __future__ import annotations

import numpy as np

from gincli.core.imagemath import to_unit_float
from gincli.core.inpainter import DEFAULT_MODEL, Inpainter
from gincli.core.metrics import mean_l1_percent
from tests.conftest import smooth_image


def test_bundled_model_is_in_the_package_and_small() -> None:
    assert DEFAULT_MODEL.is_file(), f"{DEFAULT_MODEL} is missing: the install has no default model"
    assert DEFAULT_MODEL.stat().st_size < 50 * 2**20


def test_bundled_model_loads_by_default_with_its_metadata() -> None:
    info = Inpainter(provider="cpu").engine.info
    assert info.ngf == 32 and info.precision == "fp32"
    assert info.step is not None and info.step > 0  # the last round's steps (it started from a trained model)
    assert len(info.source_sha256) == 64 and info.input_convention


def test_bundled_model_inpaints_a_256_image_better_than_a_flat_fill() -> None:
    image = smooth_image(np.random.default_rng(0), 256, 256)
    mask = np.zeros((256, 256), np.float32)
    mask[96:160, 80:176] = 1
    result = Inpainter(provider="cpu").inpaint(image, mask)
    assert result.shape == image.shape and result.dtype == np.uint8
    assert np.array_equal(result[mask == 0], image[mask == 0])
    flat = image.copy()
    flat[mask > 0] = image[mask == 0].mean(axis=0).astype(np.uint8)  # what an untrained fill amounts to
    error = lambda out: mean_l1_percent(to_unit_float(out), to_unit_float(image))  # noqa: E731
    # measured: 0.73 for the first bundled model; this one 0.72 network alone, 0.57 by --fill auto
    assert error(result) < 0.85 * error(flat)
