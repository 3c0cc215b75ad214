"""Shared fixtures: small generated photos-like images, never real data."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

DATA = Path(__file__).parent / "data"


def smooth_image(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A smooth colourful uint8 RGB image: blurred noise plus a gradient (photo-like statistics)."""
    noise = rng.random((height, width, 3)).astype(np.float32)
    blurred = cv2.GaussianBlur(noise, (0, 0), max(height, width) / 12)
    blurred = (blurred - blurred.min()) / (np.ptp(blurred) + 1e-6)
    ramp = np.linspace(0, 1, width, dtype=np.float32)[None, :, None]
    return (np.clip(0.7 * blurred + 0.3 * ramp, 0, 1) * 255).astype(np.uint8)


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
