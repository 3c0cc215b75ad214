"""The training loop: learning, exact resume, data handling, checkpoints and DDP."""

from __future__ import annotations

import itertools
import json
import os
import socket
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
import torch.multiprocessing as mp
from click.testing import CliRunner

from gincli.cli.main import main
from tests.conftest import tiny_config
from train.checkpoint import load_generator, read_checkpoint
from train.data import InpaintingDataset, expand_batch
from train.distributed import shutdown_distributed
from train.losses import reconstruction_l1
from train.trainer import Trainer


def records(run: Path) -> list[dict]:
    return [{k: v for k, v in json.loads(line).items() if k != "elapsed_s"} for line in (run / "metrics.jsonl").open()]


def test_a_tiny_model_overfits_one_batch(image_folder: Path, tmp_path: Path) -> None:
    trainer = Trainer(tiny_config(image_folder, tmp_path / "run", warmup_steps=100, lr_g=2e-3), progress=False)
    batch = next(trainer._batches(0))
    samples, sample_masks, inputs = expand_batch(*batch)

    def l1() -> float:
        with torch.no_grad():
            return reconstruction_l1(
                trainer.generator(inputs, sample_masks), samples, sample_masks, trainer.config.losses
            ).item()

    before = l1()
    for _ in range(25):  # 0.27 of the first loss by step 25 (0.45 at 20)
        trainer.train_step(*batch)
        trainer.step += 1
    assert l1() < 0.5 * before


def test_interrupted_and_resumed_equals_uninterrupted(image_folder: Path, tmp_path: Path) -> None:
    straight = Trainer(tiny_config(image_folder, tmp_path / "a", ema_decay=0.9), progress=False)
    straight.train()
    first = Trainer(tiny_config(image_folder, tmp_path / "b", ema_decay=0.9), progress=False)
    first.train(until_step=5)  # stops inside the GAN stage, as Ctrl-C would
    assert read_checkpoint(tmp_path / "b" / "latest.pth")["step"] == 5
    resumed = Trainer(tiny_config(image_folder, tmp_path / "b", lr_g=0.5), resume=True, progress=False)
    assert resumed.config.lr_g == straight.config.lr_g  # the saved config wins over new options
    resumed.train()
    assert records(tmp_path / "a") == records(tmp_path / "b")
    end_a, end_b = read_checkpoint(tmp_path / "a" / "latest.pth"), read_checkpoint(tmp_path / "b" / "latest.pth")
    assert end_a["step"] == end_b["step"] == 8 and end_b["stage"] == "main"
    for part in ("generator", "generator_ema", "discriminator"):
        for key, value in end_a[part].items():
            assert torch.equal(value, end_b[part][key]), f"{part}.{key} differs after resume"


def test_the_weight_average_is_what_checkpoints_export_and_fine_tunes_take(image_folder: Path, tmp_path: Path) -> None:
    trainer = Trainer(tiny_config(image_folder, tmp_path / "run", ema_decay=0.75), progress=False)
    names = [name for name, _ in trainer.generator.named_parameters()]
    expected = {name: p.detach().clone() for name, p in trainer.generator.named_parameters()}
    batches = trainer._batches(0)
    for _ in range(5):  # through the warm-up (3 steps) into the GAN stage
        trainer.train_step(*next(batches))
        trainer.step += 1
        live = dict(trainer.generator.named_parameters())
        expected = {name: 0.75 * expected[name] + 0.25 * live[name].detach() for name in names}
    averaged = trainer.generator_ema.state_dict()
    for name in names:
        torch.testing.assert_close(averaged[name], expected[name], rtol=1e-5, atol=1e-6)
    assert any(not torch.equal(averaged[n], trainer.generator.state_dict()[n]) for n in names)
    trainer.save()
    model, _ = load_generator(tmp_path / "run" / "latest.pth")
    tuned = Trainer(tiny_config(image_folder, tmp_path / "tuned", init_from=str(tmp_path / "run" / "latest.pth")),
                    progress=False)  # fmt: skip
    for name in names:
        assert torch.equal(model.state_dict()[name], averaged[name])
        assert torch.equal(tuned.generator.state_dict()[name], averaged[name])


