"""``gin train``: a thin Click layer over :class:`train.trainer.Trainer`.

Only click and the torch-free config are imported at module level, so ``gin --help``
and ``gin train --help`` work in an inference-only install.
"""

from __future__ import annotations

import click

from gincli.cli.options import either, renamed_option
from gincli.core.model_contract import HOLE_FILLS
from gincli.masks.families import family_help
from train.config import PERCEPTUAL_NETS, PRECISIONS, LossWeights, TrainConfig

_D = TrainConfig(data="", out="")
POSITIVE = click.FloatRange(min=0, min_open=True)  # a learning rate
WEIGHT = click.FloatRange(min=0)  # a loss's weight: 0 turns it off
_W = LossWeights()


@click.command(
    "train",
    epilog="""\b
Examples:
  gin train --data photos/ -o runs/paper                         # the paper's recipe, full width
  gin train --data photos/ -o runs/cpu --ngf 16 --crop-size 128 \\
            --warmup-steps 2000 --main-steps 8000                # a small model a CPU can train
  gin train -o runs/cpu --resume                                 # continue after Ctrl-C or a crash
  torchrun --nproc_per_node 4 -m train --data photos/ -o runs/ddp   # one process per GPU

\b
Outputs in -o/--output: latest.pth (G, D, optimisers, step, config, RNG; feed it to
`gin export`), config.json, metrics.jsonl (losses every --log-every steps) and
samples/step_*.png (masked input | coarse | output | ground truth).""",
)
@click.option("--data", type=click.Path(file_okay=False), help="Folder of training images (searched recursively).")
@click.option(
    "-o",
    "--output",
    "out",
    type=click.Path(file_okay=False),
    help="Run folder for checkpoints, logs and samples.  [required]",
)
@renamed_option("--out", "-o/--output", "out_old", type=click.Path(file_okay=False))
@click.option(
    "--until-step",
    type=click.IntRange(min=0),
    help="Stop after this step (saving the checkpoint), as Ctrl-C would; --resume continues the same schedule.",
)
@click.option("--resume", is_flag=True, help="Continue the run in --out from its latest.pth with its saved settings.")
@click.option(
    "--ngf",
    type=click.IntRange(min=2),
    help="Generator width: 64 is the paper's model; 32 or 16 train on a CPU. "
    "[default: the --init-from model's width, else 64]",
)
@click.option("--ndf", type=click.IntRange(min=1), default=_D.ndf, show_default=True, help="Discriminator width.")
@click.option(
    "--load-size",
    type=click.IntRange(min=16),
    default=_D.load_size,
    show_default=True,
    help="Images are first resized to this square size.",
)
@click.option(
    "--crop-size",
    type=click.IntRange(min=16),
    default=_D.crop_size,
    show_default=True,
    help="Random square crop fed to the network (multiple of 16).",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=_D.batch_size,
    show_default=True,
    help="Images per step per process; each is masked once per --mask-families entry.",
)
@click.option(
    "--warmup-epochs",
    type=click.IntRange(min=0),
    default=_D.warmup_epochs,
    show_default=True,
    help="Warm-up stage: generators only, L1 loss only.",
)
@click.option(
    "--main-epochs",
    type=click.IntRange(min=0),
    default=_D.main_epochs,
    show_default=True,
    help="Main stage: GAN training with every loss.",
)
@click.option("--warmup-steps", type=click.IntRange(min=0), help="Warm-up length in steps (overrides --warmup-epochs).")
@click.option("--main-steps", type=click.IntRange(min=0), help="Main-stage length in steps (overrides --main-epochs).")
@click.option(
    "--decay-fraction",
    type=click.FloatRange(0, 1),
    default=_D.decay_fraction,
    show_default=True,
    help="Share of the main stage over which learning rates fall linearly to zero.",
)
@click.option("--lr-g", type=POSITIVE, default=_D.lr_g, show_default=True, help="Generator learning rate (Adam).")
@click.option("--lr-d", type=POSITIVE, default=_D.lr_d, show_default=True, help="Discriminator learning rate (Adam).")
@click.option(
    "--grad-clip",
    type=click.FloatRange(min=0),
    default=_D.grad_clip,
    show_default=True,
    help="Gradient-norm clip for G and D.",
)
@click.option(
    "--ema-decay",
    type=click.FloatRange(0.0, 1.0, max_open=True),
    default=_D.ema_decay,
    show_default=True,
    help="Keep an exponential moving average of the generator's weights (0.999: about the last 1,000 steps) "
    "and export, sample and fine-tune from it; it averages out the noise of small batches. 0: off (the paper).",
)
@click.option(
    "--init-scale",
    default=_D.init_scale,
    show_default=True,
    help="Generator init: Kaiming x this. 0.1 is the release's small init (output near zero at first); 1.0 is plain Kaiming.",
)
@click.option(
    "--mask-families",
    default=",".join(_D.mask_families),
    show_default=True,
    help=f"Each image is masked once per family ({family_help()}); lines suit film-restoration models.",
)
@click.option(
    "--init-from",
    type=click.Path(dir_okay=False, exists=True),
    help="Fine-tune: start from these weights: our checkpoint, the authors' latest_net_G.pth, or an ONNX "
    "model from `gin export` (the bundled one included); optimisers and schedule start afresh; its width is the --ngf.",
)
@click.option(
    "--hole-fill",
    type=click.Choice(HOLE_FILLS),
    help="What the generator reads inside the hole: white (the paper's) or telea (the hole pre-filled by "
    "OpenCV Telea, which the network learns to correct; exported models record it and gin pre-fills "
    "their tiles). [default: the --init-from model's, else white]",
)
@click.option("--w-hole", type=WEIGHT, default=_W.hole, show_default=True, help="L1 weight inside the hole.")
@click.option("--w-valid", type=WEIGHT, default=_W.valid, show_default=True, help="L1 weight outside the hole.")
@click.option(
    "--w-edge",
    type=WEIGHT,
    default=_W.edge,
    show_default=True,
    help="Extra L1 weight on the hole's edge band, where fills must continue the surrounding pixels (0: the paper).",
)
@click.option(
    "--edge-width",
    type=click.IntRange(min=0),
    default=_W.edge_width,
    show_default=True,
    help="Width of that edge band in pixels.",
)
@click.option("--w-adv", type=WEIGHT, default=_W.adversarial, show_default=True, help="Hinge adversarial weight.")
@click.option(
    "--w-perceptual",
    type=WEIGHT,
    help="Perceptual weight [default: 1.0 for stlpips (the ST-LPIPS distance), 0.05 for vgg19 (the paper's)].",
)
@click.option("--w-style", type=WEIGHT, help="Style (Gram) weight [default: 40 for stlpips, 80 for vgg19].")
@click.option(
    "--perceptual-net",
    type=click.Choice(PERCEPTUAL_NETS),
    default=_D.perceptual_net,
    show_default=True,
    help="Network for the perceptual and style losses: stlpips (ShiftTolerant-LPIPS VGG16, from the "
    "stlpips-pytorch package the train extra installs), vgg19 (needs --vgg-weights) or none. "
    "auto: vgg19 with --vgg-weights, else stlpips when installed.",
)
@click.option(
    "--perceptual-scale",
    type=click.FloatRange(0, 1, min_open=True),
    default=_D.perceptual_scale,
    show_default=True,
    help="Resize images by this before the perceptual network (0.5 costs a quarter; on a CPU the ST-LPIPS "
    "network at full size costs more than the generator).",
)
@click.option(
    "--precision",
    type=click.Choice(PRECISIONS),
    default=_D.precision,
    show_default=True,
    help="bf16 autocast or plain fp32. auto: bf16 on GPUs with bf16 and on CPUs with AVX512_BF16 or AMX "
    "(elsewhere bf16 is emulated and many times slower), fp32 otherwise.",
)
@click.option("--w-tv", type=WEIGHT, default=_W.tv, show_default=True, help="Total-variation weight.")
@click.option(
    "--w-feature-matching",
    type=WEIGHT,
    default=_W.feature_matching,
    show_default=True,
    help="Discriminator feature matching (the release's optional term; 0.01 there when on).",
)
@click.option(
    "--vgg-weights",
    type=click.Path(dir_okay=False, exists=True),
    help="torchvision vgg19 weights file. Without it the perceptual and style losses are off (nothing is downloaded).",
)
@click.option(
    "--seed",
    default=_D.seed,
    show_default=True,
    type=click.IntRange(min=0),
    help="Seeds weights, data order, augmentation and masks.",
)
@click.option(
    "--num-workers",
    type=click.IntRange(min=0),
    default=_D.num_workers,
    show_default=True,
    help="Data-loading processes.",
)
@click.option(
    "--log-every",
    type=click.IntRange(min=1),
    default=_D.log_every,
    show_default=True,
    help="Steps between metrics.jsonl records.",
)
@click.option(
    "--sample-every",
    type=click.IntRange(min=1),
    default=_D.sample_every,
    show_default=True,
    help="Steps between sample grids.",
)
@click.option(
    "--checkpoint-every",
    type=click.IntRange(min=1),
    default=_D.checkpoint_every,
    show_default=True,
    help="Steps between checkpoints (one is also written at the end and on Ctrl-C).",
)
@click.option("--device", default=_D.device, show_default=True, help="auto (GPU if present), cpu, cuda or cuda:N.")
def train_command(**opts: object) -> None:
    """Train DeepGIN (G1 + G2 and two discriminators) on a folder of photos.

    Warm-up trains the generators with the hole-weighted L1 loss alone; the main
    stage adds the hinge GAN, total-variation and (with --vgg-weights) perceptual
    and style losses. Adam (beta1 0.5); learning rates constant, then decaying
    linearly to zero. Defaults are the paper's.
    """
    try:
        from train.distributed import shutdown_distributed
        from train.trainer import Trainer
    except ImportError as exc:
        raise click.ClickException(
            f"training needs torch ({exc}); install it with: pip install 'deepgin[train]'"
        ) from exc
    if not opts["resume"] and not opts["data"]:
        raise click.UsageError("--data is required (except with --resume)")
    weights = LossWeights(
        hole=opts.pop("w_hole"), valid=opts.pop("w_valid"), edge=opts.pop("w_edge"), edge_width=opts.pop("edge_width"), adversarial=opts.pop("w_adv"),
        perceptual=opts.pop("w_perceptual"), style=opts.pop("w_style"), tv=opts.pop("w_tv"),
        feature_matching=opts.pop("w_feature_matching"),
    )  # type: ignore[arg-type]  # fmt: skip
    resume = bool(opts.pop("resume"))
    until_step = opts.pop("until_step")
    opts["out"] = either(opts["out"], opts.pop("out_old"), "-o/--output", required=True)
    opts["mask_families"] = tuple(f.strip() for f in str(opts["mask_families"]).split(",") if f.strip())
    opts["data"] = opts["data"] or ""
    config = TrainConfig(losses=weights, **opts)  # type: ignore[arg-type]
    try:
        Trainer(config, resume=resume).train(until_step=until_step)  # type: ignore[arg-type]
    except (FileNotFoundError, FileExistsError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        shutdown_distributed()  # under torchrun: leave the process group cleanly
