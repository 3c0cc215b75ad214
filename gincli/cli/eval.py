"""``gin eval``: a thin Click layer over :mod:`gincli.jobs.evaluate`."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from pathlib import Path

import click
import numpy as np

from gincli.cli.options import either, renamed_option, stop_interrupted
from gincli.core.engine import EngineError
from gincli.core.texture import TEXTURE_STRENGTH
from gincli.io.images import write_rgb
from gincli.masks.families import FAMILIES, RENAMED, family_help, resolve_family


def _names(value: str, allowed: list[str], option: str) -> list[str]:
    names = [v.strip() for v in value.split(",") if v.strip()]
    unknown = [n for n in names if n not in allowed]
    if unknown:
        raise click.BadParameter(f"unknown {', '.join(unknown)}; choose from {', '.join(allowed)}", param_hint=option)
    return names


def _strengths(value: str) -> list[float]:
    """``--texture``'s comma-separated strengths, each from 0 to 1."""
    try:
        strengths = [float(v) for v in value.split(",") if v.strip()]
    except ValueError:
        strengths = []
    if not strengths or not all(0 <= t <= 1 for t in strengths):
        raise click.BadParameter(f"{value!r}: give strengths from 0 to 1, such as 0,0.4", param_hint="--texture")
    return strengths


def _perceptual_metric() -> Callable[[list[np.ndarray], np.ndarray], list[float]] | None:
    """ST-LPIPS through torch, or None with a notice where the train extra is missing."""
    try:
        from train.perceptual import numpy_distances
    except ImportError as exc:
        click.echo(f"ST-LPIPS: skipped ({exc.name} is not installed: pip install 'deepgin[train]')", err=True)
        return None
    try:
        return numpy_distances()
    except FileNotFoundError as exc:
        click.echo(f"ST-LPIPS: skipped ({exc})", err=True)
        return None


