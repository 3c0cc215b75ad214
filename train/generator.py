"""The DeepGIN generator: coarse stage G1 and refinement stage G2.

Specification: the paper (Li et al., ECCV 2020 workshops) and the authors' release. Attribute names and their
definition order reproduce the authors' state-dict keys exactly, so their
released ``latest_net_G.pth`` loads into :class:`DeepGINGenerator` unchanged.
Every convolution pads explicitly with replicate padding, as the release does.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from gincli.core.model_contract import HOLE_FILLS

SIZE_MULTIPLE = 16  # H and W of what the generator takes: it halves them four times

COARSE_DILATIONS = (2, 3, 4, 5, 6, 8, 10, 1)
REFINE_DILATIONS = (2, 3, 4, 5)
LEAKY_SLOPE = 0.2


def replicate_pad(x: torch.Tensor, pad: int) -> torch.Tensor:
    return F.pad(x, (pad, pad, pad, pad), mode="replicate") if pad else x


def resize_bilinear(x: torch.Tensor, scale: float) -> torch.Tensor:
    """The generator's only resampling: bilinear, align_corners=True (both directions)."""
    return F.interpolate(x, scale_factor=scale, mode="bilinear", align_corners=True)


def lrelu(x: torch.Tensor) -> torch.Tensor:
    return F.leaky_relu(x, LEAKY_SLOPE)


