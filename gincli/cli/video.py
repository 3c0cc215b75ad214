"""``gin video`` and ``gin scratches``: thin Click layers over :mod:`gincli.jobs.video`."""

from __future__ import annotations

from dataclasses import fields
from fractions import Fraction
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
from gincli.core.engine import EngineError
from gincli.io.video import VideoError, open_frames
from gincli.io.video_encode import DEFAULT_PRESET, ENCODERS, PRESETS
from gincli.jobs.pipeline import UsageError
from gincli.jobs.video import (
    FIELD_MODES,
    FILM_INPAINTER,
    VideoOptions,
    check_options,
    detect_scratches,
    run_video,
    work_folder,
)
from gincli.masks.scratches import SENSITIVITY, DamageThresholds

DEFAULTS = DamageThresholds()

VIDEO_EPILOG = """\b
IN is a video file (mp4, mov, mkv, avi ...) or a folder of numbered frames
(shot_0001.png ...; --fps sets their rate). OUT is a video file, or a folder
that receives 000001.png, 000002.png ... (a frames folder input keeps its numbers;
DPX scans come out as DPX of the same names, headers kept).
\b
The output keeps the input's frame count, timestamps (fractional and variable
rates included), size and audio (copied, not re-encoded). Masks: white = hole;
--masks DIR matches mask files to frames by the number in their names (1-based
for a video file, as `gin scratches` writes them; masks numbered 0 to 239, or
1001 to 1240, for 240 frames are matched in order, with a note); a frame without
a mask file is copied unchanged, and masks that match no frame are named.
\b
Interrupted? Run the same command again: a video output is built from chunks
of --chunk-frames frames kept in OUT.gin-chunks/, and finished chunks are not
redone; OUT itself appears only once complete. A frames folder skips frames
already written, unless they were made with other settings (another mask, an
edited one too, model or fill): then they are made again.
\b
Examples:
  gin video film.mp4 --auto-mask scratches -o clean.mp4
  gin video film.mp4 --masks reviewed_masks/ --dilate 1 -o clean.mp4
  gin video shot.mov --mask logo.png -o shot_clean.mov --codec h264 --crf 16
  gin video scans/ --fps 24000/1001 --auto-mask scratches -o restored/ --temporal 0.5"""

SCRATCHES_EPILOG = f"""\b
What is detected (intensities are fractions of full scale, 0-1):
  line scratches  thin, long, near-vertical lines brighter or darker than the
                  picture beside them (--line-contrast) by at least that much,
                  at most --line-width px wide, at least --line-min-length of
                  the frame height (or {DEFAULTS.line_min_rows} px) long, leaning at most
                  --line-max-slant columns a row and bending at most
                  --line-max-bend px from straight. Picture, not damage: lines
                  that move with the picture beside them (tree trunks, masts),
                  lines at the same place 12 frames before and after (a door
                  frame on a still shot), lines whose two sides differ
                  (edges). A scratch found in one frame is followed up to
                  --line-follow frames before and after it, at its place on
                  the film, where those frames alone miss it (a scratch that
                  lasts longer than 12 frames on a still shot is found where
                  it is gone 12 frames on, and followed back). Near cuts and
                  in busy shots some picture is still taken: review the masks.
  dust, blotches  pixels brighter or darker than the same place in both the
                  previous and the next frame (after aligning them for weave
                  and pans) by --dust-contrast, in specks of --dust-min-area
                  px up to --dust-max-area of the frame. A small thing moving
                  faster than the alignment follows (a ball, a mouth opening)
                  is near where it was in a neighbour frame: picture, left
                  alone.
Everything found is grown by --grow px (soft scratch edges). --sensitivity
scales both contrasts at once: start with low on busy footage (crowds, leaves,
fast cameras), high for faint damage on quiet shots.
\b
Examples:
  gin scratches film.mp4 -o masks/              # review or paint over masks/, then
  gin video film.mp4 --masks masks/ -o clean.mp4"""


SHARE = click.FloatRange(0, 1, min_open=True)  # a contrast as a share of full scale: 0 would take all picture


