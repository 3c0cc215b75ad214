"""Shared fixtures: small generated photos-like images, never real data."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

if os.environ.get("PYTEST_XDIST_WORKER"):  # one thread per worker: two workers share two cores
    os.environ.setdefault("OMP_NUM_THREADS", "1")

import cv2
import numpy as np
import pytest

from gincli.core.hardware import return_free_memory
from gincli.testing.film_damage import damage_clip, pan_clip

if os.environ.get("PYTEST_XDIST_WORKER"):
    # and OpenCV's own pool too: the detector and track tests over two workers took 17.3-20.4 s
    # so, 20.7-21.7 s with its default pool; the whole suite the same within its spread (134-141
    # s against 137-138 in a slow hour)
    cv2.setNumThreads(1)

if TYPE_CHECKING:
    from train.config import TrainConfig

DATA = Path(__file__).parent / "data"


def smooth_image(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A smooth colourful uint8 RGB image: blurred noise plus a gradient (photo-like statistics)."""
    noise = rng.random((height, width, 3)).astype(np.float32)
    blurred = cv2.GaussianBlur(noise, (0, 0), max(height, width) / 12)
    blurred = (blurred - blurred.min()) / (np.ptp(blurred) + 1e-6)
    ramp = np.linspace(0, 1, width, dtype=np.float32)[None, :, None]
    return (np.clip(0.7 * blurred + 0.3 * ramp, 0, 1) * 255).astype(np.uint8)


def scratched_still_shot(
    picture: np.ndarray,
    rng: np.random.Generator,
    where: tuple,
    change: float,
    grain: float = 2.0,
    scratched: range = range(8, 17),
    count: int = 25,
) -> list[np.ndarray]:
    """``count`` frames of a still shot of ``picture`` (0-255) with grain from ``rng``, and in
    the ``scratched`` frames a scratch: ``change`` added at ``where``. By default 25 frames,
    scratched in 8-16: the frames 12 away from those see it missing."""
    frames = []
    for i in range(count):
        frame = picture + rng.normal(0, grain, picture.shape)
        if i in scratched:
            frame[where] += change
        frames.append(np.clip(frame, 0, 255).astype(np.uint8))
    return frames


@pytest.fixture
def image_folder(tmp_path: Path) -> Path:
    """Six small images (two in a sub-folder) in the formats training reads."""
    rng = np.random.default_rng(0)
    root = tmp_path / "images"
    (root / "sub").mkdir(parents=True)
    names = ["a.png", "b.jpg", "c.webp", "d.bmp", "sub/e.png", "sub/f.tiff"]
    for name in names:
        rgb = smooth_image(rng, 48 + 8 * len(name), 64)
        assert cv2.imwrite(str(root / name), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    return root


@pytest.fixture(autouse=True)
def _give_memory_back() -> Iterator[None]:
    """After each test, hand freed heap pages back to the system: two workers share the
    suite's 3 GB, and without this a worker keeps the high-water mark of every test it ran."""
    yield
    return_free_memory()


def tiny_config(data: Path, out: Path, **overrides: object) -> TrainConfig:
    """A training run of seconds. The ST-LPIPS network costs seconds to load and most of each
    step: it is off unless a test is about it (``perceptual_net="auto"``)."""
    from train.config import TrainConfig

    base = TrainConfig(
        data=str(data), out=str(out), ngf=8, ndf=8, load_size=48, crop_size=32, batch_size=2,
        warmup_steps=3, main_steps=5, num_workers=0, log_every=1, sample_every=4, checkpoint_every=4,
        perceptual_net="none",
    )  # fmt: skip
    return replace(base, **overrides)


def lively_generator(ngf: int, seed: int = 0):
    """Kaiming init x 0.4 (the release uses x 0.1): outputs of order 1, like a trained
    model's, so parity checks compare real signals."""
    import torch

    from train.generator import DeepGINGenerator

    torch.manual_seed(seed)
    g = DeepGINGenerator(ngf)
    for m in g.modules():
        if isinstance(m, torch.nn.Conv2d):
            torch.nn.init.kaiming_normal_(m.weight)
            m.weight.data.mul_(0.4)
            torch.nn.init.normal_(m.bias, std=0.05)
    # both output heads centred on mid-grey: without it the fill inside a hole came out negative and
    # was clamped to 0 (all but 0.3 % of the pixels of 30 % random holes, the rest under 0.01), so the
    # parity checks compared zeros, and an fp16 graph filling nothing passed its 1e-2 check
    g.r_de_conv5.bias.data.add_(0.5)
    g.r_de_conv3_lr.bias.data.add_(0.5)
    return g.eval()


@pytest.fixture(scope="session")
def exported(tmp_path_factory: pytest.TempPathFactory):
    """(checkpoint, ONNX model, generator) of a tiny width-8 model, exported once per session."""
    import torch

    from export.onnx_export import export_checkpoint

    root = tmp_path_factory.mktemp("export")
    generator = lively_generator(8)
    checkpoint = root / "run.pth"
    torch.save({"format": "deepgin-checkpoint", "generator": generator.state_dict(), "step": 42}, checkpoint)
    result = export_checkpoint(checkpoint, root / "model.onnx")
    assert result.verified and result.ngf == 8
    return checkpoint, result.path, generator


@pytest.fixture(scope="session")
def contract_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A stand-in with the exported model's contract, for tests of everything around the network."""
    from tests.contract_model import write_contract_model

    return write_contract_model(tmp_path_factory.mktemp("model") / "model.onnx")


def damaged_clip(seed: int) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
    """(clean frames, damaged frames, true damage) of a 256 x 192 pan with planted damage."""
    rng = np.random.default_rng(seed)
    clean = list(pan_clip(smooth_image(rng, 400, 500), 12, 256, 192, rng))
    planted = list(damage_clip(clean, rng))
    return clean, [p.image for p in planted], [p.truth for p in planted]