def test_run_outputs_and_checkpoint_contents(image_folder: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    Trainer(tiny_config(image_folder, run, perceptual_net="auto"), progress=False).train()
    config = json.loads((run / "config.json").read_text())
    assert config["perceptual_and_style_losses"].startswith("on: ShiftTolerant-LPIPS")
    assert {"perceptual", "style"} <= set(records(run)[-1])
    assert sorted(p.name for p in (run / "samples").iterdir()) == ["step_0000004.png", "step_0000008.png"]
    stages = [r["stage"] for r in records(run)]
    assert stages == ["warmup"] * 3 + ["main"] * 5
    assert {"adv", "tv", "d_hinge", "l1"} <= set(records(run)[-1])
    ckpt = read_checkpoint(run / "latest.pth")
    assert {"generator", "discriminator", "opt_g", "opt_d", "step", "stage", "config", "rng"} <= set(ckpt)
    _, info = load_generator(run / "latest.pth")
    assert info["ngf"] == 8 and info["step"] == 8
    assert not list(run.glob(".*partial*"))  # no temporary file left behind


def test_learning_rate_schedule_is_constant_then_linear_to_zero(image_folder: Path, tmp_path: Path) -> None:
    trainer = Trainer(
        tiny_config(image_folder, tmp_path / "r", warmup_steps=10, main_steps=100, decay_fraction=0.9), progress=False
    )
    factors = [trainer.lr_factor(s) for s in range(110)]
    assert factors[:20] == [1.0] * 20
    assert factors[20] == 1.0 and factors[65] == pytest.approx(0.5) and factors[109] == pytest.approx(1 / 90)
    assert all(a >= b for a, b in itertools.pairwise(factors))


def test_init_from_starts_a_new_run_from_trained_weights(image_folder: Path, tmp_path: Path) -> None:
    Trainer(tiny_config(image_folder, tmp_path / "first"), progress=False).train()
    first = read_checkpoint(tmp_path / "first" / "latest.pth")
    tuned = Trainer(tiny_config(image_folder, tmp_path / "tuned", init_from=str(tmp_path / "first" / "latest.pth"),
                                crop_size=48), progress=False)  # fmt: skip
    assert tuned.step == 0
    for key, value in first["generator"].items():
        assert torch.equal(tuned.generator.state_dict()[key], value)
    for key, value in first["discriminator"].items():
        assert torch.equal(tuned.discriminator.state_dict()[key], value)
    with pytest.raises(ValueError, match="holds a generator of width 8, not --ngf 16: give --ngf 8"):
        Trainer(tiny_config(image_folder, tmp_path / "wide", ngf=16, init_from=str(tmp_path / "first" / "latest.pth")),
                progress=False)  # fmt: skip
    # no width given: the model's own
    unsized = Trainer(tiny_config(image_folder, tmp_path / "unsized", ngf=None,
                                  init_from=str(tmp_path / "first" / "latest.pth")), progress=False)  # fmt: skip
    assert unsized.config.ngf == 8 and unsized.generator.ngf == 8


def test_mask_families_choose_the_masks_of_each_image(image_folder: Path, tmp_path: Path) -> None:
    dataset = InpaintingDataset(image_folder, 96, 96, families=("rect", "lines"))
    _, masks, _ = dataset[(0, 0)]
    assert masks.shape == (2, 1, 96, 96)
    per_row = (masks[1, 0] > 0).sum(dim=1).float()  # 3-8 thin lines: a few pixels of each row
    assert 0 < per_row.mean() <= 8 * 5
    with pytest.raises(ValueError, match="choose from"):
        InpaintingDataset(image_folder, 48, 32, families=("blobs",))
    trainer = Trainer(tiny_config(image_folder, tmp_path / "r", mask_families=("rect", "freeform", "ca", "lines"),
                                  main_steps=1), progress=False)  # fmt: skip
    trainer.train()
    resumed = Trainer(tiny_config(image_folder, tmp_path / "r"), resume=True, progress=False)
    assert resumed.config.mask_families == ("rect", "freeform", "ca", "lines")


def test_hole_fill_reaches_the_data_and_the_checkpoint_and_fine_tuning_keeps_it(
    image_folder: Path, tmp_path: Path
) -> None:
    first = Trainer(tiny_config(image_folder, tmp_path / "first", hole_fill="telea", warmup_steps=0, main_steps=1),
                    progress=False)  # fmt: skip
    image, masks, inputs = first.dataset[(0, 0)]
    hole = masks[0, 0].numpy() > 0
    as_u8 = (image.numpy().transpose(1, 2, 0) * 255 + 0.5).astype(np.uint8)
    telea = cv2.inpaint(as_u8, hole.astype(np.uint8), 5, cv2.INPAINT_TELEA).astype(np.float32) / 255
    assert np.allclose(inputs[0].numpy().transpose(1, 2, 0)[hole], telea[hole], atol=1e-6)
    first.train()
    model, info = load_generator(tmp_path / "first" / "latest.pth")
    assert info["hole_fill"] == model.hole_fill == "telea"
    start = str(tmp_path / "first" / "latest.pth")
    tuned = Trainer(tiny_config(image_folder, tmp_path / "tuned", init_from=start), progress=False)
    assert tuned.config.hole_fill == tuned.generator.hole_fill == "telea"
    switched = Trainer(tiny_config(image_folder, tmp_path / "w", init_from=start, hole_fill="white"), progress=False)
    assert switched.generator.hole_fill == "white"
    plain = Trainer(tiny_config(image_folder, tmp_path / "plain"), progress=False)
    assert plain.config.hole_fill == "white"
    _, masks, inputs = plain.dataset[(0, 0)]
    assert torch.all(inputs[0][:, masks[0, 0] > 0] == 1.0)


def test_existing_run_is_not_overwritten_without_resume(image_folder: Path, tmp_path: Path) -> None:
    Trainer(tiny_config(image_folder, tmp_path / "r", main_steps=0), progress=False).train()
    with pytest.raises(FileExistsError, match="--resume"):
        Trainer(tiny_config(image_folder, tmp_path / "r"), progress=False)


def test_unreadable_images_are_skipped_with_a_warning(image_folder: Path) -> None:
    (image_folder / "broken.png").write_bytes(b"\x89PNG truncated")
    dataset = InpaintingDataset(image_folder, 48, 32)
    index = dataset.files.index(image_folder / "broken.png")
    with pytest.warns(UserWarning, match="broken.png"):
        image, masks, inputs = dataset[(0, index)]
    assert image.shape == (3, 32, 32) and masks.shape == (3, 1, 32, 32) and inputs.shape == (3, 3, 32, 32)


def test_empty_folder_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("no images here")
    with pytest.raises(FileNotFoundError, match="no images in"):
        InpaintingDataset(tmp_path)


def test_a_crop_the_network_cannot_take_is_refused_before_training(image_folder: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["train", "--data", str(image_folder), "-o", str(tmp_path / "run"),
                                       "--crop-size", "40", "--load-size", "48", "--ngf", "8", "--ndf", "8"])  # fmt: skip
    assert result.exit_code == 1 and "not a multiple of 16" in result.output and "try 32" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "run").exists()