def threshold_options(command: click.Command) -> click.Command:
    """The detector's thresholds, shared by `gin scratches` and `gin video --auto-mask scratches`."""
    options = [
        click.option("--line-contrast", default=DEFAULTS.line_contrast, show_default=True, type=SHARE,
                     help="Scratch brightness difference from its sides (0-1). Dirt takes away a share of the "
                          "light: a dark scratch over picture darker than 0.2 needs less, in proportion to the "
                          "light there (at least half of it)."),
        click.option("--line-width", default=DEFAULTS.line_width, show_default=True, type=click.IntRange(min=1), help="Widest scratch, px."),
        click.option("--line-min-length", default=DEFAULTS.line_min_length, show_default=True, type=click.FloatRange(0, 1),
                     help=f"Shortest scratch, fraction of the frame height (or {DEFAULTS.line_min_rows} px, if shorter)."),
        click.option("--line-max-slant", default=DEFAULTS.line_max_slant, show_default=True, type=click.FloatRange(min=0),
                     help="Most a scratch leans, columns per row (0.06: about 3.5 degrees; raise it for skewed scans)."),
        click.option("--line-max-bend", default=DEFAULTS.line_max_bend, show_default=True, type=click.FloatRange(min=0),
                     help="Most a scratch's course bends from straight over its length, px (a wheel's rim "
                          "bends more; raise it for warped scans)."),
        click.option("--line-sharpness", default=DEFAULTS.line_sharpness, show_default=True, type=click.FloatRange(min=0),
                     help="How sharp a scratch's edges are: its steepest step between two pixels, as a share "
                          "of its contrast (0: any; lower it for soft or upscaled footage). A line that no frame "
                          "12 away can judge (passers-by, short shots) must be 6 % sharper."),
        click.option("--line-follow", default=DEFAULTS.line_follow, show_default=True, type=click.IntRange(min=0),
                     help="Frames a scratch found in one frame is followed before and after it, at its place "
                          "on the film, where those frames alone miss it (0: judge every frame alone)."),
        click.option("--dust-contrast", default=DEFAULTS.dust_contrast, show_default=True, type=SHARE,
                     help="Dust difference from both neighbour frames (0-1)."),
        click.option("--dust-min-area", default=DEFAULTS.dust_min_area, show_default=True, type=click.IntRange(min=1),
                     help="Smallest speck, px (a lone pixel unlike both neighbour frames is noise: a hot pixel, a codec's sparkle)."),
        click.option("--dust-max-area", default=DEFAULTS.dust_max_area, show_default=True, type=click.FloatRange(0, 1),
                     help="Largest speck, fraction of the frame area (never under 150 px)."),
        click.option("--dust-standout", default=DEFAULTS.dust_standout, show_default=True, type=click.FloatRange(min=0),
                     help="How much a speck stands out from the picture around it, as a share of its difference "
                          "from the neighbour frames (0: any; moving reflections and wheels blend in)."),
        click.option("--grow", default=DEFAULTS.grow, show_default=True, type=click.IntRange(min=0), help="Grow detected damage by N px."),
        click.option("--sensitivity", type=click.Choice(list(SENSITIVITY)), default="normal", show_default=True,
                     help="low: only clear damage, fewest false alarms on busy footage; high: fainter damage too. "
                          f"Multiplies both contrasts ({', '.join(f'{k} x{v:g}' for k, v in SENSITIVITY.items())})."),
    ]  # fmt: skip
    for option in reversed(options):
        command = option(command)
    return command


fields_option = click.option(
    "--fields", type=click.Choice(FIELD_MODES), default="auto", show_default=True,
    help="Interlaced footage (broadcast, DV: each frame two instants, its even and its odd lines): separate "
         "finds damage in each field apart and fills it, where the picture combs, from that field's lines "
         "alone; whole treats frames as single pictures (footage deinterlaced already, say). auto: by what the "
         "first frames show (read once more for that, up to 240 frames): combed, separate; moving and never "
         "combed, whole (film transferred frame for frame, even flagged interlaced); too still to tell, as "
         "the file says.",
)  # fmt: skip


workers_option = click.option(
    "--workers", default=VideoOptions.workers, show_default=True, type=click.IntRange(min=1),
    help="Frames in flight: damage found, and frames filled, on that many threads at once. The default keeps "
         "two cores busy; raise it on a machine with more (each frame in flight holds 30-70 MB more at "
         "1280 x 720); the output is the same whatever it is.",
)  # fmt: skip


def _thresholds(options: dict) -> DamageThresholds:
    names = [field.name for field in fields(DamageThresholds) if field.name in options]  # those given as options
    return DamageThresholds(**{name: options.pop(name) for name in names}).at_sensitivity(options.pop("sensitivity"))


def _fps(text: str) -> Fraction:
    try:
        value = Fraction(text)
    except (ValueError, ZeroDivisionError):
        raise click.BadParameter(f"{text!r}: a rate such as 24, 25 or 24000/1001") from None
    if value <= 0:
        raise click.BadParameter(f"{text!r}: must be positive")
    return value


@click.command("video", epilog=VIDEO_EPILOG)
@click.argument("input_path", metavar="IN", type=click.Path(path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path), help="Video file or frames folder.")
@click.option("--mask", type=click.Path(dir_okay=False, path_type=Path), help="One mask for every frame.")
@click.option("--masks", type=click.Path(file_okay=False, path_type=Path), help="One mask per frame, by number.")
@click.option("--mask-video", type=click.Path(dir_okay=False, path_type=Path), help="A mask video as long as IN.")
@click.option("--auto-mask", type=click.Choice(["scratches"]), help="Detect film scratches and dust per frame.")
@threshold_options
@mask_adjust_options
@strategy_option(
    FILM_INPAINTER["strategy"],
    "Tiling of frames larger than 256 x 256 (see `gin inpaint --help`); crop suits sparse damage.",
)
@click.option("--temporal", default=0.0, show_default=True, type=click.FloatRange(0, 0.95),
              help="Blend each fill with the previous frame's where the hole and its surroundings stay "
                   "(0 off; 0.5 halves flicker of static holes). Resets at cuts and motion.")  # fmt: skip
