"""Options shared by the commands that inpaint (``gin inpaint``, ``gin video``): one definition each."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import click

from gincli.core.engine import BACKENDS, PRECISIONS

Decorator = Callable[[Callable], Callable]


def _stack(options: list[Decorator]) -> Decorator:
    def apply(command: Callable) -> Callable:
        for option in reversed(options):
            command = option(command)
        return command

    return apply


engine_options = _stack([
    click.option("--model", type=click.Path(dir_okay=False, path_type=Path),
                 help="ONNX model from `gin export` [default: the bundled model]."),
    click.option("--provider", type=click.Choice(["auto", *BACKENDS]), default="auto", show_default=True,
                 help="Where inference runs. auto: TensorRT, then CUDA, then OpenVINO on the CPU, then ONNX "
                      "Runtime's CPU provider (cpu), the first that can run here."),
    click.option("--precision", type=click.Choice(PRECISIONS), default="auto", show_default=True,
                 help="OpenVINO's arithmetic. auto: bf16 where the CPU computes it natively (AVX512_BF16, AMX), "
                      "fp32 elsewhere; fp32: exact fp32 everywhere."),
    click.option("--threads", type=click.IntRange(min=1), help="CPU threads for inference [default: ONNX Runtime's choice]."),
])  # fmt: skip


def note_unused_model(model: Path | None, fill: str) -> None:
    """Say so where ``--model`` is given to the fill that runs no network: a mistyped or
    wrong model there would otherwise pass unnoticed."""
    if model is not None and fill == "classical":
        click.echo(f"gin: --fill classical runs no network: --model {model} is not read", err=True)


def stop_interrupted(command: str, kept: str) -> NoReturn:
    """Ctrl-C: one line saying what was kept and how to go on, and exit status 130, as a shell
    reports a command stopped by SIGINT (Click said only "Aborted!", with status 1)."""
    click.echo(f"\n{command}: interrupted: {kept}", err=True)
    raise SystemExit(130)


def fill_options(default: str, thin_radius: float, texture: float) -> Decorator:
    """``--fill``, ``--thin-radius`` and ``--texture``: which holes the network fills and which a
    classical method fills, and how much texture the network's fills get (the defaults differ:
    photos favour quality, films speed and frames that do not flicker)."""
    from gincli.core.classical import FILL_METHODS

    summary = "; ".join(f"{m.name}: {m.summary}" for m in FILL_METHODS.values())
    return _stack([
        click.option("--fill", type=click.Choice(list(FILL_METHODS)), default=default, show_default=True,
                     help=f"Fill method. {summary}."),
        click.option("--thin-radius", type=click.FloatRange(min=0), default=thin_radius, show_default=True,
                     help="--fill auto: the parts of a hole where no disc of this radius (px) fits are thin (classical fill); the rest goes to the network."),
        click.option("--texture", type=click.FloatRange(0, 1), default=texture, show_default=True,
                     help="--fill auto: how much of the photo's own fine detail (grain, foliage, fabric) the network's "
                          "smooth fills get, from 0 (none) to 1. More looks more like the picture around the hole and "
                          "scores better on perceptual metrics, slightly worse on PSNR and SSIM."),
    ])  # fmt: skip


mask_adjust_options = _stack([
    click.option("--invert-mask", is_flag=True, help="Black = hole instead of white."),
    click.option("--dilate", default=0, show_default=True, type=click.IntRange(min=0), help="Grow holes by N pixels."),
])  # fmt: skip


def strategy_option(default: str, help: str) -> Decorator:
    """``--strategy``: how frames or images larger than a tile are covered (defaults differ by command)."""
    from gincli.core.strategies import STRATEGY_NAMES

    return click.option("--strategy", type=click.Choice(STRATEGY_NAMES), default=default, show_default=True, help=help)


def renamed_option(old: str, new: str, dest: str, **kwargs: object) -> Decorator:
    """``old`` keeps working for scripts written before it was renamed ``new``: hidden from the
    help, with a note on use. The command gets it as ``dest`` and takes it via :func:`either`."""

    def note(ctx: click.Context, param: click.Parameter, value: object) -> object:
        if value is not None:
            click.echo(f"gin: {old} is deprecated: use {new}", err=True)
        return value

    return click.option(old, dest, hidden=True, callback=note, **kwargs)  # type: ignore[call-overload]


def either(value: object, old_value: object, new: str, required: bool = False) -> object:
    """The value of a renamed option, given under its new or its old name."""
    if value is None:
        value = old_value
    if value is None and required:
        raise click.UsageError(f"Missing option '{new}'.")
    return value