def test_dataset_is_deterministic_per_epoch_and_index(image_folder: Path) -> None:
    a, b = InpaintingDataset(image_folder, 48, 32, seed=3), InpaintingDataset(image_folder, 48, 32, seed=3)
    assert all(torch.equal(x, y) for x, y in zip(a[(2, 1)], b[(2, 1)], strict=True))
    assert not torch.equal(a[(2, 1)][1], a[(3, 1)][1])
    # one mask of each family per image, all of the crop size
    assert a[(0, 0)][1].shape == (3, 1, 32, 32)


def test_gin_train_command_runs_and_resumes(image_folder: Path, tmp_path: Path) -> None:
    run = tmp_path / "cli"
    args = ["train", "--data", str(image_folder), "-o", str(run), "--ngf", "8", "--ndf", "8", "--load-size", "48",
            "--crop-size", "32", "--batch-size", "1", "--warmup-steps", "1", "--main-steps", "1", "--num-workers", "0"]  # fmt: skip
    result = CliRunner().invoke(main, [*args, "--until-step", "1"])
    assert result.exit_code == 0, result.output
    assert read_checkpoint(run / "latest.pth")["step"] == 1
    again = CliRunner().invoke(main, args)
    assert again.exit_code == 1 and "already exists" in again.output and "Traceback" not in again.output
    assert CliRunner().invoke(main, ["train", "-o", str(run), "--resume"]).exit_code == 0
    assert read_checkpoint(run / "latest.pth")["step"] == 2
    missing = CliRunner().invoke(main, ["train", "--data", str(tmp_path / "nothing"), "-o", str(tmp_path / "x")])
    assert missing.exit_code == 1 and "does not exist" in missing.output


