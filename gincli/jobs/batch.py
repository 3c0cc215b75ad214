"""Batch inpainting of many files: the engine behind ``gin inpaint`` and ``inpaint_paths``.

Streaming: only a small window of images is in flight, so memory stays flat however
many files there are. Decoding and encoding run in worker threads (OpenCV and ONNX
Runtime release the GIL) while another image's tiles are inferred. Every failure is
recorded with its file and reason; the run goes on unless ``fail_fast``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from gincli.core.engine import EngineError
from gincli.core.imagemath import from_unit_float, holes_white, split_channels, to_binary_mask, to_unit_float
from gincli.core.inpainter import Inpainter
from gincli.core.lazy import cv2
from gincli.io.atomic import remove_stale_partials
from gincli.io.discovery import MaskFolder, Source, discover, in_shard, output_path, stable_hash
from gincli.io.grid import image_grid
from gincli.io.images import ImageReadError, looks_complete, read_image, write_image, write_rgb
from gincli.io.jpeg_blocks import write_cmyk_jpeg, write_jpeg_keeping_blocks
from gincli.io.metadata import read_file_metadata
from gincli.jobs.pipeline import JobOptions, JobSummary, UsageError, bounded_map, check_writable
from gincli.masks.families import FAMILIES, MIXED, generate_mask

AUTO_MASK_FAMILIES = (*FAMILIES, MIXED)
LOSSY = (".jpg", ".jpeg")
JPEG_NOTICE = (
    "gin: note: JPEG outputs made from other formats, or with --quality, are re-encoded whole, so pixels "
    "outside the holes change by a few levels; --format png keeps them exact"
)
AUTO_MASK_REFERENCE = 512  # auto masks are drawn at this long side, then scaled to the image


@dataclass
class BatchOptions(JobOptions):
    masks: Path | None = None
    auto_mask: str | None = None
    seed: int = 0
    mask_from_alpha: bool = False
    recursive: bool = False
    strict: bool = False
    format: str | None = None  # extension such as "png"; None keeps each input's
    quality: int | None = None
    concat: bool = False
    keep_alpha: bool = False  # --mask-from-alpha: filled pixels stay transparent (default: opaque)
    fail_fast: bool = False
    shard: tuple[int, int] | None = None


@dataclass(frozen=True)
class Job:
    source: Source
    mask: Path | None  # a mask file; None for alpha or auto masks
    output: Path


@dataclass
class Summary(JobSummary):
    done: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, why)
    failed: list[tuple[str, str]] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0


def plan_jobs(inputs: list[str], opts: BatchOptions, warn: Callable[[str], None]) -> tuple[list[Job], Summary]:
    """Every (input, mask, output) to produce, after sharding, mask matching and resume checks."""
    sources = [s for s in discover(inputs, opts.recursive) if in_shard(s, opts.shard)]
    summary = Summary()
    folder = MaskFolder(opts.masks) if opts.masks is not None and opts.masks.is_dir() else None
    jobs = []
    # files an output must never replace (with or without --overwrite): every input and every mask
    protected = {s.path.resolve() for s in sources}
    if opts.masks is not None:
        protected |= {p.resolve() for p in (opts.masks.rglob("*") if opts.masks.is_dir() else [opts.masks])}
    for source in sources:
        suffix = f".{opts.format.lower().lstrip('.')}" if opts.format else source.path.suffix
        if folder is not None:
            masks: list[Path | None] = list(folder.masks_for(source.rel))
            if not masks:
                reason = f"no mask in {opts.masks} (looked for {source.rel.stem}.*, {source.rel.stem}_mask*.*)"
                (summary.failed if opts.strict else summary.skipped).append((str(source.path), reason))
                if not opts.strict:
                    warn(f"gin: skipping {source.path}: {reason}")
                continue
        else:
            masks = [opts.masks]  # one mask file for all, or None (alpha / auto)
        for mask in masks:
            out = output_path(opts.output, source.rel, suffix, mask, several=len(masks) > 1)
            if out.resolve() == source.path.resolve():
                raise UsageError(f"output {out} would overwrite its input: choose another -o/--output")
            if out.resolve() in protected:
                raise UsageError(f"output {out} would overwrite an input image or mask: choose another -o/--output")
            if out.exists() and not opts.overwrite:
                if looks_complete(out):
                    summary.skipped.append((str(source.path), f"{out} exists (--overwrite to redo)"))
                    continue
                warn(f"gin: {out} is empty or truncated: redoing it")
            jobs.append(Job(source, mask, out))
    return jobs, summary


def _auto_mask(family: str, height: int, width: int, seed: int, rel: str) -> np.ndarray:
    """A reproducible generated mask: seeded by --seed and the image's relative path."""
    rng = np.random.default_rng([seed, stable_hash(rel)])
    scale = AUTO_MASK_REFERENCE / max(height, width)
    h, w = max(16, round(height * scale)), max(16, round(width * scale))
    return cv2.resize(generate_mask(family, h, w, rng), (width, height), interpolation=cv2.INTER_NEAREST)


