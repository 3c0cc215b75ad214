"""The ``gin`` command: a thin Click layer; each command lives beside the code it drives."""

from __future__ import annotations

import logging

import click

from export.command import export_command
from gincli import __version__
from gincli.cli.eval import eval_command
from gincli.cli.inpaint import inpaint_command
from gincli.cli.video import scratches_command, video_command
from train.command import train_command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="gin")
def main() -> None:
    """gin: DeepGIN image inpainting. Fill holes in photos and video frames.

    \b
    Train a model, export it to ONNX, and inpaint with ONNX Runtime (TensorRT,
    CUDA or CPU). Run `gin COMMAND --help` for each command's options.
    """
    log = logging.getLogger("gin")
    if not log.handlers:  # provider choices and skips, one line each, on stderr
        log.addHandler(logging.StreamHandler())
        log.setLevel(logging.INFO)


main.add_command(inpaint_command)
main.add_command(train_command)
main.add_command(export_command)
main.add_command(eval_command)
main.add_command(video_command)
main.add_command(scratches_command)
