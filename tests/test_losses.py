"""Loss terms against hand-computed values, and VGG-19 weights loading by path."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from train.config import LossWeights, TrainConfig
from train.generator import GeneratorOutputs
from train.losses import (
    feature_matching,
    generator_losses,
    hinge_discriminator,
    hinge_generator,
    hole_edge_band,
    masked_l1,
    reconstruction_l1,
    total_variation,
)
from train.vgg import VGG19Features, gram_matrix, load_vgg19


def test_masked_l1_weights_hole_and_valid_pixels() -> None:
    pred = torch.zeros(1, 1, 2, 2)
    target = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    mask = torch.tensor([[[[1.0, 0.0], [0.0, 0.0]]]])
    # hole: |0-1| = 1 over 4 pixels -> 0.25, x5; valid: (2+3+4)/4 = 2.25
    assert masked_l1(pred, target, mask, 5.0, 1.0).item() == pytest.approx(5 * 0.25 + 2.25)


def test_hinge_losses() -> None:
    real = [[torch.tensor([2.0, 0.5])], [torch.tensor([-1.0])]]
    fake = [[torch.tensor([-2.0, 0.0])], [torch.tensor([1.0])]]
    # scale 0: real relu(1-2)=0, relu(1-.5)=.5 -> .25; fake relu(1-2)=0, relu(1)=1 -> .5; x0.5 -> .375
    # scale 1: real relu(2)=2; fake relu(2)=2 -> 0.5*(4) = 2
    assert hinge_discriminator(real, fake).item() == pytest.approx(0.375 + 2.0)
    assert hinge_generator(fake).item() == pytest.approx(1.0 - 1.0)


def test_feature_matching_ignores_the_final_map_and_averages_scales() -> None:
    real = [[torch.zeros(2), torch.zeros(1)], [torch.zeros(2), torch.zeros(1)]]
    fake = [[torch.ones(2), torch.full((1,), 9.0)], [torch.full((2,), 3.0), torch.full((1,), 9.0)]]
    assert feature_matching(real, fake).item() == pytest.approx((1 + 3) / 2)


def test_total_variation_of_a_ramp() -> None:
    ramp = torch.arange(4.0).view(1, 1, 1, 4).expand(1, 1, 3, 4)
    assert total_variation(ramp).item() == pytest.approx(1.0)
    assert total_variation(torch.ones(1, 3, 5, 5)).item() == 0.0


def test_gram_matrix_normalisation() -> None:
    f = torch.ones(1, 2, 3, 3)
    assert torch.allclose(gram_matrix(f), torch.full((1, 2, 2), 9.0 / 18.0))


def test_generator_losses_are_weighted_and_summed() -> None:
    image, mask = torch.rand(2, 3, 16, 16), (torch.rand(2, 1, 16, 16) > 0.5).float()
    out = GeneratorOutputs(
        image.clone(),
        image.clone(),
        image.clone(),
        torch.nn.functional.interpolate(image, scale_factor=0.25, mode="bilinear", align_corners=True),
    )
    d = [[torch.rand(2, 4), torch.full((2, 1), 2.0)]]
    weights = LossWeights(adversarial=0.5, tv=0.0, feature_matching=0.25)
    terms = generator_losses(out, image, mask, weights, d, [[torch.zeros(2, 4), torch.zeros(2, 1)]])
    assert terms["l1"].item() == pytest.approx(0.0, abs=1e-7)
    assert terms["adv"].item() == pytest.approx(-1.0)
    assert terms["fm"].item() == pytest.approx(0.25 * d[0][0].mean().item())
    assert terms["total"].item() == pytest.approx(sum(v.item() for k, v in terms.items() if k != "total"))


def test_torchvision_layout_vgg19_weights_load_by_path(tmp_path: Path) -> None:
    reference = VGG19Features()
    # a torchvision vgg19 file also carries the classifier and the layers past relu5_1
    # (the classifier's 4096 x 25088 shrunk here: the loader must skip it whatever its size)
    state = {f"features.{k}": torch.randn_like(v) for k, v in reference.features.state_dict().items()}
    state |= {"features.34.weight": torch.zeros(512, 512, 3, 3), "classifier.0.weight": torch.zeros(4096, 8)}
    torch.save(state, tmp_path / "vgg19.pth")
    vgg = load_vgg19(tmp_path / "vgg19.pth")
    assert torch.equal(vgg.features[28].weight, state["features.28.weight"])
    feats = vgg(torch.rand(1, 3, 32, 32))
    assert [f.shape[1] for f in feats] == [64, 128, 256, 512, 512]


def test_wrong_vgg_file_is_named(tmp_path: Path) -> None:
    torch.save({"features.0.weight": torch.zeros(64, 3, 3, 3)}, tmp_path / "partial.pth")
    with pytest.raises(ValueError, match=r"partial\.pth: not a torchvision VGG-19"):
        load_vgg19(tmp_path / "partial.pth")


def test_perceptual_network_choice_and_status() -> None:
    plain = TrainConfig(data="d", out="o")
    assert plain.perceptual_choice(stlpips_installed=True) == ("stlpips", 1.0, 40.0)
    assert plain.perceptual_choice(stlpips_installed=False)[0] == "none"
    assert plain.perceptual_status(stlpips_installed=False).startswith("OFF: no perceptual network")
    with_vgg = TrainConfig(data="d", out="o", vgg_weights="v.pth")
    assert with_vgg.perceptual_choice(stlpips_installed=True) == ("vgg19", 0.05, 80.0)
    assert with_vgg.perceptual_status(stlpips_installed=True).startswith("on: VGG-19")
    weighted = TrainConfig(data="d", out="o", losses=LossWeights(perceptual=0.0, style=0.0))
    assert weighted.perceptual_status(stlpips_installed=True) == "OFF: switched off by the options"


def test_edge_band_is_the_hole_rim_and_weighs_edge_errors() -> None:
    mask = torch.zeros(1, 1, 12, 12)
    mask[..., 2:10, 2:10] = 1.0
    band = hole_edge_band(mask, 2)
    assert band[0, 0, 2:4, 2:10].eq(1).all() and band[0, 0, 4:8, 4:8].eq(0).all()
    assert band[0, 0, :2].eq(0).all()  # nothing outside the hole
    assert int(band.sum()) == 64 - 16
    target = torch.zeros(1, 3, 12, 12)
    error_at_rim, error_inside = target.clone(), target.clone()
    error_at_rim[..., 2, 5] = 1.0
    error_inside[..., 5, 5] = 1.0
    weights = LossWeights(edge=10.0, edge_width=2)

    def loss(pred: torch.Tensor) -> float:
        low = torch.nn.functional.interpolate(target, scale_factor=0.25, mode="bilinear", align_corners=True)
        return float(reconstruction_l1(GeneratorOutputs(pred, pred, pred, low), target, mask, weights))

    assert loss(error_at_rim) > 2 * loss(error_inside)
    assert loss(error_inside) == pytest.approx(float(reconstruction_l1(
        GeneratorOutputs(error_inside, error_inside, error_inside, target[..., :3, :3]), target, mask,
        LossWeights(edge=0.0))))  # fmt: skip