def load_mask(job: Job, image: np.ndarray, opts: BatchOptions, warn: Callable[[str], None]) -> np.ndarray:
    """The job's hole mask at the image's size (1 = hole), after --invert-mask and --dilate."""
    h, w = image.shape[:2]
    if opts.auto_mask:
        mask = _auto_mask(opts.auto_mask, h, w, opts.seed, str(job.source.rel))
    elif opts.mask_from_alpha:
        alpha = split_channels(image)[1]
        if alpha is None:
            raise ImageReadError(f"{job.source.path}: --mask-from-alpha but the image has no alpha channel")
        mask = (to_unit_float(alpha) < 0.5).astype(np.float32)  # transparent = hole
    else:
        assert job.mask is not None
        try:
            mask = to_binary_mask(read_image(job.mask))
        except ImageReadError as exc:
            raise ImageReadError(f"mask {exc}") from exc
        if mask.shape != (h, w):
            warn(
                f"gin: {job.mask} is {mask.shape[1]} x {mask.shape[0]}, image is {w} x {h}: resized (nearest neighbour)"
            )
            mask = cv2.resize(mask, (w, h), interpolation=cv2.INTER_NEAREST)
    return opts.finish_mask(mask)


def _as_rgb_float(image: np.ndarray) -> np.ndarray:
    return to_unit_float(split_channels(image)[0])


def _keeps_jpeg_blocks(job: Job, opts: BatchOptions) -> bool:
    """JPEG to JPEG: only the blocks a hole touches are re-encoded (at --quality, if given)."""
    return job.source.path.suffix.lower() in LOSSY and job.output.suffix.lower() in LOSSY


def process(job: Job, inpainter: Inpainter, opts: BatchOptions, warn: Callable[[str], None]) -> str:
    """Decode, mask, inpaint, encode one job; returns the strategy that ran."""
    image = read_image(job.source.path)
    metadata = read_file_metadata(job.source.path)
    mask = load_mask(job, image, opts, warn)
    if not mask.any():
        warn(f"gin: {job.source.path}: the mask has no hole: written unchanged")
    elif mask.all():
        warn(f"gin: {job.source.path}: the mask covers the whole picture: the fill is invented from nothing")
    elif note := opts.inverted_mask_note(mask):
        warn(f"gin: {job.source.path}: {note}")
    result, strategy = inpainter.inpaint_with_info(image, mask)
    if opts.auto_mask:  # keep what reproduces the result: the mask and the masked input
        write_image(job.output.with_name(f"{job.output.stem}_automask.png"), from_unit_float(mask, np.uint8))
        write_rgb(job.output.with_name(f"{job.output.stem}_masked.png"), holes_white(_as_rgb_float(image), mask))
    if opts.concat:
        panels = [_as_rgb_float(image), np.repeat(mask[..., None], 3, axis=2), _as_rgb_float(result)]
        grid = image_grid([panels])
        write_rgb(job.output.with_name(f"{job.output.stem}_concat.png"), grid)
    if opts.mask_from_alpha and not opts.keep_alpha:  # filled pixels are no longer missing: opaque
        result[..., -1][mask > 0] = np.iinfo(result.dtype).max if result.dtype.kind == "u" else 1.0
    # last: its presence means the job is complete; EXIF, colour profile and XMP come along
    if _keeps_jpeg_blocks(job, opts):
        if metadata.converted == "CMYK JPEG":
            why_not = write_cmyk_jpeg(job.source.path, result, job.output, metadata, opts.quality)
            done = "CMYK JPEG re-encoded whole, in CMYK (its black blocks cannot be copied)"
        else:
            why_not = write_jpeg_keeping_blocks(job.source.path, result, mask > 0, job.output, metadata, opts.quality)
            done = None
        if why_not is None:
            if done:
                warn(f"gin: {job.source.path}: {done}: pixels outside the holes change slightly")
            return strategy
        warn(f"gin: {job.source.path}: JPEG re-encoded whole ({why_not}): pixels outside the holes change slightly")
    if metadata.converted and not (metadata.palette and job.output.suffix.lower() == ".png"):
        warn(f"gin: {job.source.path}: a {metadata.converted}, written as RGB")
    write_image(job.output, result, opts.quality, metadata)
    return strategy


