"""The generator: size, checkpoint compatibility with the authors' release, and its identities."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from tests.conftest import DATA
from train.checkpoint import CheckpointError, load_generator
from train.generator import DeepGINGenerator, NonLocalSelfAttention, SpatialPyramidDilationBlock


def reference_layout() -> list[tuple[str, list[int]]]:
    return [(k, shape) for k, shape in json.loads((DATA / "official_gin_G_state_dict.json").read_text())]


@pytest.fixture(scope="module")
def full_width() -> DeepGINGenerator:
    return DeepGINGenerator(64)


def test_parameter_counts_match_the_paper(full_width: DeepGINGenerator) -> None:
    assert sum(p.numel() for p in full_width.parameters()) == 42_930_186
    assert sum(p.numel() for p in full_width.coarse_parameters()) == 8_167_843


def test_state_dict_keys_and_shapes_equal_the_release_in_order(full_width: DeepGINGenerator) -> None:
    ours = [(k, list(v.shape)) for k, v in full_width.state_dict().items()]
    assert ours == reference_layout()


def test_authors_plain_state_dict_loads_and_computes_the_same(tmp_path: Path) -> None:
    torch.manual_seed(1)
    state = {k: torch.randn(shape) * 0.02 for k, shape in reference_layout()}
    path = tmp_path / "latest_net_G.pth"
    torch.save(state, path)
    loaded, info = load_generator(path)
    assert info["ngf"] == 64 and info["source"] == "state_dict"
    direct = DeepGINGenerator(64)
    direct.load_state_dict(state)
    direct.eval()
    image, mask = torch.rand(1, 3, 64, 64), (torch.rand(1, 1, 64, 64) > 0.6).float()
    with torch.no_grad():
        a, b = loaded(image, mask), direct(image, mask)
    for x, y in zip(a, b, strict=True):
        assert torch.equal(x, y)


def test_width_is_inferred_from_our_checkpoint_and_ddp_prefix_is_accepted(tmp_path: Path) -> None:
    model = DeepGINGenerator(16)
    payload = {
        "format": "deepgin-checkpoint",
        "generator": {f"module.{k}": v for k, v in model.state_dict().items()},
        "step": 7,
    }
    torch.save(payload, tmp_path / "ours.pth")
    loaded, info = load_generator(tmp_path / "ours.pth")
    assert info["ngf"] == 16 and info["step"] == 7
    assert all(
        torch.equal(a, b) for a, b in zip(loaded.state_dict().values(), model.state_dict().values(), strict=True)
    )


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda p: p.write_bytes(b"definitely not a torch file"), "not a PyTorch checkpoint"),
        (lambda p: torch.save({"conv.weight": torch.zeros(3)}, p), "not a DeepGIN generator"),
        (lambda p: torch.save([1, 2, 3], p), "not a generator checkpoint"),
        (
            lambda p: torch.save({**DeepGINGenerator(16).state_dict(), "r_de_conv5.bias": torch.zeros(7)}, p),
            "wrong shapes",
        ),
    ],
)
def test_a_file_that_is_not_a_generator_gets_one_clear_error(tmp_path: Path, make, expected: str) -> None:
    path = tmp_path / "bad.pth"
    make(path)
    with pytest.raises(CheckpointError) as err:
        load_generator(path)
    assert str(path) in str(err.value) and expected in str(err.value)


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="no such file"):
        load_generator(tmp_path / "nope.pth")


@pytest.mark.parametrize("size", [(64, 64), (48, 80)])
def test_output_shapes_and_back_projection_identity(size: tuple[int, int]) -> None:
    torch.manual_seed(0)
    g = DeepGINGenerator(8).eval()
    h, w = size
    image, mask = torch.rand(2, 3, h, w), (torch.rand(2, 1, h, w) > 0.5).float()
    with torch.no_grad():
        out = g(image, mask)
    assert out.completed.shape == out.reconstructed.shape == out.coarse.shape == (2, 3, h, w)
    assert out.lowres.shape == (2, 3, h // 4, w // 4)
    # valid pixels of the completed image are the input's, exactly
    assert torch.equal(out.completed * (1 - mask), image * (1 - mask))
    # the hole holds the reconstruction
    assert torch.equal(out.completed * mask, out.reconstructed * mask)


def test_white_hole_fill_ignores_the_hole_and_telea_reads_it() -> None:
    torch.manual_seed(0)
    white = DeepGINGenerator(8, init_scale=1.0).eval()
    telea = DeepGINGenerator(8, hole_fill="telea").eval()
    telea.load_state_dict(white.state_dict())
    image, mask = torch.rand(1, 3, 32, 32), (torch.rand(1, 1, 32, 32) > 0.5).float()
    noisy = image * (1 - mask) + torch.rand_like(image) * mask
    with torch.no_grad():
        assert torch.allclose(white(image, mask).completed, white(noisy, mask).completed, atol=1e-6)
        assert not torch.allclose(telea(image, mask).completed, telea(noisy, mask).completed, atol=1e-3)
        # given a white hole, the telea convention computes what the white one does
        whitened = image * (1 - mask) + mask
        assert torch.allclose(telea(whitened, mask).completed, white(image, mask).completed, atol=1e-6)
    with pytest.raises(ValueError, match="unknown hole fill"):
        DeepGINGenerator(8, hole_fill="black")


def test_small_init_gives_a_near_zero_coarse_output() -> None:
    torch.manual_seed(0)
    g = DeepGINGenerator(16)
    with torch.no_grad():
        coarse = g.lr_coarse_tinker(torch.rand(1, 4, 64, 64))
    assert coarse.abs().max() < 0.05


@pytest.mark.parametrize("channels,hw", [(16, (8, 8)), (32, (12, 20))])
def test_fused_attention_equals_the_softmax_formula(channels: int, hw: tuple[int, int]) -> None:
    torch.manual_seed(0)
    block = NonLocalSelfAttention(channels)
    for m in block.modules():  # larger weights than the small init, so the softmax is far from uniform
        if isinstance(m, torch.nn.Conv2d):
            torch.nn.init.normal_(m.weight, std=0.5)
    x = torch.randn(2, channels, *hw)
    with torch.no_grad():
        fused, naive = block(x), block.forward_naive(x)
    assert torch.allclose(fused, naive, atol=1e-5, rtol=1e-5)
    assert not torch.allclose(fused, x, atol=1e-3)  # the block did something


def test_spd_block_single_pad_equals_per_branch_replicate_padding() -> None:
    torch.manual_seed(0)
    block = SpatialPyramidDilationBlock(16, (2, 3, 4, 5))
    x = torch.randn(1, 16, 20, 24)
    branches = []
    for i, d in enumerate(block.dilations, start=1):
        padded = torch.nn.functional.pad(x, (d, d, d, d), mode="replicate")
        branches.append(torch.relu(getattr(block, f"branch{i}")(padded)))
    fused = torch.nn.functional.pad(torch.cat(branches, 1), (1, 1, 1, 1), mode="replicate")
    expected = x + block.fusion(fused)
    with torch.no_grad():
        assert torch.allclose(block(x), expected, atol=1e-6)


def test_odd_widths_are_refused() -> None:
    with pytest.raises(ValueError, match="even"):
        DeepGINGenerator(15)


def test_init_scale_sets_the_weight_spread() -> None:
    torch.manual_seed(0)
    small = DeepGINGenerator(16).r_de_conv1.weight.std().item()
    torch.manual_seed(0)
    full = DeepGINGenerator(16, init_scale=1.0).r_de_conv1.weight.std().item()
    assert full == pytest.approx(10 * small, rel=1e-5)
    fan_in = 8 * 16 * 3 * 3  # r_de_conv1: 8 ngf -> 4 ngf channels, 3 x 3
    assert full == pytest.approx((2 / fan_in) ** 0.5, rel=0.05)  # Kaiming normal, fan_in


class _RunsCodeWhenUnpickled:
    """What a malicious checkpoint holds: unpickling it would call ``Path.touch`` on a marker."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_a_checkpoint_holding_code_is_refused_without_running_it(tmp_path: Path) -> None:
    marker = tmp_path / "code_ran"
    path = tmp_path / "evil.pth"
    torch.save({"lr_coarse_tinker.1.weight": torch.zeros(8, 4, 7, 7), "payload": _RunsCodeWhenUnpickled(marker)}, path)
    with pytest.raises(CheckpointError) as err:
        load_generator(path)
    message = str(err.value)
    assert str(path) in message and "refused" in message and "never code" in message
    assert "weights_only=False" not in message  # no advice to turn safe loading off
    assert not marker.exists()  # the code did not run
