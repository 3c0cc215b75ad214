"""Typed training configuration. Torch-free, so ``gin train --help`` works without torch."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class LossWeights:
    """The paper's weights (Eq. 1-7); feature matching is the release's optional term, off there too."""

    hole: float = 5.0
    valid: float = 1.0
    adversarial: float = 0.001
    perceptual: float = 0.05
    style: float = 80.0
    tv: float = 0.1
    feature_matching: float = 0.0


@dataclass
class TrainConfig:
    data: str
    out: str
    ngf: int = 64
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
    init_scale: float = 0.1  # the release's small init; see DeepGINGenerator.reset_parameters
    mask_families: tuple[str, ...] = ("rect", "freeform", "ca")  # each image is masked once per family
    init_from: str | None = None  # start G (and D, from our checkpoints) from these weights; fine-tuning
    losses: LossWeights = field(default_factory=LossWeights)
    vgg_weights: str | None = None
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

    @property
    def vgg_losses_enabled(self) -> bool:
        return self.vgg_weights is not None and (self.losses.perceptual > 0 or self.losses.style > 0)

    def vgg_status(self) -> str:
        if self.vgg_losses_enabled:
            return f"on (VGG-19 weights from {self.vgg_weights})"
        if self.vgg_weights is None:
            return "OFF: no --vgg-weights file given (no weights can be downloaded), so perceptual and style terms are skipped"
        return "OFF: perceptual and style weights are zero"