def _ddp_worker(rank: int, world: int, port: int, data: str, out: str, weights_dir: str) -> None:
    os.environ.update(
        RANK=str(rank), WORLD_SIZE=str(world), LOCAL_RANK=str(rank), MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port)
    )
    torch.set_num_threads(1)
    try:
        trainer = Trainer(
            tiny_config(Path(data), Path(out), batch_size=1, warmup_steps=2, main_steps=2), progress=False
        )
        trainer.train()
        torch.save(trainer.generator.module.state_dict(), Path(weights_dir) / f"rank{rank}.pt")
    finally:
        shutdown_distributed()


def test_two_process_gloo_ddp_keeps_ranks_identical(image_folder: Path, tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # forked, not spawned: a spawned rank imports torch and this module again (about 4 s of CPU
    # each, half the test's time); gloo and DDP start their own threads after the fork, and each
    # rank runs one thread
    args = (2, port, str(image_folder), str(tmp_path / "ddp"), str(tmp_path))
    mp.start_processes(_ddp_worker, args=args, nprocs=2, join=True, start_method="fork")
    a, b = torch.load(tmp_path / "rank0.pt"), torch.load(tmp_path / "rank1.pt")
    initial = Trainer(tiny_config(image_folder, tmp_path / "fresh"), progress=False).generator.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert any(not torch.equal(a[k], initial[k]) for k in a)  # and they did train
    assert read_checkpoint(tmp_path / "ddp" / "latest.pth")["step"] == 4  # rank 0 wrote the checkpoint


def test_precision_auto_takes_bf16_only_where_the_cpu_computes_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from train import trainer as trainer_module

    cpu = torch.device("cpu")
    monkeypatch.setattr(trainer_module, "cpu_has_bf16", lambda: False)
    assert trainer_module.resolve_precision("auto", cpu) is None
    assert trainer_module.resolve_precision("bf16", cpu) is torch.bfloat16
    monkeypatch.setattr(trainer_module, "cpu_has_bf16", lambda: True)
    assert trainer_module.resolve_precision("auto", cpu) is torch.bfloat16
    assert trainer_module.resolve_precision("fp32", cpu) is None


def test_bf16_autocast_step_agrees_with_fp32(image_folder: Path, tmp_path: Path) -> None:
    losses = {}
    for precision in ("fp32", "bf16"):
        config = tiny_config(image_folder, tmp_path / precision, precision=precision, warmup_steps=2, main_steps=1)
        trainer = Trainer(config, progress=False)
        assert trainer.autocast_dtype == (torch.bfloat16 if precision == "bf16" else None)
        trainer.train()
        losses[precision] = [r["g_total"] for r in records(tmp_path / precision)]
    assert len(losses["bf16"]) == 3
    for fp32, bf16 in zip(losses["fp32"], losses["bf16"], strict=True):
        assert bf16 == pytest.approx(fp32, rel=0.05)