def check_options(opts: BatchOptions) -> None:
    """Every usage problem that needs no input decoded: call it before loading a model."""
    if opts.auto_mask and opts.auto_mask not in AUTO_MASK_FAMILIES:
        raise UsageError(f"--auto-mask {opts.auto_mask!r}: choose one of {', '.join(AUTO_MASK_FAMILIES)}")
    sources_given = sum([opts.masks is not None, opts.auto_mask is not None, opts.mask_from_alpha])
    if sources_given != 1:
        raise UsageError("give exactly one mask source: --masks PATH, --auto-mask FAMILY or --mask-from-alpha")
    if opts.masks is not None and not opts.masks.exists():
        raise UsageError(f"--masks {opts.masks}: no such file or folder")
    check_writable(opts.output)


def _take_result(
    job: Job, future: Future[str], summary: Summary, opts: BatchOptions, verbose: bool, warn: Callable[[str], None]
) -> bool:
    """Record one finished image in ``summary``; True where the run must stop (``--fail-fast``)."""
    try:
        strategy = future.result()
    except EngineError:
        raise  # the model itself (e.g. OpenVINO cannot compile it): no later image would fare better
    except Exception as exc:  # one bad file must not stop the run
        reason = str(exc) if isinstance(exc, (ImageReadError, ValueError)) else f"{type(exc).__name__}: {exc}"
        reason = reason.removeprefix(f"{job.source.path}: ")
        summary.failed.append((str(job.source.path), reason))
        warn(f"gin: failed {job.source.path}: {reason}")
        return opts.fail_fast
    summary.done += 1
    summary.count(strategy)
    if verbose:
        warn(f"gin: {job.source.path} -> {job.output} ({strategy})")
    return False


def run_batch(
    inputs: list[str],
    inpainter: Inpainter,
    opts: BatchOptions,
    progress: bool = True,
    verbose: bool = False,
    warn: Callable[[str], None] = tqdm.write,
) -> Summary:
    """Process everything ``inputs`` names; the returned summary says what happened to each file."""
    check_options(opts)
    jobs, summary = plan_jobs(inputs, opts, warn)
    for folder in {job.output.parent for job in jobs}:  # what a killed earlier run left half-written
        remove_stale_partials(folder)
    if any(job.output.suffix.lower() in LOSSY and not _keeps_jpeg_blocks(job, opts) for job in jobs):
        warn(JPEG_NOTICE)
    bar = tqdm(total=len(jobs), unit="image", disable=not progress, dynamic_ncols=True)
    tiles_bar = tqdm(unit="tile", disable=not progress or len(jobs) != 1, dynamic_ncols=True, position=1, leave=False)
    inpainter.on_tiles = tiles_bar.update if not tiles_bar.disable else None  # one huge image: show its tiles
    try:  # the bars closed and the callback dropped however the run ends (a model fault raises)
        with ThreadPoolExecutor(max_workers=max(1, opts.workers)) as executor, warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. numpy on degenerate images; failures are reported per file
            work = lambda j: process(j, inpainter, opts, warn)  # noqa: E731
            try:
                for job, future in bounded_map(executor, jobs, work, 2 * opts.workers, ordered=False):
                    bar.update(1)
                    if _take_result(job, future, summary, opts, verbose, warn):
                        break  # --fail-fast: nothing more starts; the images already running finish
            except KeyboardInterrupt:  # said at once: the executor's exit waits for the images running
                warn("gin: stopping: the images already running are finished first")
                raise
    finally:
        bar.close()
        tiles_bar.close()
        inpainter.on_tiles = None
    return summary


def inpaint_paths(
    inputs: list[str | Path],
    output: str | Path,
    masks: str | Path | None = None,
    model: str | Path | None = None,
    provider: str = "auto",
    strategy: str = "auto",
    progress: bool = False,
    **options: object,
) -> Summary:
    """What ``gin inpaint`` does, for scripts: ``inpaint_paths(["scans/"], "out/", masks="masks/")``.

    ``options`` are :class:`BatchOptions` fields (``auto_mask``, ``dilate``, ``recursive``, ``shard``,
    ``overwrite`` ...). Returns the summary instead of exiting; failures are in ``summary.failed``.
    """
    inpainter = Inpainter(model, provider=provider, strategy=strategy)
    opts = BatchOptions(output=Path(output), masks=Path(masks) if masks is not None else None, **options)  # type: ignore[arg-type]
    return run_batch([str(i) for i in inputs], inpainter, opts, progress=progress)