@click.command(
    "eval",
    epilog="""\b
Examples:
  gin eval data/holdout --model runs/x/latest.onnx
  gin eval photos/ --model a.onnx --model b.onnx --mask-families rect,freeform,ca,lines -o report/""",
)
@click.argument("data", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--model",
    "models",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="ONNX model; repeat to compare [default: the bundled model].",
)
@click.option(
    "--mask-families",
    "families",
    default="rect,freeform,ca",
    show_default=True,
    help=f"Comma-separated mask families ({family_help()}).",
)
@renamed_option("--masks", "--mask-families", "families_old")
@click.option(
    "--seed",
    default=0,
    show_default=True,
    type=click.IntRange(min=0),
    help="Masks are seeded by this and each image's index.",
)
@click.option(
    "--masks-per-image",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Seeded masks of each family per image (more samples).",
)
@click.option(
    "--size", default=256, show_default=True, type=click.IntRange(min=16), help="Centre crops resized to SIZE x SIZE."
)
@click.option("--full", is_flag=True, help="Whole images instead of centre crops (tiled by the auto strategy).")
@click.option(
    "--baseline", default="telea,ns", show_default=True, help="OpenCV methods to compare: telea, ns (empty for none)."
)
@click.option(
    "-o",
    "--output",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write results.md, results.json and grid.png here.",
)
@renamed_option("--out", "-o/--output", "out_old", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--perceptual/--no-perceptual",
    default=True,
    show_default=True,
    help="Also report ST-LPIPS (ShiftTolerant-LPIPS, VGG16; lower is better). Needs the train extra "
    "(torch and stlpips-pytorch); skipped with a notice without it.",
)
@click.option(
    "--inception-weights",
    type=click.Path(exists=True, dir_okay=False),
    help="Inception weights for FID (not supported yet: reported as skipped).",
)
@click.option(
    "--fill",
    "fills",
    default="network",
    show_default=True,
    help="Comma-separated fill routes to measure for each model: network (the network alone), auto (thin "
    "holes by the classical fill, the rest by the network with its level matched to the pixels around each hole; see gin "
    "inpaint --help). "
    "Labels say which: MODEL+auto.",
)
@click.option(
    "--texture",
    "textures",
    default=str(TEXTURE_STRENGTH),
    show_default=True,
    help="Comma-separated texture strengths to measure for the auto route (see gin inpaint --help); "
    "a strength other than the default is labelled MODEL+auto+texture T.",
)
@click.option(
    "--ensemble",
    is_flag=True,
    help="Also measure each route with the paper's 5-way self-ensemble (five times the network's work; "
    "labels MODEL+ensemble, MODEL+auto+ensemble).",
)
@click.option("--provider", default="auto", show_default=True, help="Engine for the models (see gin inpaint --help).")
@click.option("--precision", default="auto", show_default=True, help="OpenVINO arithmetic: auto, fp32 or bf16.")
def eval_command(data: Path, models: tuple[Path, ...], families: str, families_old: str | None, seed: int, masks_per_image: int, size: int, full: bool, baseline: str,
                 out: Path | None, out_old: Path | None, perceptual: bool, inception_weights: str | None, fills: str, textures: str, ensemble: bool, provider: str, precision: str) -> None:  # fmt: skip
    """Measure inpainting quality (PSNR, SSIM, L1) on a folder of real photos.

    Every method sees the same images and the same seeded masks; metrics are
    computed on the completed image (valid pixels from the original). ST-LPIPS
    uses the weights the stlpips-pytorch package ships; FID needs Inception
    weights that cannot be downloaded here: it is skipped, and never computed
    from random weights.
    """
    from gincli.core.classical import FILL_METHODS
    from gincli.core.inpainter import Inpainter
    from gincli.jobs.evaluate import BASELINES, NoImagesError, evaluate, load_images, opencv_baseline

    out = either(out, out_old, "-o/--output")  # type: ignore[assignment]
    families = str(either(families_old, families, "--mask-families"))  # the old name, if given, wins over the default
    try:
        family_names = [resolve_family(name) for name in _names(families, [*FAMILIES, *RENAMED], "--mask-families")]
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--mask-families") from exc
    baselines = _names(baseline, list(BASELINES), "--baseline") if baseline else []
    routes = _names(fills, [name for name in FILL_METHODS if name != "classical"], "--fill")  # classical is --baseline
    strengths = _strengths(textures)
    try:  # the photos before the models: a wrong folder is said before any model loads
        images = load_images(data, size, full, skip=lambda reason: click.echo(f"gin eval: skipping {reason}", err=True))
    except NoImagesError as exc:
        raise click.UsageError(str(exc)) from exc
    methods = {}
    try:
        for model, route, ensembled in itertools.product(models or (None,), routes, (False, True)[: 1 + ensemble]):
            for texture in strengths if route == "auto" else [TEXTURE_STRENGTH]:
                inpainter = Inpainter(model, provider=provider, precision=precision, fill=route, texture=texture,
                                      ensemble=ensembled)  # fmt: skip
                label = model.stem if model else "gin (bundled)"
                suffix = ("" if route == "network" else f"+{route}") + (
                    f"+texture {texture:g}" if texture != TEXTURE_STRENGTH else "") + ("+ensemble" if ensembled else "")  # fmt: skip
                methods[label + suffix] = inpainter.inpaint
    except EngineError as exc:
        raise click.UsageError(str(exc)) from exc
    methods |= {name: opencv_baseline(BASELINES[name]) for name in baselines}
    metric = _perceptual_metric() if perceptual else None
    try:
        result = evaluate(images, methods, family_names, seed, masks_per_image, perceptual=metric, progress=True)
    except KeyboardInterrupt:
        stop_interrupted("gin eval", "no report was written (it is written when every sample is measured)")
    click.echo(result.markdown())
    reason = (
        "weights given but this version cannot compute it yet" if inception_weights else "no pretrained weights given"
    )
    click.echo(f"FID: skipped ({reason})", err=True)
    if out:
        out.mkdir(parents=True, exist_ok=True)
        (out / "results.md").write_text(result.markdown() + "\n")
        meta = {
            "data": str(data),
            "images": len(images),
            "seed": seed,
            "masks_per_image": masks_per_image,
            "size": None if full else size,
            "scores": result.scores,
        }
        (out / "results.json").write_text(json.dumps(meta, indent=2) + "\n")
        if result.grid is not None:
            write_rgb(out / "grid.png", result.grid)
        click.echo(
            f"wrote {out}/results.md, results.json" + (", grid.png" if result.grid is not None else ""), err=True
        )
