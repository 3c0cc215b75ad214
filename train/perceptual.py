"""ShiftTolerant-LPIPS (Ghildyal and Liu, ECCV 2022): a perceptual distance, and the
perceptual and style losses built on its VGG16 trunk.

The weights come from the ``stlpips-pytorch`` distribution (BSD-2), located through
its metadata: its own module imports torchvision, which cannot be used beside our
torch, so the network is written here. It is VGG16's convolutions with anti-aliased
pooling (a stride-1 2 x 2 max-pool, then reflection padding 2 and a 3 x 3 binomial
blur with stride 2), and LPIPS heads: per layer, channel-normalised features,
squared difference, a learned 1 x 1 weighting, spatial mean; summed over five layers.
Input: RGB in [0, 1] (mapped to [-1, 1], then LPIPS' scaling layer).
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from train.vgg import gram_matrix

DISTRIBUTION = "stlpips-pytorch"
WEIGHTS_IN_DISTRIBUTION = "stlpips_pytorch/weights/vST0.0/vgg_shift_tolerant.pth"
VGG16_LAYOUT = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512)
# the trunk's layers are indexed as in the release (each "M" is two layers: max-pool, blur);
# features are taken after these ReLUs: relu1_2, relu2_2, relu3_3, relu4_3, relu5_3
FEATURE_LAYERS = (3, 9, 17, 25, 33)
CHANNELS = (64, 128, 256, 512, 512)


class AntiAliasedDownsample(nn.Module):
    """Reflection pad 2, then a fixed 3 x 3 binomial blur ([1, 2, 1] outer product) with stride 2, per channel."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        taps = torch.tensor([1.0, 2.0, 1.0])
        kernel = taps[:, None] * taps[None, :]
        self.register_buffer("filt", (kernel / kernel.sum()).expand(channels, 1, 3, 3).clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # in fp32 even under autocast: CPU depthwise convolutions in bf16 are ~50x slower than in fp32
        with torch.autocast(x.device.type, enabled=False):
            x = F.pad(x.float(), (2, 2, 2, 2), mode="reflect")
            return F.conv2d(x, self.filt, stride=2, groups=x.shape[1])


def shift_tolerant_vgg16() -> nn.Sequential:
    layers: list[nn.Module] = []
    channels = 3
    for item in VGG16_LAYOUT:
        if item == "M":
            layers += [nn.MaxPool2d(2, stride=1), AntiAliasedDownsample(channels)]
        else:
            layers += [nn.Conv2d(channels, int(item), 3, padding=1), nn.ReLU()]
            channels = int(item)
    return nn.Sequential(*layers)


BATCH_PIXELS = 1 << 20  # numpy_distances' batch size, in pixels


class ShiftTolerantLPIPS(nn.Module):
    """Frozen ST-LPIPS (VGG16 variant). ``features(x)`` gives the five trunk activations,
    ``forward(a, b)`` the per-sample distance (N,)."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("shift", torch.zeros(1, 3, 1, 1))
        self.register_buffer("scale", torch.ones(1, 3, 1, 1))
        self.trunk = shift_tolerant_vgg16()
        self.heads = nn.ModuleList(nn.Conv2d(c, 1, 1, bias=False) for c in CHANNELS)
        self.requires_grad_(False)
        self.eval()

    def features(self, image: torch.Tensor) -> list[torch.Tensor]:
        x = ((2.0 * image - 1.0) - self.shift) / self.scale
        out = []
        for i, layer in enumerate(self.trunk):
            x = layer(x)
            if i in FEATURE_LAYERS:
                out.append(x)
            if i == FEATURE_LAYERS[-1]:
                break
        return out

    def distance(self, feats_a: list[torch.Tensor], feats_b: list[torch.Tensor]) -> torch.Tensor:
        total = feats_a[0].new_zeros(feats_a[0].shape[0])
        for head, a, b in zip(self.heads, feats_a, feats_b, strict=True):
            diff = (_unit_channels(a) - _unit_channels(b)) ** 2
            total = total + head(diff).mean(dim=(1, 2, 3))
        return total

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return self.distance(self.features(a), self.features(b))


def _unit_channels(features: torch.Tensor, eps: float = 1e-10) -> torch.Tensor:
    return features / (features.pow(2).sum(dim=1, keepdim=True).sqrt() + eps)


def installed_weights() -> Path | None:
    """The ST-LPIPS VGG weights file of the installed ``stlpips-pytorch``, or None if absent."""
    try:
        path = Path(str(metadata.distribution(DISTRIBUTION).locate_file(WEIGHTS_IN_DISTRIBUTION)))
    except metadata.PackageNotFoundError:
        return None
    return path if path.is_file() else None


def load_stlpips(path: str | Path | None = None) -> ShiftTolerantLPIPS:
    """Load the weights (from ``path``, else from the installed distribution) into our module."""
    path = Path(path) if path is not None else installed_weights()
    if path is None:
        raise FileNotFoundError(
            f"ST-LPIPS weights not found: install them with `pip install {DISTRIBUTION}` (the train extra does)"
        )
    state = torch.load(path, map_location="cpu", weights_only=True)
    model = ShiftTolerantLPIPS()
    mapped = {"shift": state["scaling_layer.shift"], "scale": state["scaling_layer.scale"]}
    for key, value in state.items():
        if key.startswith("net.slice"):  # net.slice<k>.<layer index>.<param>
            _, _, index, param = key.split(".")
            mapped[f"trunk.{index}.{param}"] = value
        elif key.startswith("lin"):  # lin<k>.model.1.weight
            mapped[f"heads.{key[3]}.weight"] = value
    model.load_state_dict(mapped)
    return model


def perceptual_and_style(
    net: ShiftTolerantLPIPS, images: list[torch.Tensor], target: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Sum over ``images`` of the mean ST-LPIPS distance to ``target``, and of the L1 distance
    between the Gram matrices of their trunk features."""
    with torch.no_grad():
        target_feats = net.features(target)
        target_grams = [gram_matrix(f.float()) for f in target_feats]
    perceptual = target.new_zeros(())
    style = target.new_zeros(())
    for image in images:
        feats = net.features(image)
        perceptual = perceptual + net.distance(feats, target_feats).float().mean()
        for f, g in zip(feats, target_grams, strict=True):
            style = style + F.l1_loss(gram_matrix(f.float()), g)
    return perceptual, style


def numpy_distances(path: str | Path | None = None) -> Callable[[list[np.ndarray], np.ndarray], list[float]]:
    """ST-LPIPS from each of several H x W x 3 float images in [0, 1] to one reference
    (for ``gin eval``: every method's fill of one masked image), on the CPU. The reference's
    features are computed once; the images go through the trunk in batches of about a
    megapixel (VGG's first layers hold 128 floats a pixel: ``--full`` photos go one by one)."""
    net = load_stlpips(path)
    as_batch = lambda arrays: torch.from_numpy(  # noqa: E731
        np.ascontiguousarray(np.stack(arrays).transpose(0, 3, 1, 2), np.float32)
    )

    def distances(images: list[np.ndarray], reference: np.ndarray) -> list[float]:
        step = max(1, BATCH_PIXELS // (reference.shape[0] * reference.shape[1]))
        found: list[float] = []
        with torch.no_grad():
            ref_feats = net.features(as_batch([reference]))
            for start in range(0, len(images), step):
                batch = as_batch(images[start : start + step])
                expanded = [f.expand(len(batch), -1, -1, -1) for f in ref_feats]
                found += net.distance(net.features(batch), expanded).tolist()
        return found

    return distances
