"""The training loop: warm-up (generators, L1 only), then the GAN stage with every loss.

A step is the unit of everything: the learning-rate schedule, logging, samples and
checkpoints. The data a step sees is a pure function of (seed, step), so a run that
is interrupted and resumed follows the same trajectory as one that is not.
"""

from __future__ import annotations

import copy
import json
import math
import signal
import time
from collections.abc import Iterator
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader
from tqdm import tqdm

from gincli.core.hardware import cpu_has_bf16
from gincli.io.grid import image_grid
from gincli.io.images import write_rgb
from train.checkpoint import (
    CHECKPOINT_FORMAT,
    CheckpointError,
    generator_width,
    read_checkpoint,
    read_generator_weights,
    save_atomic,
)
from train.config import PAPER_WIDTH, TrainConfig
from train.data import InpaintingDataset, expand_batch
from train.discriminator import MultiScaleDiscriminator
from train.distributed import DistributedContext, init_distributed
from train.generator import DeepGINGenerator, GeneratorOutputs
from train.losses import PerceptualTerms, generator_losses, hinge_discriminator, reconstruction_l1
from train.onnx_weights import is_onnx_file
from train.perceptual import installed_weights, load_stlpips
from train.vgg import load_vgg19

CHECKPOINT_NAME = "latest.pth"


