"""Metrics against hand-computed values and an independent implementation; `gin eval` end to end."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from gincli.cli.main import main
from gincli.core.metrics import mean_l1_percent, psnr, ssim
from gincli.io.images import write_image
from gincli.jobs.evaluate import eval_mask
from gincli.masks.families import thin_line_mask
from tests.conftest import smooth_image


def test_identical_images() -> None:
    a = np.random.default_rng(0).random((32, 32, 3))
    assert psnr(a, a) == float("inf") and ssim(a, a) == pytest.approx(1.0) and mean_l1_percent(a, a) == 0.0


def test_constant_offset() -> None:
    a = np.full((20, 20, 3), 0.5)
    b = a + 0.1
    assert psnr(a, b) == pytest.approx(20.0)  # mse 0.01 -> 10 log10(1 / 0.01)
    assert mean_l1_percent(a, b) == pytest.approx(10.0)


def test_known_noise_level() -> None:
    rng = np.random.default_rng(1)
    a = np.full((256, 256), 0.5)
    b = a + rng.choice([-0.05, 0.05], size=a.shape)  # |noise| = 0.05 everywhere: mse 0.0025
    assert psnr(a, b) == pytest.approx(10 * np.log10(1 / 0.0025))


def test_psnr_and_ssim_agree_with_scikit_image() -> None:
    rng = np.random.default_rng(2)
    a = smooth_image(rng, 64, 80).astype(np.float64) / 255
    b = np.clip(a + rng.normal(0, 0.05, a.shape), 0, 1)
    assert psnr(a, b) == pytest.approx(peak_signal_noise_ratio(a, b, data_range=1.0), rel=1e-9)
    reference = structural_similarity(a, b, channel_axis=2, data_range=1.0, gaussian_weights=True, sigma=1.5,
                                      use_sample_covariance=False)  # fmt: skip
    assert ssim(a, b) == pytest.approx(reference, abs=2e-3)


def test_eval_masks_are_seeded_and_scratches_are_thin() -> None:
    assert np.array_equal(eval_mask("rect", 3, (64, 64), 5), eval_mask("rect", 3, (64, 64), 5))
    assert not np.array_equal(eval_mask("rect", 3, (64, 64), 5), eval_mask("rect", 4, (64, 64), 5))
    assert not np.array_equal(eval_mask("rect", 3, (64, 64), 5, repeat=1), eval_mask("rect", 3, (64, 64), 5))
    mask = thin_line_mask(256, 256, np.random.default_rng(0))
    assert 0 < mask.mean() < 0.2  # a few thin lines
    assert mask.sum(axis=1).max() <= 8 * 6  # at most 8 lines of at most 5 (+1 antialias) px per row


def test_gin_eval_end_to_end(contract_model, image_folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    result = CliRunner().invoke(main, ["eval", str(image_folder), "--model", str(contract_model), "--size", "32",
                                       "--mask-families", "rect,lines", "--masks-per-image", "2", "-o", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    scores = json.loads((out / "results.json").read_text())["scores"]
    assert set(scores) == {"rect", "lines"} and set(scores["rect"]) == {"model", "telea", "ns"}
    assert all(s["n"] == 12 and 0 < s["ssim"] <= 1 and s["psnr"] > 5 for f in scores.values() for s in f.values())
    assert (out / "grid.png").is_file() and "| rect | telea |" in (out / "results.md").read_text()
    assert "ST-LPIPS" in (out / "results.md").read_text() and "FID: skipped" in result.output
    assert "24/24" in result.output  # the progress bar: 2 families x 6 photos x 2 masks
    # a perceptual distance: positive for every method, lower for the thin scratches than for big rectangles
    assert all(s["stlpips"] > 0 for f in scores.values() for s in f.values())
    assert scores["lines"]["telea"]["stlpips"] < scores["rect"]["telea"]["stlpips"]


def test_an_exact_fill_keeps_the_mean_psnr_finite_and_the_json_valid(contract_model, tmp_path: Path) -> None:
    """A flat wall is filled exactly: its infinite PSNR made the mean infinite and results.json
    say Infinity, which JSON does not have."""
    write_image(tmp_path / "flat" / "wall.png", np.full((40, 40, 3), 180, np.uint8))
    result = CliRunner().invoke(main, ["eval", str(tmp_path / "flat"), "--model", str(contract_model), "--size", "32",
                                       "--mask-families", "rect", "--no-perceptual", "-o", str(tmp_path / "r")])  # fmt: skip
    assert result.exit_code == 0, result.output

    def not_json(constant: str) -> None:
        raise AssertionError(f"results.json holds {constant}")

    scores = json.loads((tmp_path / "r" / "results.json").read_text(), parse_constant=not_json)["scores"]["rect"]
    assert scores["ns"]["psnr"] == scores["model"]["psnr"] == 100.0 and scores["telea"]["psnr"] < 100  # Telea: 179-182
    assert "| rect | ns | 100.00 |" in (tmp_path / "r" / "results.md").read_text()


def test_gin_eval_old_option_names_still_work_with_a_note(contract_model, image_folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "old"
    with pytest.warns(FutureWarning, match="'scratches' is now called 'lines'"):
        result = CliRunner().invoke(main, ["eval", str(image_folder), "--model", str(contract_model), "--size", "32",
                                           "--masks", "scratches", "--out", str(out), "--no-perceptual",
                                           "--baseline", "telea", "--full"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "--masks is deprecated: use --mask-families" in result.output
    assert "--out is deprecated: use -o/--output" in result.output
    report = json.loads((out / "results.json").read_text())
    assert set(report["scores"]) == {"lines"}  # the family's new name
    assert set(report["scores"]["lines"]) == {"model", "telea"} and report["size"] is None  # --baseline, --full


def test_gin_eval_skips_a_broken_photo_and_refuses_a_folder_with_none(contract_model, tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    write_image(photos / "good.png", smooth_image(np.random.default_rng(0), 40, 40))
    (photos / "broken.png").write_bytes(b"\x89PNG truncated")
    result = CliRunner().invoke(main, ["eval", str(photos), "--model", str(contract_model), "--size", "32",
                                       "--mask-families", "rect", "--masks-per-image", "1", "--no-perceptual",
                                       "--baseline", "telea"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "skipping" in result.output and "broken.png" in result.output and "| rect | telea |" in result.output
    (photos / "good.png").unlink()  # only the broken one left: a usage error, said before any model loads
    result = CliRunner().invoke(main, ["eval", str(photos), "--model", str(contract_model)])
    assert result.exit_code == 2 and str(photos) in result.output and "no image to measure on" in result.output
    assert "Traceback" not in result.output and "running" not in result.output


@pytest.mark.parametrize("texture", ["1.5", "0,-0.2", "strong", ","])
def test_gin_eval_refuses_texture_strengths_outside_0_to_1(contract_model, image_folder: Path, texture: str) -> None:
    result = CliRunner().invoke(main, ["eval", str(image_folder), "--model", str(contract_model),
                                       "--texture", texture])  # fmt: skip
    assert result.exit_code == 2 and "--texture" in result.output and "from 0 to 1" in result.output
    assert "Traceback" not in result.output


def test_gin_eval_measures_the_thin_hole_route_beside_the_network(
    contract_model, image_folder: Path, tmp_path: Path
) -> None:
    out = tmp_path / "routes"
    result = CliRunner().invoke(main, ["eval", str(image_folder), "--model", str(contract_model), "--size", "64",
                                       "--mask-families", "lines", "--fill", "network,auto", "--baseline", "telea",
                                       "--texture", "0.4,0", "--no-perceptual", "-o", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = json.loads((out / "results.json").read_text())["scores"]["lines"]
    # one auto row per --texture strength (0.4, the default, unlabelled); the network has no texture step
    assert set(lines) == {"model", "model+auto", "model+auto+texture 0", "telea"}
    # 1-5 px lines are thin holes (where they do not touch): the auto route fills most of them as Telea does
    assert lines["model+auto"]["psnr"] > lines["model"]["psnr"] + 3


def test_gin_eval_ensemble_measures_each_route_self_ensembled_too(
    contract_model, image_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gincli.core.inpainter as inpainter_module

    ensembled = []  # the routes that ran the self-ensemble: one entry per image they inpainted
    real = inpainter_module.self_ensemble
    monkeypatch.setattr(inpainter_module, "self_ensemble", lambda run: ensembled.append(run) or real(run))
    out = tmp_path / "ensemble"
    result = CliRunner().invoke(main, ["eval", str(image_folder), "--model", str(contract_model), "--size", "40",
                                       "--mask-families", "rect", "--fill", "network,auto", "--ensemble",
                                       "--baseline", "", "--no-perceptual", "-o", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    rect = json.loads((out / "results.json").read_text())["scores"]["rect"]
    assert set(rect) == {"model", "model+ensemble", "model+auto", "model+auto+ensemble"}
    assert len(ensembled) == 2 * 6  # the two ensembled routes, on each of the six images; the others never
