"""DeepGIN's losses: hole-weighted L1, hinge adversarial, feature matching, perceptual,
style and total variation (as the paper and the authors' release define them)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from train import perceptual, vgg
from train.config import LossWeights
from train.generator import GeneratorOutputs, resize_bilinear

DiscriminatorOutput = list[list[torch.Tensor]]  # per scale, every layer's activations; last = patch map


def masked_l1(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor, hole: float, valid: float) -> torch.Tensor:
    """hole * mean(|pred - target| * M) + valid * mean(|pred - target| * (1 - M))."""
    diff = (pred - target).abs()
    return hole * (diff * mask).mean() + valid * (diff * (1.0 - mask)).mean()


def hole_edge_band(mask: torch.Tensor, width: int) -> torch.Tensor:
    """1 on hole pixels within ``width`` px (chessboard distance) of a valid pixel, else 0."""
    if width <= 0:
        return torch.zeros_like(mask)
    near_valid = F.max_pool2d(1.0 - mask, 2 * width + 1, stride=1, padding=width)
    return mask * near_valid


def reconstruction_l1(out: GeneratorOutputs, target: torch.Tensor, mask: torch.Tensor, w: LossWeights) -> torch.Tensor:
    """L1 over the coarse output, the reconstruction and the x0.25 low-resolution head, plus
    the extra weight ``w.edge`` on the band of hole pixels next to valid ones.

    Why the edge term: measured on held-out photos, the first bundled model's error 0-2 px
    inside a hole was 1.7x Telea's (18.0 vs 10.7 levels) while deep inside it matched Telea,
    and G1's coarse output already had it. A plain mean over the hole gives the band a few
    per cent of the loss, so the fill's continuation of the surrounding level is learnt last.
    """
    low_target, low_mask = resize_bilinear(target, 0.25), resize_bilinear(mask, 0.25)
    edge = hole_edge_band(mask, w.edge_width) if w.edge > 0 else None
    edge_terms = sum(
        w.edge * ((pred - target).abs() * edge).mean() for pred in (out.coarse, out.reconstructed)
    ) if edge is not None else 0.0  # fmt: skip
    return (
        edge_terms
        + masked_l1(out.coarse, target, mask, w.hole, w.valid)
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


@dataclass
class PerceptualTerms:
    """Perceptual and style terms from a frozen network: ST-LPIPS (on the completed image: its
    VGG16 costs more than the generator on a CPU) or VGG-19 (the paper's: on I_out and I_compl).
    Always in fp32: on CPUs without native bf16 the network runs 60x slower under autocast."""

    net: nn.Module
    perceptual_weight: float
    style_weight: float
    scale: float = 1.0  # images are resized by this first (0.5: a quarter of the cost)

    def __call__(self, out: GeneratorOutputs, target: torch.Tensor) -> dict[str, torch.Tensor]:
        def prepare(image: torch.Tensor) -> torch.Tensor:
            image = image.float()
            return image if self.scale == 1.0 else F.interpolate(image, scale_factor=self.scale, mode="area")

        with torch.autocast(target.device.type, enabled=False):
            if isinstance(self.net, perceptual.ShiftTolerantLPIPS):
                p, s = perceptual.perceptual_and_style(self.net, [prepare(out.completed)], prepare(target))
            else:
                p, s = vgg.perceptual_and_style(self.net, [prepare(out.reconstructed), prepare(out.completed)],
                                                prepare(target))  # fmt: skip
        return {"perceptual": self.perceptual_weight * p, "style": self.style_weight * s}


def generator_losses(
    out: GeneratorOutputs,
    target: torch.Tensor,
    mask: torch.Tensor,
    w: LossWeights,
    d_fake: DiscriminatorOutput,
    d_real: DiscriminatorOutput,
    perceptual_terms: PerceptualTerms | None = None,
) -> dict[str, torch.Tensor]:
    """The main stage's generator terms, each weighted, plus their sum under ``total``.
    Feature matching runs when its weight is positive, perceptual and style when given."""
    terms = {
        "l1": reconstruction_l1(out, target, mask, w),
        "adv": w.adversarial * hinge_generator(d_fake),
        "tv": w.tv * total_variation(out.completed),
    }
    if w.feature_matching > 0:
        terms["fm"] = w.feature_matching * feature_matching(d_real, d_fake)
    if perceptual_terms is not None:
        terms.update(perceptual_terms(out, target))
    terms["total"] = sum(terms.values())  # type: ignore[assignment]
    return terms
