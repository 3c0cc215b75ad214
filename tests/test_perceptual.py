"""ST-LPIPS: our re-implementation against the stlpips-pytorch package's own network code,
run on the same weights file (its torchvision, IPython and torchsummary imports stubbed:
the shift-tolerant VGG path uses none of them)."""

from __future__ import annotations

import importlib
import sys
import types

import pytest
import torch

from train.perceptual import installed_weights, load_stlpips


@pytest.fixture(scope="module")
def reference_lpips() -> torch.nn.Module:
    if installed_weights() is None:
        pytest.fail("stlpips-pytorch is not installed (it is part of the train extra)")
    stubs = {
        "torchvision": types.ModuleType("torchvision"),
        "IPython": types.ModuleType("IPython"),
        "torchsummary": types.ModuleType("torchsummary"),
    }
    stubs["torchvision"].models = types.ModuleType("torchvision.models")  # type: ignore[attr-defined]
    stubs["IPython"].embed = lambda *a, **k: None  # type: ignore[attr-defined]
    stubs["torchsummary"].summary = lambda *a, **k: None  # type: ignore[attr-defined]
    saved = {name: sys.modules.get(name) for name in stubs}
    sys.modules.update(stubs)
    try:
        stlpips = importlib.import_module("stlpips_pytorch.stlpips")
        model = stlpips.LPIPS(net="vgg", variant="shift_tolerant", verbose=False)
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module
    return model.eval()


def test_features_and_distance_match_the_package(reference_lpips: torch.nn.Module) -> None:
    ours = load_stlpips()
    generator = torch.Generator().manual_seed(0)
    a = torch.rand(2, 3, 64, 64, generator=generator)
    b = (a + 0.1 * torch.randn(2, 3, 64, 64, generator=generator)).clamp(0, 1)
    with torch.no_grad():
        want_feats = reference_lpips.net.forward(reference_lpips.scaling_layer(2 * a - 1))
        got_feats = ours.features(a)
        for got, want in zip(got_feats, want_feats, strict=True):
            assert got.shape == want.shape
            torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-4)
        want = reference_lpips(a, b, normalize=True).flatten()
        got = ours(a, b)
    torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-6)
    assert float(got.min()) > 1e-3  # a real difference, not two zeros agreeing


def test_distance_grows_with_damage() -> None:
    net = load_stlpips()
    image = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(1))
    blurred = torch.nn.functional.avg_pool2d(image, 5, 1, 2, count_include_pad=False)
    with torch.no_grad():
        assert float(net(image, image)) == pytest.approx(0.0, abs=1e-6)
        assert float(net(image, blurred)) > 0.05


def test_eval_distances_are_the_pairwise_ones_in_batches_of_any_size(monkeypatch: pytest.MonkeyPatch) -> None:
    import numpy as np

    from train import perceptual

    net = load_stlpips()
    rng = np.random.default_rng(2)
    reference = rng.random((48, 48, 3), dtype=np.float32)
    images = [np.clip(reference + rng.normal(0, s, reference.shape), 0, 1).astype(np.float32) for s in (0.05, 0.1, 0.2)]
    as_tensor = lambda x: torch.from_numpy(x.transpose(2, 0, 1).copy())[None]  # noqa: E731
    with torch.no_grad():
        pairwise = [float(net(as_tensor(image), as_tensor(reference))) for image in images]
    for pixels in (1 << 20, 48 * 48 * 2):  # all in one batch; two, then one
        monkeypatch.setattr(perceptual, "BATCH_PIXELS", pixels)
        assert perceptual.numpy_distances()(images, reference) == pytest.approx(pairwise, rel=1e-5)
    assert pairwise[0] < pairwise[1] < pairwise[2]
