"""``gin export``: checkpoint -> verified ONNX model. torch is imported only when it runs."""

from __future__ import annotations

import importlib.util
import tempfile
from pathlib import Path

import click

from gincli.cli.options import stop_interrupted
from gincli.io.images import ImageReadError


@click.command(
    "export",
    epilog="""\b
Examples:
  gin export runs/mine/latest.pth                  # -> runs/mine/latest.onnx
  gin export latest_net_G.pth -o deepgin.onnx      # the authors' released generator
  gin export runs/mine/latest.pth --fp16 -o gpu.onnx
  gin export runs/mine/latest.pth --int8 --calibration photos/   # CPU int8 (opt-in)""",
)
@click.argument("checkpoint", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="ONNX file to write [default: CHECKPOINT with .onnx].",
)
@click.option(
    "--fp16", is_flag=True, help="Half-precision graph for GPUs (float32 inputs and output kept); verified to 1e-2."
)
@click.option("--int8", is_flag=True, help="Statically quantised graph for CPUs with VNNI (needs --calibration).")
@click.option(
    "--calibration",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Folder of real photos to calibrate --int8 on (a few dozen is enough).",
)
@click.option(
    "--calibration-samples",
    default=32,
    show_default=True,
    type=click.IntRange(min=1),
    help="Calibration samples for --int8.",
)
def export_command(
    checkpoint: Path, output: Path | None, fp16: bool, int8: bool, calibration: Path | None, calibration_samples: int
) -> None:
    """Export a generator checkpoint to one ONNX graph holding G1 and G2.

    CHECKPOINT is a `gin train` checkpoint, the authors' `latest_net_G.pth`, or a
    graph from `gin export` (its weights are read back; an fp32 graph is quantised
    as it is with --int8); the width is read from the file. The graph takes `image` (N x 3 x 256 x 256, RGB in
    [0, 1]) and `mask` (N x 1 x 256 x 256, 1 = hole) and returns `inpainted`. It is
    checked with the ONNX checker and run in ONNX Runtime against PyTorch: the
    export fails (exit 1) if they differ by more than 1e-4 (fp32) or 1e-2 (fp16).
    """
    missing = [m for m in ("torch", "onnxscript") if importlib.util.find_spec(m) is None]
    if missing:
        raise click.ClickException(
            f"gin export needs {' and '.join(missing)}, which this install lacks: pip install 'deepgin[train]'"
        )
    try:
        from export.onnx_export import ExportError, export_checkpoint
        from train.checkpoint import CheckpointError
        from train.onnx_weights import is_fp32_graph
    except ImportError as exc:
        raise click.ClickException(
            f"export needs torch ({exc}); install it with: pip install 'deepgin[train]'"
        ) from exc
    if int8 and (fp16 or calibration is None):
        raise click.UsageError("--int8 needs --calibration DIR and cannot be combined with --fp16")
    if int8:  # said before the export's half a minute, not after
        from export.quantize import ExportQuantizationError, calibration_files

        try:
            calibration_files(calibration)
        except ExportQuantizationError as exc:
            raise click.UsageError(f"--calibration {exc}") from exc
    output = output or checkpoint.with_suffix(".int8.onnx" if int8 else ".onnx")
    if output.resolve() == checkpoint.resolve():  # a graph exported again, or quantised, without -o
        raise click.UsageError(f"{output} is CHECKPOINT itself: give -o/--output for the new graph")
    try:
        as_it_is = int8 and is_fp32_graph(checkpoint)  # quantise a shipped graph as it is: no re-export
    except (OSError, ValueError) as exc:  # its header read: cut short, damaged, or not ONNX at all
        raise click.ClickException(f"{checkpoint}: not an ONNX model ({exc}); export it again") from exc
    try:
        with tempfile.TemporaryDirectory() as tmp:
            if as_it_is:
                fp32_path = checkpoint
            else:
                fp32_path = Path(tmp) / "fp32.onnx" if int8 else output
                result = export_checkpoint(checkpoint, fp32_path, fp16=fp16, report=_say)
                click.echo(
                    f"{result.precision} graph (ngf {result.ngf}): max |ONNX Runtime - PyTorch| = "
                    f"{result.max_abs_diff:.2e} (tolerance {result.tolerance:g}): verified"
                )
            if int8:
                from export.quantize import compare_to_reference, quantize_model

                _say(f"quantising to int8, calibrated on {calibration_samples} samples from {calibration}")
                quantize_model(fp32_path, output, calibration, samples=calibration_samples)
                psnr = compare_to_reference(output, fp32_path, calibration)
                click.echo(f"int8 graph: PSNR against the fp32 graph on calibration images {psnr:.2f} dB")
    except (CheckpointError, ExportError, ImageReadError) as exc:  # a calibration photo that cannot be read too
        raise click.ClickException(str(exc)) from exc
    except KeyboardInterrupt:
        stop_interrupted("gin export", f"nothing was written to {output} (a graph is written only once verified)")
    click.echo(f"wrote {output}")


def _say(step: str) -> None:
    click.echo(f"gin export: {step} ...", err=True)
