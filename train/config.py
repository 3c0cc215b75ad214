"""Typed training configuration. Torch-free, so ``gin train --help`` works without torch."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from gincli.masks.families import PAPER_FAMILIES


@dataclass
class LossWeights:
    """The paper's weights (Eq. 1-7); feature matching is the release's optional term, off there too."""

    hole: float = 5.0
    valid: float = 1.0
    edge: float = 10.0  # extra L1 weight on hole pixels within edge_width of the boundary; 0 = the paper
    edge_width: int = 4
    adversarial: float = 0.001
    perceptual: float | None = None  # None: the chosen perceptual network's default (PERCEPTUAL_DEFAULTS)
    style: float | None = None
    tv: float = 0.1
    feature_matching: float = 0.0


# perceptual network -> default (perceptual, style) weights. vgg19: the paper's, for L1 between
# VGG-19 features; stlpips: the ST-LPIPS distance (about 0.6 for a 9 px box blur, 0.3 for
# 5% noise) and Gram matrices of its VGG16 trunk, weighted so that on a blurred fill they are
# of the order of the hole L1 term.
PERCEPTUAL_DEFAULTS = {"vgg19": (0.05, 80.0), "stlpips": (1.0, 40.0)}
PERCEPTUAL_NETS = ("auto", "stlpips", "vgg19", "none")
PRECISIONS = ("auto", "fp32", "bf16")
PAPER_WIDTH = 64  # the paper's generator width (ngf), whose weights the authors released


@dataclass
class TrainConfig:
    data: str
    out: str
    ngf: int | None = None  # generator width; None: init_from's, else PAPER_WIDTH
    ndf: int = 64
    load_size: int = 512
    crop_size: int = 256
    batch_size: int = 4  # images per step; each is masked three ways, so 3x samples
    warmup_epochs: int = 10
    main_epochs: int = 100
    warmup_steps: int | None = None  # overrides warmup_epochs when set
    main_steps: int | None = None  # overrides main_epochs when set
    decay_fraction: float = 0.9  # learning rates fall linearly to zero over this last share of the main stage
    lr_g: float = 1e-4
    lr_d: float = 4e-4
    beta1: float = 0.5
    beta2: float = 0.999
    grad_clip: float = 3.0
    ema_decay: float = 0.0  # exported weights: an exponential moving average of G's (0: G's own, the paper)
    init_scale: float = 0.1  # the release's small init; see DeepGINGenerator.reset_parameters
    mask_families: tuple[str, ...] = PAPER_FAMILIES  # each image is masked once per family
    init_from: str | None = None  # start G (and D, from our checkpoints) from these weights; fine-tuning
    hole_fill: str | None = None  # what G reads inside the hole (HOLE_FILLS); None: init_from's, else "white"
    losses: LossWeights = field(default_factory=LossWeights)
    vgg_weights: str | None = None
    perceptual_scale: float = 1.0  # the perceptual network sees images resized by this (0.5: 4x cheaper)
    perceptual_net: str = "auto"  # auto: vgg19 with --vgg-weights, else stlpips when installed, else none
    precision: str = "auto"  # auto: bf16 autocast where the hardware computes bf16 natively, else fp32
    seed: int = 0
    num_workers: int = 2
    log_every: int = 10
    sample_every: int = 500
    checkpoint_every: int = 1000
    device: str = "auto"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        data = dict(data)
        data["losses"] = LossWeights(**data.get("losses", {}))
        if "mask_families" in data:
            data["mask_families"] = tuple(data["mask_families"])
        return cls(**data)

    def perceptual_choice(self, stlpips_installed: bool) -> tuple[str, float, float]:
        """(network, perceptual weight, style weight); network "none" when the terms are off."""
        net = self.perceptual_net
        if net == "auto":
            net = "vgg19" if self.vgg_weights else "stlpips" if stlpips_installed else "none"
        if net == "none":
            return "none", 0.0, 0.0
        perceptual, style = PERCEPTUAL_DEFAULTS[net]
        perceptual = perceptual if self.losses.perceptual is None else self.losses.perceptual
        style = style if self.losses.style is None else self.losses.style
        if perceptual == 0 and style == 0:
            return "none", 0.0, 0.0
        return net, perceptual, style

    def perceptual_status(self, stlpips_installed: bool) -> str:
        net, perceptual, style = self.perceptual_choice(stlpips_installed)
        if net == "stlpips":
            return f"on: ShiftTolerant-LPIPS VGG16 (perceptual {perceptual:g}, style {style:g})"
        if net == "vgg19":
            return f"on: VGG-19 from {self.vgg_weights} (perceptual {perceptual:g}, style {style:g})"
        if self.perceptual_net == "none" or (self.losses.perceptual == 0 and self.losses.style == 0):
            return "OFF: switched off by the options"
        return "OFF: no perceptual network (pip install stlpips-pytorch, or pass --vgg-weights)"