@click.option("--codec", type=click.Choice(list(ENCODERS)), default="h264", show_default=True,
              help="Video codec (ffv1 = lossless, in .mkv or .avi, keeping a YUV input's format and depth).")  # fmt: skip
@click.option("--crf", default=18, show_default=True, type=click.IntRange(0, 51),
              help="Quality for h264/hevc (lower = better, 18 looks lossless; 0 is lossless for h264, "
                   "which keeps a YUV input's picture outside the holes bit for bit).")  # fmt: skip
@click.option("--preset", type=click.Choice(PRESETS), default=DEFAULT_PRESET, show_default=True,
              help="Encoding speed for h264/hevc: a faster preset encodes quicker, a little below the quality "
                   "or above the size of a slower one at the same --crf (on 720p: faster against fast, "
                   "a quarter to a half less encoding time, up to 0.2 dB lower; medium, a sixth more time "
                   "for the same quality and size, as no B-frames are used).")  # fmt: skip
@click.option("--fps", default="24", show_default=True, help="Frame rate of a frames-folder IN (e.g. 24000/1001).")
@fields_option
@click.option("--chunk-frames", default=240, show_default=True, help="Frames per resumable chunk.")
@workers_option
@click.option("--overwrite", is_flag=True, help="Replace OUT (or frames in it) if it exists.")
@engine_options
@fill_options("auto", FILM_INPAINTER["thin_radius"], FILM_INPAINTER["texture"])
def video_command(input_path: Path, model: Path | None, provider: str, threads: int | None, precision: str, fill: str, thin_radius: float, texture: float, strategy: str,
                  fps: str, **options: object) -> None:  # fmt: skip
    """Inpaint a video frame by frame, keeping its timing and sound."""
    from gincli.core.hardware import reuse_frame_buffers
    from gincli.core.inpainter import Inpainter

    opts = VideoOptions(thresholds=_thresholds(options), fps=_fps(fps), **options)  # type: ignore[arg-type]
    try:
        check_options(input_path, opts)  # usage errors before the model loads
        open_frames(input_path, opts.fps)  # and an input that cannot be read (a VideoError) too
        note_unused_model(model, fill)
        reuse_frame_buffers()  # before the engine's threads start, so they share the frame heaps too
        inpainter = Inpainter(
            model,
            provider=provider,
            threads=threads,
            precision=precision,
            fill=fill,
            thin_radius=thin_radius,
            texture=texture,
            strategy=strategy,
        )
        summary = run_video(input_path, inpainter, opts)
    except (UsageError, EngineError) as exc:
        raise click.UsageError(str(exc)) from exc
    except KeyboardInterrupt:
        kept = work_folder(opts.output)
        stop_interrupted("gin video", f"what was finished is kept in {kept}; the same command again goes on from it")
    except VideoError as exc:
        click.echo(f"gin video: {exc}", err=True)
        raise SystemExit(1) from exc
    used = ", ".join(f"{k} {v}" for k, v in sorted(summary.strategies.items()))
    click.echo(
        f"wrote {opts.output}: {summary.frames} frames, {summary.inpainted} inpainted"
        f"{f' ({used})' if used else ''}{f', {summary.resumed} kept from an earlier run' if summary.resumed else ''}",
        err=True,
    )
    for warning in summary.warnings:
        click.echo(f"gin video: warning: {warning}", err=True)


@click.command("scratches", epilog=SCRATCHES_EPILOG)
@click.argument("input_path", metavar="IN", type=click.Path(exists=True, path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the masks: 000001.png ... (white = damage).")  # fmt: skip
@threshold_options
@click.option("--fps", default="24", show_default=True, help="Frame rate of a frames-folder IN.")
@fields_option
@workers_option
@click.option("--overwrite", is_flag=True, help="Replace masks already in OUT (masks edited by hand too).")
def scratches_command(
    input_path: Path, output: Path, fps: str, fields: str, workers: int, overwrite: bool, **options: object
) -> None:
    """Detect film scratches and dust; write one mask per frame to review."""
    try:
        count = detect_scratches(input_path, output, _thresholds(options), _fps(fps), overwrite=overwrite,
                                 warn=lambda message: click.echo(message, err=True), fields=fields,
                                 workers=workers)  # fmt: skip
    except UsageError as exc:
        raise click.UsageError(str(exc)) from exc
    except KeyboardInterrupt:
        stop_interrupted("gin scratches", f"the masks written so far are in {output}; --overwrite to make them again")
    except VideoError as exc:
        click.echo(f"gin scratches: {exc}", err=True)
        raise SystemExit(1) from exc
    click.echo(f"wrote {count} masks to {output}", err=True)
