"""Options shared by the commands that inpaint (``gin inpaint``, ``gin video``): one definition each."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click

from gincli.core.engine import PROVIDERS

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
    click.option("--provider", type=click.Choice(["auto", *PROVIDERS]), default="auto", show_default=True,
                 help="ONNX Runtime execution provider."),
    click.option("--threads", type=int, help="CPU threads for inference [default: ONNX Runtime's choice]."),
])  # fmt: skip

mask_adjust_options = _stack([
    click.option("--invert-mask", is_flag=True, help="Black = hole instead of white."),
    click.option("--dilate", default=0, show_default=True, help="Grow holes by N pixels."),
])  # fmt: skip


def strategy_option(default: str, help: str) -> Decorator:
    """``--strategy``: how frames or images larger than a tile are covered (defaults differ by command)."""
    from gincli.core.strategies import STRATEGY_NAMES

    return click.option("--strategy", type=click.Choice(STRATEGY_NAMES), default=default, show_default=True, help=help)
