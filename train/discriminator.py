"""The two spectral-norm PatchGAN discriminators (256 x 256 and 128 x 128 input).

State-dict keys follow the release's default layout: ``layer0.*`` judges the
input average-pooled to half size, ``layer1.*`` the full-size input, and each
spectral-norm conv stores ``module.weight_bar``, ``module.weight_u`` and
``module.weight_v``, so the authors' ``latest_net_D.pth`` loads unchanged.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from train.generator import LEAKY_SLOPE


class _SpectralConvParams(nn.Module):
    """Holds a conv's bias, the unnormalised weight and the power-iteration vectors u, v."""

    def __init__(self, conv: nn.Conv2d) -> None:
        super().__init__()
        out_channels = conv.weight.shape[0]
        fan_in = conv.weight[0].numel()
        self.bias = conv.bias
        # u and v are buffers, not parameters: no gradient, and DDP keeps them in sync across ranks
        self.register_buffer("weight_u", F.normalize(torch.randn(out_channels), dim=0))
        self.register_buffer("weight_v", F.normalize(torch.randn(fan_in), dim=0))
        self.weight_bar = nn.Parameter(conv.weight.detach().clone())


class SpectralNormConv2d(nn.Module):
    """A conv whose weight is divided by its largest singular value, estimated by one
    power-iteration step per training forward (Miyato et al. 2018)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int, padding: int) -> None:
        super().__init__()
        conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride, padding=padding)
        self.stride, self.padding = stride, padding
        self.module = _SpectralConvParams(conv)

    def normalised_weight(self) -> torch.Tensor:
        p = self.module
        w = p.weight_bar.flatten(1)
        if self.training:
            with torch.no_grad():
                v = F.normalize(w.t() @ p.weight_u, dim=0, eps=1e-12)
                u = F.normalize(w @ v, dim=0, eps=1e-12)
                p.weight_u.copy_(u)
                p.weight_v.copy_(v)
        sigma = p.weight_u @ (w @ p.weight_v)
        return p.weight_bar / sigma

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.normalised_weight(), self.module.bias, self.stride, self.padding)


def patch_discriminator(in_channels: int = 6, ndf: int = 64) -> nn.Sequential:
    """conv4x4/2 -> 64, conv4x4/2 -> 128, conv4x4/1 -> 256, conv4x4/1 -> 256 map; padding 2 each."""
    widths = [in_channels, ndf, 2 * ndf, 4 * ndf, 4 * ndf]
    strides = [2, 2, 1, 1]
    layers: list[nn.Module] = []
    for i, stride in enumerate(strides):
        layers.append(SpectralNormConv2d(widths[i], widths[i + 1], 4, stride=stride, padding=2))
        if i < len(strides) - 1:
            layers.append(nn.LeakyReLU(LEAKY_SLOPE))
    return nn.Sequential(*layers)


class MultiScaleDiscriminator(nn.Module):
    """Two PatchGANs on concat(I_in, I): ``layer1`` at full size, ``layer0`` at half size.

    ``forward`` returns, per scale (full size first), the list of every layer's
    activations; the last entry is the patch map, the others feed feature matching.
    """

    def __init__(self, in_channels: int = 6, ndf: int = 64) -> None:
        super().__init__()
        self.layer0 = patch_discriminator(in_channels, ndf)
        self.layer1 = patch_discriminator(in_channels, ndf)

    def forward(self, x: torch.Tensor) -> list[list[torch.Tensor]]:
        half = F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False)
        scales = []
        for net, inp in ((self.layer1, x), (self.layer0, half)):
            feats = []
            for i, layer in enumerate(net):
                inp = layer(inp)
                if isinstance(layer, nn.LeakyReLU) or i == len(net) - 1:
                    feats.append(inp)
            scales.append(feats)
        return scales
