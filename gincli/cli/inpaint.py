"""``gin inpaint``: a thin Click layer over :func:`gincli.jobs.batch.run_batch`."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import click

from gincli.cli.options import (
    engine_options,
    fill_options,
    mask_adjust_options,
    note_unused_model,
    stop_interrupted,
    strategy_option,
)
from gincli.core.classical import THIN_RADIUS
from gincli.core.engine import EngineError, ProviderUnavailable
from gincli.core.strategies import strategy_help
from gincli.core.texture import TEXTURE_STRENGTH
from gincli.io.discovery import InputError, parse_shard
from gincli.jobs.batch import AUTO_MASK_FAMILIES, BatchOptions, check_options, run_batch
from gincli.jobs.pipeline import UsageError
from gincli.masks.families import MIXED, PAPER_FAMILIES

EPILOG = f"""\b
Masks: white (>= 127) = hole. --masks DIR matches by file stem: photo.jpg takes
photo.png, photo_mask.png, or photo_mask001.png, photo_mask002.png ... (LaMa's
layout: one output per mask, named after it). --masks FILE uses one mask for all.
\b
Strategies for images larger than the network's 256 x 256 input:
{strategy_help()}
\b
Outputs mirror the input tree under -o, keep each input's format (--format to
change), bit depth, alpha, EXIF, colour profile and XMP (JPEG and PNG); pixels
outside the holes are unchanged bit for bit. JPEG from JPEG: only the 8 x 8
blocks a hole touches are re-encoded, the rest copied as they were (exact
away from them); other JPEG outputs are re-encoded whole, with a note. A DPX
film scan (8, 10, 12 or 16-bit RGB) is written back over its own file: its header
(time code, edge code) and every sample outside the holes as they were.
Existing outputs are skipped, so re-running an interrupted job resumes it.
Exit code: 0 all done, 1 some files failed (each named with its reason), 2 usage.
\b
Examples:
  gin inpaint photos/ --masks masks/ -o out/
  gin inpaint scan.tif --masks scratches.png --dilate 2 -o restored/
  gin inpaint 'shots/*.png' --auto-mask freeform --seed 1 -o demo/ --concat
  gin inpaint corpus/ -r --masks corpus_masks/ -o out/ --shard 3/8   # machine 3 of 8"""


@click.command("inpaint", epilog=EPILOG)
@click.argument("inputs", nargs=-1, required=True)
@click.option("-o", "--output", required=True, type=click.Path(file_okay=False, path_type=Path), help="Output folder.")
@click.option(
    "--masks",
    "--mask",  # gin video's name for one mask file, so the same words work here
    "masks",
    type=click.Path(path_type=Path),
    help="Mask folder (matched by stem) or one mask file for every image.",
)
@click.option(
    "--auto-mask",
    type=click.Choice(AUTO_MASK_FAMILIES),
    help=f"Generate masks (demos, benchmarks; {MIXED}: a random one of {', '.join(PAPER_FAMILIES)}); "
    "written beside the outputs.",
)
@click.option(
    "--seed",
    default=0,
    show_default=True,
    type=click.IntRange(min=0),
    help="Seed for --auto-mask (with each image's path).",
)
@click.option(
    "--mask-from-alpha", is_flag=True, help="Holes are the input's transparent pixels; once filled they become opaque."
)
@click.option("--keep-alpha", is_flag=True, help="With --mask-from-alpha: leave the filled pixels transparent.")
@mask_adjust_options
@click.option("-r", "--recursive", is_flag=True, help="Descend into sub-folders of input folders.")
@click.option("--strict", is_flag=True, help="An image without a mask is a failure, not a skip.")
@strategy_option("auto", "How images of other sizes are tiled (below).")
@click.option(
    "--ensemble",
    is_flag=True,
    help="The paper's 5-way self-ensemble (rotations and a flip, averaged): 5x the inference.",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    help="Tiles per engine call [default: 1 on the CPU (as fast per tile, less memory), 8 on a GPU].",
)
@engine_options
@fill_options("auto", THIN_RADIUS, TEXTURE_STRENGTH)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["png", "jpg", "webp", "bmp", "tiff"]),
    help="Output format [default: the input's].",
)
@click.option("--quality", type=click.IntRange(1, 100),
              help="JPEG / WebP quality. A JPEG made from a JPEG re-encodes only the blocks the holes touch: "
                   "at this quality if given, else with the input's own tables.")  # fmt: skip
@click.option("--overwrite", is_flag=True, help="Redo outputs that already exist.")
@click.option("--concat", is_flag=True, help="Also write input | mask | result side by side (NAME_concat.png).")
@click.option("--fail-fast", is_flag=True, help="Stop at the first failure.")
@click.option("--shard", help="K/N: process a deterministic 1/N of the inputs (N machines, no coordinator).")
@click.option(
    "--workers",
    default=4,
    show_default=True,
    type=click.IntRange(min=1),
    help="Images in flight: decoded and encoded in parallel with inference; their tiles share engine batches.",
)
@click.option(
    "--max-pixels",
    type=int,
    help="Refuse images with more pixels than this before decoding them (decompression bombs) "
    "[default: 250,000,000, or GIN_MAX_PIXELS].",
)
@click.option("-v", "--verbose", is_flag=True, help="Print each file with the strategy used, and each engine skipped.")
def inpaint_command(inputs: tuple[str, ...], model: Path | None, provider: str, threads: int | None, precision: str, fill: str, thin_radius: float, texture: float,
                    strategy: str, ensemble: bool, batch_size: int | None, fmt: str | None, shard: str | None,
                    verbose: bool, max_pixels: int | None, **options: object) -> None:  # fmt: skip
    """Inpaint images: files, folders and glob patterns, at any size."""
    if verbose:
        logging.getLogger("gin").setLevel(logging.DEBUG)
    if max_pixels:
        os.environ["GIN_MAX_PIXELS"] = os.environ["OPENCV_IO_MAX_IMAGE_PIXELS"] = str(max_pixels)
    from gincli.core.inpainter import Inpainter

    try:
        opts = BatchOptions(format=fmt, shard=parse_shard(shard) if shard else None, **options)  # type: ignore[arg-type]
        check_options(opts)  # usage errors before the model loads
        note_unused_model(model, fill)
        inpainter = Inpainter(model, provider=provider, threads=threads, precision=precision, fill=fill, thin_radius=thin_radius, texture=texture, strategy=strategy, ensemble=ensemble,
                              batch_size=batch_size)  # fmt: skip
        summary = run_batch(list(inputs), inpainter, opts, verbose=verbose)
    except (InputError, UsageError, ProviderUnavailable, EngineError) as exc:
        raise click.UsageError(str(exc)) from exc
    except KeyboardInterrupt:
        stop_interrupted("gin inpaint", "the finished images are kept; the same command again skips them")
    used = ", ".join(f"{k} {v}" for k, v in sorted(summary.strategies.items()))
    click.echo(
        f"done {summary.done}{f' ({used})' if used else ''}, skipped {len(summary.skipped)}, failed {len(summary.failed)}",
        err=True,
    )
    for path, reason in summary.failed:
        click.echo(f"  failed {path}: {reason}", err=True)
    raise SystemExit(summary.exit_code)
