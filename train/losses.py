"""DeepGIN's losses: hole-weighted L1, hinge adversarial, feature matching, perceptual,
style and total variation (spec: shared/design/deepgin-architecture.md, "Losses")."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from train.config import LossWeights
from train.generator import GeneratorOutputs, resize_bilinear
from train.vgg import VGG19Features, perceptual_and_style

DiscriminatorOutput = list[list[torch.Tensor]]  # per scale, every layer's activations; last = patch map


def masked_l1(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor, hole: float, valid: float) -> torch.Tensor:
    """hole * mean(|pred - target| * M) + valid * mean(|pred - target| * (1 - M))."""
    diff = (pred - target).abs()
    return hole * (diff * mask).mean() + valid * (diff * (1.0 - mask)).mean()


def reconstruction_l1(out: GeneratorOutputs, target: torch.Tensor, mask: torch.Tensor, w: LossWeights) -> torch.Tensor:
    """L1 over the coarse output, the reconstruction and the x0.25 low-resolution head."""
    low_target, low_mask = resize_bilinear(target, 0.25), resize_bilinear(mask, 0.25)
    return (
        masked_l1(out.coarse, target, mask, w.hole, w.valid)
        + masked_l1(out.reconstructed, target, mask, w.hole, w.valid)
        + masked_l1(out.lowres, low_target, low_mask, w.hole, w.valid)
    )


def hinge_discriminator(real: DiscriminatorOutput, fake: DiscriminatorOutput) -> torch.Tensor:
    """Sum over scales of 0.5 * (relu(1 - D(real)) + relu(1 + D(fake)))."""
    return sum(0.5 * (F.relu(1.0 - r[-1]).mean() + F.relu(1.0 + f[-1]).mean()) for r, f in zip(real, fake, strict=True))  # type: ignore[return-value]


def hinge_generator(fake: DiscriminatorOutput) -> torch.Tensor:
    return sum(-f[-1].mean() for f in fake)  # type: ignore[return-value]


def feature_matching(real: DiscriminatorOutput, fake: DiscriminatorOutput) -> torch.Tensor:
    """L1 between D's intermediate activations on real and completed images, averaged over scales."""
    total = sum(
        F.l1_loss(f, r.detach())
        for r_scale, f_scale in zip(real, fake, strict=True)
        for r, f in zip(r_scale[:-1], f_scale[:-1], strict=True)
    )
    return total / len(real)  # type: ignore[return-value]


def total_variation(image: torch.Tensor) -> torch.Tensor:
    return (image[..., 1:, :] - image[..., :-1, :]).abs().mean() + (image[..., :, 1:] - image[..., :, :-1]).abs().mean()


def generator_losses(
    out: GeneratorOutputs,
    target: torch.Tensor,
    mask: torch.Tensor,
    w: LossWeights,
    d_fake: DiscriminatorOutput,
    d_real: DiscriminatorOutput,
    vgg: VGG19Features | None = None,
) -> dict[str, torch.Tensor]:
    """The main stage's generator terms, each weighted, plus their sum under ``total``.
    Feature matching runs when its weight is positive, the VGG terms when ``vgg`` is given."""
    terms = {
        "l1": reconstruction_l1(out, target, mask, w),
        "adv": w.adversarial * hinge_generator(d_fake),
        "tv": w.tv * total_variation(out.completed),
    }
    if w.feature_matching > 0:
        terms["fm"] = w.feature_matching * feature_matching(d_real, d_fake)
    if vgg is not None:
        perceptual, style = perceptual_and_style(vgg, [out.reconstructed, out.completed], target)
        terms["perceptual"] = w.perceptual * perceptual
        terms["style"] = w.style * style
    terms["total"] = sum(terms.values())  # type: ignore[assignment]
    return terms
