"""Checkpoint -> one ONNX graph holding G1 + G2, verified against PyTorch.

The graph's contract (read back by :class:`gincli.core.engine.Engine`):
inputs ``image`` float32 N x 3 x 256 x 256 RGB in [0, 1] and ``mask`` float32
N x 1 x 256 x 256 with 1 = hole (binarised at 0.5 inside the graph); output
``inpainted`` float32 N x 3 x 256 x 256 in [0, 1], equal to ``image`` outside
the hole. Batch is dynamic, the spatial size fixed (what TensorRT wants; tiling
is the caller's job).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import torch
from torch import nn

from export.half import half_precision_graph
from gincli import __version__
from gincli.core.model_contract import IMAGE_INPUT, MASK_INPUT, OUTPUT, TILE, metadata_keys
from gincli.io.atomic import partial_name
from train.checkpoint import load_generator
from train.generator import DeepGINGenerator
from train.onnx_weights import is_fp32_graph

OPSET = 18
TOLERANCE = {"fp32": 1e-4, "fp16": 1e-2}


class InpaintingGraph(nn.Module):
    """The exported computation: binarise the mask, run DeepGIN, clamp, composite."""

    def __init__(self, generator: DeepGINGenerator) -> None:
        super().__init__()
        self.generator = generator

    def forward(self, image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        hole = mask >= 0.5
        filled = self.generator(image, hole.to(image.dtype)).reconstructed
        # a select, not arithmetic: valid pixels are the input's bits, whatever precision runs inside
        return torch.where(hole, filled.clamp(0.0, 1.0), image)


@dataclass
class ExportResult:
    path: Path
    precision: str
    max_abs_diff: float
    tolerance: float
    ngf: int

    @property
    def verified(self) -> bool:
        return self.max_abs_diff <= self.tolerance


class ExportError(RuntimeError):
    """Export or verification failed; the message says what and where."""


def sha256_of(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _trace_to_onnx(graph: InpaintingGraph, path: Path) -> None:
    """torch.export-based ONNX export (clean static pads, no shape sub-graphs); batch dynamic."""
    batch = torch.export.Dim("batch", min=1, max=1024)
    example = (torch.rand(2, 3, TILE, TILE), torch.rand(2, 1, TILE, TILE))
    quiet = io.StringIO()
    torch_onnx_log = logging.getLogger("torch.onnx")
    level = torch_onnx_log.level
    torch_onnx_log.setLevel(logging.ERROR)  # e.g. "torchvision is not installed. Skipping torchvision::nms"
    with warnings.catch_warnings(), contextlib.redirect_stdout(quiet):
        warnings.simplefilter("ignore")
        torch.onnx.export(
            graph,
            example,
            str(path),
            opset_version=OPSET,
            dynamo=True,
            input_names=[IMAGE_INPUT, MASK_INPUT],
            output_names=[OUTPUT],
            dynamic_shapes={IMAGE_INPUT: {0: batch}, MASK_INPUT: {0: batch}},
            external_data=False,
            verbose=False,
        )
    torch_onnx_log.setLevel(level)


def _finish(source: Path, path: Path, entries: dict[str, str], half: bool) -> None:
    """The graph of ``source`` written to ``path``, converted to fp16 where asked, stating what it is
    in its metadata."""
    model = onnx.load(str(source))
    if half:
        model = half_precision_graph(model)
    del model.metadata_props[:]
    onnx.helper.set_model_props(model, entries)
    model.doc_string = "DeepGIN inpainting (G1 + G2), exported by gin"
    onnx.save(model, str(path))


def ort_vs_torch(onnx_path: Path, reference: DeepGINGenerator, batch: int = 2, seed: int = 0) -> float:
    """Largest |ORT - PyTorch fp32| on random images and masks (CPU provider)."""
    import onnxruntime as ort

    rng = np.random.default_rng(seed)
    image = rng.random((batch, 3, TILE, TILE), dtype=np.float32)
    mask = (rng.random((batch, 1, TILE, TILE)) < 0.4).astype(np.float32)
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    got = session.run([OUTPUT], {IMAGE_INPUT: image, MASK_INPUT: mask})[0]
    with torch.no_grad():
        want = InpaintingGraph(reference)(torch.from_numpy(image), torch.from_numpy(mask)).numpy()
    return float(np.abs(got - want).max())


def export_checkpoint(
    checkpoint: str | Path, output: str | Path, fp16: bool = False, report: Callable[[str], None] = lambda _: None
) -> ExportResult:
    """Export, check with the ONNX checker, verify in ONNX Runtime, then move into place;
    ``report`` is told each step as it starts (the trace takes most of a minute, at any width).

    The graph is written to a temporary name; a graph that fails verification is kept
    as ``<output>.unverified.onnx`` for inspection and :class:`ExportError` is raised.
    An fp16 graph is the fp32 graph converted (:mod:`export.half`); from an fp32 graph of
    ``gin export`` that is done without tracing the generator again.
    """
    checkpoint, output = Path(checkpoint), Path(output)
    if output.resolve() == checkpoint.resolve():
        raise ExportError(f"{output}: refusing to write the ONNX model over its own checkpoint")
    generator, info = load_generator(checkpoint)
    precision = "fp16" if fp16 else "fp32"
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = partial_name(output)
    try:
        if fp16 and is_fp32_graph(checkpoint):
            source = checkpoint  # converted as it is, no second trace; verified below all the same
            report("converting the fp32 graph to fp16")
        else:
            source = tmp
            report(f"tracing the network (ngf {info['ngf']}) into an ONNX graph{' and converting it to fp16' * fp16}")
            _trace_to_onnx(InpaintingGraph(generator).eval(), tmp)
        _finish(source, tmp, metadata_keys(
            ngf=info["ngf"], source_sha256=sha256_of(checkpoint), step=info["step"], precision=precision,
            source_name=checkpoint.name, version=__version__, hole_fill=info["hole_fill"],
        ), half=fp16)  # fmt: skip
        onnx.checker.check_model(str(tmp))
        report("checking the graph in ONNX Runtime against PyTorch")
        diff = ort_vs_torch(tmp, generator)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    result = ExportResult(output, precision, diff, TOLERANCE[precision], info["ngf"])
    if not result.verified:
        failed = output.with_suffix(".unverified.onnx")
        os.replace(tmp, failed)
        raise ExportError(
            f"{output}: ONNX Runtime differs from PyTorch by {diff:.3g} (tolerance {result.tolerance:g}); "
            f"the graph was kept as {failed} for inspection"
        )
    os.replace(tmp, output)
    return result
