"""Static int8 quantisation of an exported fp32 graph, for CPUs with VNNI.

Calibrated on real images (centre crops at 256 x 256 with seeded masks of every
family), QDQ format, per-channel int8 weights and uint8 activations. Kept in fp32,
where int8 costs more than it saves or hurts accuracy most: the attention
MatMul/Softmax, the convolutions with 1 or 3 output channels (the image and
alpha heads) and the final composite, so valid pixels pass through exactly. The measurements behind this are in docs/measurements.md (*Inference engine*, *int8 accuracy*).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import onnx
from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
from onnxruntime.quantization.shape_inference import quant_pre_process

from gincli.core.model_contract import IMAGE_INPUT, MASK_INPUT, PRECISION_KEY, TILE
from gincli.core.tiling import centre_square
from gincli.io.atomic import atomic_path
from gincli.io.images import iter_image_files, read_rgb
from gincli.masks.families import generate_mask


class ExportQuantizationError(RuntimeError):
    """Calibration data is missing or unusable."""


def calibration_files(folder: str | Path) -> list[Path]:
    """The images in ``folder`` to calibrate on; :class:`ExportQuantizationError` if there are none."""
    files = list(iter_image_files(folder))
    if not files:
        raise ExportQuantizationError(f"{folder}: no images in it; calibrate on a folder of real photos")
    return files


def calibration_batches(folder: str | Path, samples: int, seed: int = 0) -> Iterator[dict[str, np.ndarray]]:
    """Up to ``samples`` (image, mask) pairs: a centre square of each image resized to 256."""
    files = calibration_files(folder)
    rng = np.random.default_rng(seed)
    for i in range(samples):
        square = centre_square(read_rgb(files[i % len(files)]), TILE)
        mask = generate_mask("mixed", TILE, TILE, rng)
        yield {IMAGE_INPUT: square.transpose(2, 0, 1)[None].copy(), MASK_INPUT: mask[None, None]}


class _Reader(CalibrationDataReader):
    def __init__(self, batches: Iterator[dict[str, np.ndarray]]) -> None:
        self._batches = batches

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self._batches, None)


def _inside_generator(node: onnx.NodeProto) -> bool:
    """The exporter records each node's module path; the wrapper's own ops (mask binarisation,
    clamp, final composite) sit outside the generator."""
    namespace = next((p.value for p in node.metadata_props if p.key == "namespace"), "")
    return "/generator:" in namespace


def fp32_node_names(model: onnx.ModelProto) -> list[str]:
    """Kept in fp32: attention (MatMul, Softmax), the narrow output convolutions, and the
    wrapper's composite, so pixels outside the hole pass through unchanged."""
    weights = {init.name: init.dims for init in model.graph.initializer}
    keep = []
    for node in model.graph.node:
        if node.op_type in ("MatMul", "Softmax") or not _inside_generator(node):
            keep.append(node.name)
        elif node.op_type == "Conv" and len(node.input) > 1 and weights.get(node.input[1], [99])[0] <= 3:
            keep.append(node.name)
    return keep


def bypass_input_quantization(model: onnx.ModelProto) -> None:
    """The quantiser feeds every consumer of a graph input through its Q/DQ pair, the
    wrapper's final select too; point the wrapper's nodes back at the float input so
    pixels outside the hole are the caller's, bit for bit."""
    graph_inputs = {i.name for i in model.graph.input}
    quantized_from = {n.output[0]: n.input[0] for n in model.graph.node if n.op_type == "QuantizeLinear"}
    dequantized_input = {
        n.output[0]: quantized_from[n.input[0]]
        for n in model.graph.node
        if n.op_type == "DequantizeLinear" and quantized_from.get(n.input[0]) in graph_inputs
    }
    for node in model.graph.node:
        if not _inside_generator(node):
            for i, name in enumerate(node.input):
                if name in dequantized_input:
                    node.input[i] = dequantized_input[name]


def quantize_model(fp32_model: str | Path, output: str | Path, calibration: str | Path, samples: int = 32) -> Path:
    """Write a statically quantised copy of ``fp32_model`` to ``output`` (atomically; never over
    ``fp32_model`` itself)."""
    output = Path(output)
    if output.resolve() == Path(fp32_model).resolve():
        raise ExportQuantizationError(f"{output}: refusing to write the int8 graph over the fp32 graph it is made from")
    with tempfile.TemporaryDirectory() as tmp:
        prepared = Path(tmp) / "prepared.onnx"
        quant_pre_process(str(fp32_model), str(prepared), skip_symbolic_shape=True)
        model = onnx.load(str(prepared))
        with atomic_path(output) as partial:
            quantize_static(
                str(prepared),
                str(partial),
                _Reader(calibration_batches(calibration, samples)),
                quant_format=QuantFormat.QDQ,
                per_channel=True,
                activation_type=QuantType.QUInt8,
                weight_type=QuantType.QInt8,
                nodes_to_exclude=fp32_node_names(model),
            )
            quantized = onnx.load(str(partial))
            bypass_input_quantization(quantized)
            props = {p.key: p.value for p in onnx.load(str(fp32_model), load_external_data=False).metadata_props}
            props[PRECISION_KEY] = "int8"
            del quantized.metadata_props[:]
            onnx.helper.set_model_props(quantized, props)
            onnx.save(quantized, str(partial))
    return output


def compare_to_reference(model: str | Path, reference: str | Path, images: str | Path, samples: int = 8) -> float:
    """PSNR (dB) of ``model``'s completed tiles against ``reference``'s, on seeded samples."""
    from gincli.core.engine import Engine
    from gincli.core.metrics import psnr

    quiet = lambda message: None  # noqa: E731
    a, b = Engine(model, provider="cpu", report=quiet), Engine(reference, provider="cpu", report=quiet)
    scores = []
    for batch in calibration_batches(images, samples, seed=1):
        scores.append(psnr(a.run(batch[IMAGE_INPUT], batch[MASK_INPUT]), b.run(batch[IMAGE_INPUT], batch[MASK_INPUT])))
    return float(np.mean(scores))
