"""VGG-19 feature extractor for the perceptual and style losses.

The layers reproduce torchvision's ``vgg19().features`` index for index, so a
torchvision weights file (``vgg19-dcbb9e9d.pth``, keys ``features.<i>.*``) loads
from a path. Nothing is downloaded: without a file these losses are off.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

# torchvision's configuration "E"; "M" is a 2x2 max pool
VGG19_LAYOUT = (64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M")
# indices of relu1_1, relu2_1, relu3_1, relu4_1, relu5_1 in ``features``
FEATURE_LAYERS = (1, 6, 11, 20, 29)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class VGG19Features(nn.Module):
    """Frozen VGG-19 trunk returning the five relu_1 activations of an image in [0, 1]."""

    def __init__(self) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels = 3
        for item in VGG19_LAYOUT:
            if item == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [nn.Conv2d(channels, int(item), 3, padding=1), nn.ReLU(inplace=True)]
                channels = int(item)
        # layers past relu5_1 are never evaluated; keep the indices, drop the tail
        self.features = nn.Sequential(*layers[: FEATURE_LAYERS[-1] + 1])
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))
        self.requires_grad_(False)
        self.eval()

    def forward(self, image: torch.Tensor) -> list[torch.Tensor]:
        x = (image - self.mean) / self.std
        outputs = []
        for i, layer in enumerate(self.features):
            x = layer(x)
            if i in FEATURE_LAYERS:
                outputs.append(x)
        return outputs


def load_vgg19(path: str | Path) -> VGG19Features:
    """Load torchvision-layout VGG-19 weights from ``path``; a clear error if they don't fit."""
    path = Path(path)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for a non-torch file
        raise ValueError(f"{path}: not a readable torch weights file ({exc.__class__.__name__}: {exc})") from exc
    model = VGG19Features()
    wanted = {k: v for k, v in state.items() if k.startswith("features.")} if isinstance(state, dict) else {}
    missing = [k for k in model.features.state_dict() if f"features.{k}" not in wanted]
    if missing:
        raise ValueError(
            f"{path}: not a torchvision VGG-19 weights file (missing {len(missing)} keys such as features.{missing[0]})"
        )
    model.features.load_state_dict(
        {k[len("features.") :]: wanted[k] for k in (f"features.{m}" for m in model.features.state_dict())}
    )
    return model


def gram_matrix(features: torch.Tensor) -> torch.Tensor:
    """Gram matrix normalised by C * H * W (the paper's style loss)."""
    n, c, h, w = features.shape
    flat = features.reshape(n, c, h * w)
    return flat @ flat.transpose(1, 2) / (c * h * w)


def perceptual_and_style(
    vgg: VGG19Features, images: list[torch.Tensor], target: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Sum over ``images`` of the L1 feature distance and L1 Gram distance to ``target``."""
    target_feats = [f.detach() for f in vgg(target)]
    perceptual = target.new_zeros(())
    style = target.new_zeros(())
    for image in images:
        for f, t in zip(vgg(image), target_feats, strict=True):
            perceptual = perceptual + F.l1_loss(f, t)
            style = style + F.l1_loss(gram_matrix(f), gram_matrix(t))
    return perceptual, style