def conv_lrelu(conv: nn.Conv2d, x: torch.Tensor) -> torch.Tensor:
    """Replicate-pad for a 'same'-style 3x3/7x7 (or pad-1 4x4/2) conv, convolve, LeakyReLU."""
    return lrelu(conv(replicate_pad(x, conv.kernel_size[0] // 2 if conv.stride[0] == 1 else 1)))


class ConvUnit(nn.Module):
    """A bare conv held as ``.conv``: the release wraps SPD branches this way (key ``branchN.conv.*``)."""

    def __init__(self, in_channels: int, out_channels: int, dilation: int = 1) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, 3, dilation=dilation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


class SpatialPyramidDilationBlock(nn.Module):
    """SPD ResNet block: k parallel dilated 3x3 branches (C -> C/k, ReLU), concat, 3x3 fusion, residual.

    The input is replicate-padded once by the largest dilation and each branch reads
    the window it needs; cropping a replicate pad of P by P - d equals a replicate pad of d,
    so this is exact and saves k - 1 pad operations per block.
    """

    def __init__(self, channels: int, dilations: tuple[int, ...]) -> None:
        super().__init__()
        if channels % len(dilations):
            raise ValueError(f"{channels} channels do not split into {len(dilations)} branches")
        self.dilations = tuple(dilations)
        self.max_dilation = max(dilations)
        for i, d in enumerate(dilations, start=1):
            setattr(self, f"branch{i}", ConvUnit(channels, channels // len(dilations), dilation=d))
        setattr(self, f"fusion{len(dilations) + 1}", ConvUnit(channels, channels))

    @property
    def fusion(self) -> ConvUnit:
        return getattr(self, f"fusion{len(self.dilations) + 1}")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        padded = replicate_pad(x, self.max_dilation)
        height, width = x.shape[-2:]
        branches = []
        for i, d in enumerate(self.dilations, start=1):
            off = self.max_dilation - d
            window = padded[..., off : off + height + 2 * d, off : off + width + 2 * d]
            branches.append(F.relu(getattr(self, f"branch{i}")(window)))
        return x + self.fusion(replicate_pad(torch.cat(branches, dim=1), 1))


class NonLocalSelfAttention(nn.Module):
    """Embedded-Gaussian non-local block: x + W(softmax(theta(x)^T phi(x)) g(x)), C' = C / 2.

    Computed with fused scaled-dot-product attention (scale 1, as the formula has none), so
    the HW x HW matrix is never materialised where the backend has a fused kernel.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        inner = channels // 2
        self.g = nn.Conv2d(channels, inner, 1)
        self.W = nn.Conv2d(inner, channels, 1)
        self.theta = nn.Conv2d(channels, inner, 1)
        self.phi = nn.Conv2d(channels, inner, 1)

    @staticmethod
    def _tokens(x: torch.Tensor) -> torch.Tensor:
        # (N, C', H, W) -> (N, 1, HW, C'), contiguous 4-D as the fused kernels require
        return x.flatten(2).transpose(1, 2).unsqueeze(1).contiguous()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, _, h, w = x.shape
        q, k, v = self._tokens(self.theta(x)), self._tokens(self.phi(x)), self._tokens(self.g(x))
        y = F.scaled_dot_product_attention(q, k, v, scale=1.0)
        y = y.squeeze(1).transpose(1, 2).reshape(n, -1, h, w)
        return x + self.W(y)

    def forward_naive(self, x: torch.Tensor) -> torch.Tensor:
        """The plain formula with the explicit HW x HW matrix (reference for tests)."""
        n, _, h, w = x.shape
        theta = self.theta(x).flatten(2).transpose(1, 2)  # N, HW, C'
        phi = self.phi(x).flatten(2)  # N, C', HW
        g = self.g(x).flatten(2).transpose(1, 2)  # N, HW, C'
        f = torch.softmax(theta @ phi, dim=-1)
        y = (f @ g).transpose(1, 2).reshape(n, -1, h, w)
        return x + self.W(y)


class GeneratorOutputs(NamedTuple):
    completed: torch.Tensor  # I_compl: reconstruction inside the hole, reference outside
    reconstructed: torch.Tensor  # I_out: after back projection, before the final composite
    coarse: torch.Tensor  # I_coarse from G1
    lowres: torch.Tensor  # I_lr, the x0.25 back-projection head


def _coarse_stage(ngf: int) -> nn.Sequential:
    """G1 as one sequential; layer indices match the release's ``lr_coarse_tinker.<i>``."""
    c1, c2, c3, c4 = ngf // 2, ngf, 2 * ngf, 4 * ngf
    layers: list[nn.Module] = [nn.ReplicationPad2d(3), nn.Conv2d(4, c1, 7), nn.LeakyReLU(LEAKY_SLOPE)]
    for cin, cout in ((c1, c2), (c2, c3), (c3, c4)):
        layers += [nn.ReplicationPad2d(1), nn.Conv2d(cin, cout, 4, stride=2), nn.LeakyReLU(LEAKY_SLOPE)]
    layers += [SpatialPyramidDilationBlock(c4, COARSE_DILATIONS) for _ in range(6)]
    for cin, cout in ((c4, c3), (c3, c2), (c2, c1)):
        layers += [
            nn.UpsamplingBilinear2d(scale_factor=2),
            nn.ReplicationPad2d(1),
            nn.Conv2d(cin, cout, 3),
            nn.LeakyReLU(LEAKY_SLOPE),
        ]
    layers += [nn.ReplicationPad2d(3), nn.Conv2d(c1, 3, 7)]
    return nn.Sequential(*layers)


class DeepGINGenerator(nn.Module):
    """G1 + G2 with back projection. ``ngf=64`` is the paper's model (42,930,186 parameters).

    ``forward(image, mask)``: image N x 3 x H x W in [0, 1], mask N x 1 x H x W with 1 = hole;
    H and W multiples of ``SIZE_MULTIPLE``. ``hole_fill`` says what G1 sees inside the hole: "white" (the
    paper's: hole pixels set to 1, the values there are ignored) or "telea" (the caller passes
    the image with its hole pre-filled by OpenCV Telea, and G1 reads it as it is).
    """

    def __init__(self, ngf: int = 64, init_scale: float = 0.1, hole_fill: str = "white") -> None:
        super().__init__()
        if ngf < 2 or ngf % 2:
            raise ValueError(f"ngf must be a positive even number, got {ngf}")
        if hole_fill not in HOLE_FILLS:
            raise ValueError(f"unknown hole fill {hole_fill!r}; choose {', '.join(HOLE_FILLS)}")
        self.ngf, self.hole_fill = ngf, hole_fill
        c = [ngf // 2, ngf, 2 * ngf, 4 * ngf, 8 * ngf]  # 32, 64, 128, 256, 512 at ngf 64
        self.lr_coarse_tinker = _coarse_stage(ngf)
        # G2 encoder with the two skip convs feeding the attention blocks
        self.r_en_conv1 = nn.Conv2d(4, c[0], 7)
        self.r_en_conv2 = nn.Conv2d(c[0], c[1], 4, stride=2)
        self.r_en_conv3 = nn.Conv2d(c[1], c[2], 4, stride=2)
        self.r_en_skp_conv3 = nn.Conv2d(c[2], c[1], 3)
        self.r_en_conv4 = nn.Conv2d(c[2], c[3], 4, stride=2)
        self.r_en_skp_conv4 = nn.Conv2d(c[3], c[2], 3)
        self.r_en_conv5 = nn.Conv2d(c[3], c[4], 4, stride=2)
        # bottleneck at H/16; forward order is the definition order
        self.r_md_mres1 = SpatialPyramidDilationBlock(c[4], REFINE_DILATIONS)
        self.r_md_mres2 = SpatialPyramidDilationBlock(c[4], REFINE_DILATIONS)
        self.r_md_mres5 = SpatialPyramidDilationBlock(c[4], REFINE_DILATIONS)
        self.r_md_satn1 = NonLocalSelfAttention(c[4])
        self.r_md_mres3 = SpatialPyramidDilationBlock(c[4], REFINE_DILATIONS)
        self.r_md_mres4 = SpatialPyramidDilationBlock(c[4], REFINE_DILATIONS)
        self.r_md_mres6 = SpatialPyramidDilationBlock(c[4], REFINE_DILATIONS)
        # decoder, attention at H/8 (satn2) and H/4 (satn3), low-resolution and alpha heads
        self.r_de_conv1 = nn.Conv2d(c[4], c[3], 3)
        self.r_de_satn2 = NonLocalSelfAttention(c[2])
        self.r_de_satn3 = NonLocalSelfAttention(c[1])
        self.r_de_mix_conv1 = nn.Conv2d(c[3] + c[2], c[3], 3)
        self.r_de_conv2 = nn.Conv2d(c[3], c[2], 3)
        self.r_de_mix_conv2 = nn.Conv2d(c[2] + c[1], c[2], 3)
        self.r_de_conv2_lr = nn.Conv2d(c[2], c[0], 3)
        self.r_de_conv3_lr = nn.Conv2d(c[0], 3, 3)
        self.r_de_conv3 = nn.Conv2d(c[2], c[1], 3)
        self.r_de_conv4 = nn.Conv2d(c[1], c[0], 3)
        self.r_de_conv5 = nn.Conv2d(c[0], 3, 7)
        self.r_de_conv5_lr_alpha = nn.Conv2d(c[0], 1, 3)
        self.reset_parameters(init_scale)

    def reset_parameters(self, scale: float = 0.1) -> None:
        """Kaiming normal (fan_in) x ``scale`` on every conv, zero biases. 0.1 is the release's
        "small init" (an untrained output is near zero); 1.0 is plain Kaiming, which keeps the
        input's signal through G1's chain of non-residual convs from the first step."""
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, a=0, mode="fan_in")
                m.weight.data.mul_(scale)
                nn.init.zeros_(m.bias)

    def coarse_parameters(self) -> list[nn.Parameter]:
        return list(self.lr_coarse_tinker.parameters())

    def refine(self, composite: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """G2 on the coarse composite: returns (out, alpha, I_lr) before back projection."""
        e1 = conv_lrelu(self.r_en_conv1, torch.cat([composite, mask], dim=1))
        e2 = conv_lrelu(self.r_en_conv2, e1)
        e3 = conv_lrelu(self.r_en_conv3, e2)
        skip3 = conv_lrelu(self.r_en_skp_conv3, e3)
        e4 = conv_lrelu(self.r_en_conv4, e3)
        skip4 = conv_lrelu(self.r_en_skp_conv4, e4)
        x = conv_lrelu(self.r_en_conv5, e4)
        for block in (
            self.r_md_mres1, self.r_md_mres2, self.r_md_mres5, self.r_md_satn1,
            self.r_md_mres3, self.r_md_mres4, self.r_md_mres6,
        ):  # fmt: skip
            x = block(x)
        att32, att64 = self.r_de_satn2(skip4), self.r_de_satn3(skip3)
        d1 = conv_lrelu(self.r_de_conv1, resize_bilinear(x, 2.0))
        md1 = conv_lrelu(self.r_de_mix_conv1, torch.cat([d1, att32], dim=1))
        d2 = conv_lrelu(self.r_de_conv2, resize_bilinear(md1, 2.0))
        md2 = conv_lrelu(self.r_de_mix_conv2, torch.cat([d2, att64], dim=1))
        lowres = self.r_de_conv3_lr(replicate_pad(conv_lrelu(self.r_de_conv2_lr, md2), 1))
        d3 = conv_lrelu(self.r_de_conv3, resize_bilinear(md2, 2.0))
        d4 = conv_lrelu(self.r_de_conv4, resize_bilinear(d3, 2.0))
        out = self.r_de_conv5(replicate_pad(d4, 3))
        alpha = torch.sigmoid(self.r_de_conv5_lr_alpha(replicate_pad(d4, 1)))
        return out, alpha, lowres

    def forward(self, image: torch.Tensor, mask: torch.Tensor) -> GeneratorOutputs:
        valid = 1.0 - mask
        network_input = image if self.hole_fill == "telea" else image * valid + mask
        coarse = self.lr_coarse_tinker(torch.cat([network_input, mask], dim=1))
        out, alpha, lowres = self.refine(coarse * mask + image * valid, mask)
        # back projection: correct the full-resolution output by the low-resolution head's residual
        out_c = out * mask + image * valid
        residual = lowres - resize_bilinear(out_c, 0.25)
        reconstructed = out_c + resize_bilinear(residual, 4.0) * alpha
        completed = reconstructed * mask + image * valid
        return GeneratorOutputs(completed, reconstructed, coarse, lowres)