def resolve_precision(precision: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype for ``--precision`` (None: plain fp32). ``auto`` takes bf16 only where
    the hardware computes it natively: a CUDA GPU with bf16, or a CPU with AVX512_BF16 / AMX."""
    if precision == "fp32":
        return None
    native = torch.cuda.is_bf16_supported() if device.type == "cuda" else cpu_has_bf16()
    if precision == "bf16" or native:
        return torch.bfloat16
    return None


def _float_outputs(out: GeneratorOutputs) -> GeneratorOutputs:
    return GeneratorOutputs(*(t.float() for t in out))


def _float_scales(scales: list[list[torch.Tensor]]) -> list[list[torch.Tensor]]:
    return [[t.float() for t in feats] for feats in scales]


def _unwrap(model: torch.nn.Module) -> torch.nn.Module:
    return model.module if isinstance(model, DistributedDataParallel) else model


def _split_real_fake(scales: list[list[torch.Tensor]]) -> tuple[list[list[torch.Tensor]], list[list[torch.Tensor]]]:
    """D ran on cat(real, fake) along the batch: split every activation back in two."""
    halves = [[t.chunk(2) for t in feats] for feats in scales]
    return [[h[0] for h in s] for s in halves], [[h[1] for h in s] for s in halves]


class Trainer:
    """Builds models, optimisers and data from a :class:`TrainConfig` and runs the loop.

    ``resume=True`` continues the checkpoint in ``config.out`` with its saved config.
    """

    def __init__(self, config: TrainConfig, resume: bool = False, progress: bool = True) -> None:
        self.out = Path(config.out)
        checkpoint = self._existing_checkpoint(resume)
        if checkpoint is not None:
            config = TrainConfig.from_dict({**checkpoint["config"], "out": config.out})
        start_weights = read_generator_weights(config.init_from) if checkpoint is None and config.init_from else None
        if config.hole_fill is None:  # the model's own convention unless told otherwise
            config = replace(config, hole_fill=start_weights[1]["hole_fill"] if start_weights else "white")
        if config.ngf is None:  # the model's own width unless told otherwise
            width = generator_width(start_weights[0], str(config.init_from)) if start_weights else PAPER_WIDTH
            config = replace(config, ngf=width)
        self.config = config
        self.ctx: DistributedContext = init_distributed(config.device)
        self.progress = progress and self.ctx.is_main
        torch.manual_seed(config.seed)  # identical initial weights on every rank

        self.dataset = InpaintingDataset(
            config.data, config.load_size, config.crop_size, config.seed, tuple(config.mask_families), config.hole_fill
        )
        images_per_step = config.batch_size * self.ctx.world_size
        self.steps_per_epoch = math.ceil(len(self.dataset) / images_per_step)
        self.warmup_steps = (
            config.warmup_steps if config.warmup_steps is not None else config.warmup_epochs * self.steps_per_epoch
        )
        main = config.main_steps if config.main_steps is not None else config.main_epochs * self.steps_per_epoch
        self.total_steps = self.warmup_steps + main

        device = self.ctx.device
        self.generator = DeepGINGenerator(config.ngf, config.init_scale, config.hole_fill).to(device)
        self.discriminator = MultiScaleDiscriminator(ndf=config.ndf).to(device)
        # fused: one kernel over every parameter (CPU and CUDA alike) instead of a few small ops
        # per tensor, which at a small width took a tenth of a step
        adam = partial(torch.optim.Adam, betas=(config.beta1, config.beta2), fused=True)
        self.opt_g = adam(self.generator.parameters(), lr=config.lr_g)
        self.opt_d = adam(self.discriminator.parameters(), lr=config.lr_d)
        self.perceptual = self._perceptual_terms()
        self.autocast_dtype = resolve_precision(config.precision, device)
        self.step = 0
        if checkpoint is not None:
            self._restore(checkpoint)
        elif start_weights is not None:
            self._start_from(str(config.init_from), start_weights[0])
        self.generator_ema = self._ema_start(checkpoint)
        if self.ctx.enabled:
            ids = [device.index] if device.type == "cuda" else None
            self.generator = DistributedDataParallel(self.generator, device_ids=ids)
            self.discriminator = DistributedDataParallel(self.discriminator, device_ids=ids)
        self._stop_requested = False

    def _perceptual_terms(self) -> PerceptualTerms | None:
        weights_file = installed_weights()
        net_name, perceptual, style = self.config.perceptual_choice(weights_file is not None)
        if net_name == "none":
            return None
        net = load_stlpips(weights_file) if net_name == "stlpips" else load_vgg19(str(self.config.vgg_weights))
        return PerceptualTerms(net.to(self.ctx.device), perceptual, style, self.config.perceptual_scale)

    def _autocast(self) -> torch.autocast:
        return torch.autocast(self.ctx.device.type, dtype=self.autocast_dtype or torch.float32,
                              enabled=self.autocast_dtype is not None)  # fmt: skip

    # ----------------------------------------------------------------- state
    def _existing_checkpoint(self, resume: bool) -> dict[str, Any] | None:
        path = self.out / CHECKPOINT_NAME
        if not resume:
            if path.exists():
                raise FileExistsError(
                    f"{path} already exists: pass --resume to continue that run, or choose another --out"
                )
            return None
        if not path.exists():
            raise FileNotFoundError(f"--resume given but {path} does not exist")
        checkpoint = read_checkpoint(path)
        if not isinstance(checkpoint, dict) or checkpoint.get("format") != CHECKPOINT_FORMAT:
            raise CheckpointError(f"{path}: not a gin training checkpoint, cannot resume from it")
        return checkpoint

    def _start_from(self, path: str, state: dict[str, torch.Tensor]) -> None:
        """Fine-tuning: the generator's weights ``state`` read from ``path`` (ours, the authors'
        generator file, or a graph from ``gin export``); the optimisers, step count and schedule
        start afresh. D's weights come along only from our checkpoints."""
        try:
            self.generator.load_state_dict(state)
        except RuntimeError as exc:
            width = generator_width(state, path)
            raise CheckpointError(
                f"--init-from {path} holds a generator of width {width}, not --ngf {self.config.ngf}: "
                f"give --ngf {width}, or leave --ngf out to take the model's"
            ) from exc
        if not is_onnx_file(path):
            loaded = read_checkpoint(path)
            if isinstance(loaded, dict) and "discriminator" in loaded:
                self.discriminator.load_state_dict(loaded["discriminator"])

    def _restore(self, checkpoint: dict[str, Any]) -> None:
        self.generator.load_state_dict(checkpoint["generator"])
        self.discriminator.load_state_dict(checkpoint["discriminator"])
        self.opt_g.load_state_dict(checkpoint["opt_g"])
        self.opt_d.load_state_dict(checkpoint["opt_d"])
        self.step = int(checkpoint["step"])
        torch.set_rng_state(checkpoint["rng"]["torch"])

    def _ema_start(self, checkpoint: dict[str, Any] | None) -> DeepGINGenerator | None:
        """The averaged generator (``--ema-decay``): the checkpoint's when resuming, else a copy of
        the starting weights (a fine-tune averages from the model it starts from)."""
        if self.config.ema_decay <= 0:
            return None
        ema = copy.deepcopy(self.generator).requires_grad_(False)
        if checkpoint is not None and "generator_ema" in checkpoint:
            ema.load_state_dict(checkpoint["generator_ema"])
        return ema

    @torch.no_grad()
    def _update_ema(self) -> None:
        """ema <- decay * ema + (1 - decay) * G, after each generator update. Every rank holds the
        same G, so every rank's average is the same too."""
        if self.generator_ema is None:
            return
        live = _unwrap(self.generator)
        torch._foreach_lerp_(list(self.generator_ema.parameters()), list(live.parameters()), 1 - self.config.ema_decay)
        for averaged, current in zip(self.generator_ema.buffers(), live.buffers(), strict=True):
            averaged.copy_(current)

    def state(self) -> dict[str, Any]:
        ema = {"generator_ema": self.generator_ema.state_dict()} if self.generator_ema is not None else {}
        return {
            "format": CHECKPOINT_FORMAT,
            "version": 1,
            "generator": _unwrap(self.generator).state_dict(),
            **ema,  # what export, load_generator and --init-from read when present
            "discriminator": _unwrap(self.discriminator).state_dict(),
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            "step": self.step,
            "stage": self.stage(self.step),
            "config": self.config.to_dict(),
            "rng": {"torch": torch.get_rng_state()},
        }

    def save(self) -> Path | None:
        """Rank 0 writes ``latest.pth`` atomically; other ranks write nothing."""
        if not self.ctx.is_main:
            return None
        path = self.out / CHECKPOINT_NAME
        save_atomic(self.state(), path)
        return path

    # -------------------------------------------------------------- schedule
    def stage(self, step: int) -> str:
        return "warmup" if step < self.warmup_steps else "main"

    def lr_factor(self, step: int) -> float:
        """1 through warm-up and the first part of the main stage, then linear to 0."""
        if step < self.warmup_steps:
            return 1.0
        main_steps = self.total_steps - self.warmup_steps
        decay_start = main_steps * (1.0 - self.config.decay_fraction)
        into_main = step - self.warmup_steps
        if into_main < decay_start:
            return 1.0
        return max(0.0, 1.0 - (into_main - decay_start) / max(1.0, main_steps - decay_start))

    # ------------------------------------------------------------------ data
    def _batches(self, start_step: int) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        """Batches for steps start_step, start_step + 1, ...: each epoch is a seeded
        permutation, padded by wrapping so every step (and every rank) gets a full batch."""
        bs, world, rank = self.config.batch_size, self.ctx.world_size, self.ctx.rank
        epoch, offset = divmod(start_step, self.steps_per_epoch)
        while True:
            order = np.random.default_rng([self.config.seed, epoch]).permutation(len(self.dataset))
            order = np.resize(order, self.steps_per_epoch * bs * world)
            batches = [
                [(epoch, int(i)) for i in order[(s * world + rank) * bs : (s * world + rank + 1) * bs]]
                for s in range(offset, self.steps_per_epoch)
            ]
            loader = DataLoader(self.dataset, batch_sampler=batches, num_workers=self.config.num_workers)
            yield from loader
            epoch, offset = epoch + 1, 0

    # ------------------------------------------------------------------ step
    def _set_lr(self) -> None:
        factor = self.lr_factor(self.step)
        for opt, base in ((self.opt_g, self.config.lr_g), (self.opt_d, self.config.lr_d)):
            for group in opt.param_groups:
                group["lr"] = base * factor

    def _optimise(self, opt: torch.optim.Optimizer, model: torch.nn.Module, loss: torch.Tensor) -> None:
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), self.config.grad_clip)
        opt.step()

    def train_step(self, images: torch.Tensor, masks: torch.Tensor, inputs: torch.Tensor) -> dict[str, float]:
        """One optimisation step on K B samples (K mask families); returns the step's losses.
        ``inputs``: the images as the generator reads them under each mask (the dataset's)."""
        images, masks, inputs = (t.to(self.ctx.device, non_blocking=True) for t in expand_batch(images, masks, inputs))
        self._set_lr()
        with self._autocast():
            out = _float_outputs(self.generator(inputs, masks))
        weights = self.config.losses
        if self.stage(self.step) == "warmup":
            l1 = reconstruction_l1(out, images, masks, weights)
            self._optimise(self.opt_g, self.generator, l1)
            self._update_ema()
            return {"l1": l1.item(), "g_total": l1.item()}

        real = torch.cat([inputs, images], dim=1)
        fake = torch.cat([inputs, out.completed], dim=1)
        # D step: real and fake in one forward (one DDP call per step)
        with self._autocast():
            d_both = _float_scales(self.discriminator(torch.cat([real, fake.detach()])))
        d_real, d_fake = _split_real_fake(d_both)
        d_loss = hinge_discriminator(d_real, d_fake)
        self._optimise(self.opt_d, self.discriminator, d_loss)
        # G step: through the bare D (its weights are in sync), D frozen so no D gradients are built
        disc = _unwrap(self.discriminator)
        disc.requires_grad_(False)
        try:
            with torch.no_grad(), self._autocast():
                real_feats = _float_scales(disc(real)) if weights.feature_matching > 0 else d_real
            with self._autocast():
                d_fake_for_g = _float_scales(disc(fake))
            terms = generator_losses(out, images, masks, weights, d_fake_for_g, real_feats, self.perceptual)
            self._optimise(self.opt_g, self.generator, terms["total"])
            self._update_ema()
        finally:
            disc.requires_grad_(True)
        losses = {k if k != "total" else "g_total": v.item() for k, v in terms.items()}
        losses["d_hinge"] = d_loss.item()
        return losses

    # ------------------------------------------------------------------ loop
    def _log(self, record: dict[str, Any]) -> None:
        with open(self.out / "metrics.jsonl", "a") as f:
            f.write(json.dumps(record) + "\n")

    def _write_samples(self, images: torch.Tensor, masks: torch.Tensor, inputs: torch.Tensor) -> None:
        """PNG grid, one row per sample: network input | coarse | output | ground truth; drawn by
        the generator that export takes (the average, when on)."""
        images, masks, inputs = (t.to(self.ctx.device) for t in expand_batch(images[:2], masks[:2], inputs[:2]))
        generator = self.generator_ema if self.generator_ema is not None else _unwrap(self.generator)
        generator.eval()
        with torch.no_grad():
            out = generator(inputs, masks)
        generator.train()
        as_np = lambda t: t.clamp(0, 1).permute(0, 2, 3, 1).cpu().numpy()  # noqa: E731
        columns = [as_np(inputs), as_np(out.coarse), as_np(out.completed), as_np(images)]
        grid = image_grid([[col[i] for col in columns] for i in range(images.shape[0])])
        write_rgb(self.out / "samples" / f"step_{self.step:07d}.png", grid)

    def _write_run_config(self) -> None:
        record = {**self.config.to_dict(), "perceptual_and_style_losses": self._perceptual_status(),
                  "autocast": str(self.autocast_dtype or "off (fp32)"),
                  "warmup_steps_resolved": self.warmup_steps, "total_steps_resolved": self.total_steps,
                  "images": len(self.dataset), "world_size": self.ctx.world_size}  # fmt: skip
        (self.out / "config.json").write_text(json.dumps(record, indent=2) + "\n")

    def _perceptual_status(self) -> str:
        return self.config.perceptual_status(installed_weights() is not None)

    def _request_stop(self, signum: int, frame: object) -> None:
        # finish the current step so the checkpoint is consistent; a second Ctrl-C aborts at once
        self._stop_requested = True
        signal.signal(signal.SIGINT, signal.default_int_handler)

    def _should_stop(self) -> bool:
        """Ctrl-C on any rank stops every rank after the same step (else the others would hang)."""
        if not self.ctx.enabled:
            return self._stop_requested
        flag = torch.tensor([float(self._stop_requested)], device=self.ctx.device)
        dist.all_reduce(flag, op=dist.ReduceOp.MAX)
        self._stop_requested = bool(flag.item())
        return self._stop_requested

    def train(self, until_step: int | None = None) -> Path | None:
        """Run to the end (or to ``until_step``), checkpointing as configured; Ctrl-C saves and stops."""
        cfg = self.config
        end = min(self.total_steps, until_step) if until_step is not None else self.total_steps
        if self.ctx.is_main:
            self.out.mkdir(parents=True, exist_ok=True)
            self._write_run_config()
            if self.step == 0:
                tqdm.write(
                    f"gin train: perceptual and style losses {self._perceptual_status()}; "
                    f"autocast {self.autocast_dtype or 'off (fp32)'}"
                )
        self.generator.train()
        self.discriminator.train()
        previous = signal.signal(signal.SIGINT, self._request_stop)
        bar = tqdm(
            total=self.total_steps, initial=self.step, disable=not self.progress, unit="step", dynamic_ncols=True
        )
        started = time.perf_counter()
        try:
            batches = self._batches(self.step)
            while self.step < end and not self._should_stop():
                batch = next(batches)
                stage = self.stage(self.step)
                losses = self.train_step(*batch)
                self.step += 1
                bar.update(1)
                bar.set_postfix({"stage": stage, **{k: f"{v:.4g}" for k, v in losses.items()}}, refresh=False)
                if not self.ctx.is_main:
                    continue
                if self.step % cfg.log_every == 0 or self.step == end:
                    self._log({"step": self.step, "stage": stage, "lr_g": self.opt_g.param_groups[0]["lr"],
                               "lr_d": self.opt_d.param_groups[0]["lr"], **losses,
                               "elapsed_s": round(time.perf_counter() - started, 3)})  # fmt: skip
                if self.step % cfg.sample_every == 0:
                    self._write_samples(*batch)
                if self.step % cfg.checkpoint_every == 0:
                    self.save()
        finally:
            bar.close()
            signal.signal(signal.SIGINT, previous)
        path = self.save()
        if self._stop_requested and self.ctx.is_main:
            tqdm.write(f"gin train: interrupted at step {self.step}; saved {path} (continue with --resume)")
        return path
