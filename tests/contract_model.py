"""A stand-in model that keeps gin's ONNX contract and costs next to nothing to build and run.

Tests of the jobs around the network (files, masks, video, resume, tiling) need *a* model,
not DeepGIN: exporting DeepGIN takes 20 s of one core and running it most of the rest of
a test's time. This graph has the exported model's inputs, output, dynamic batch and
metadata; it fills each hole with the mean of the valid pixels in its 16 x 16 cell
(the image's mean where a cell has none), so a hole always changes and valid pixels stay.
The export and parity tests keep the real exported network (`exported` in conftest).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from gincli.core.model_contract import IMAGE_INPUT, MASK_INPUT, OUTPUT, TILE, metadata_keys

CELL = 16


def write_contract_model(path: Path) -> Path:
    def const(name: str, value: list[float] | list[int], dtype: type = np.float32) -> onnx.TensorProto:
        return numpy_helper.from_array(np.array(value, dtype=dtype), name)

    nodes = [
        helper.make_node("GreaterOrEqual", [MASK_INPUT, "half"], ["hole"]),
        helper.make_node("Cast", ["hole"], ["hole_f"], to=TensorProto.FLOAT),
        helper.make_node("Sub", ["one", "hole_f"], ["valid"]),
        helper.make_node("Mul", [IMAGE_INPUT, "valid"], ["known"]),
        helper.make_node("AveragePool", ["known"], ["cell_known"], kernel_shape=[CELL, CELL], strides=[CELL, CELL]),
        helper.make_node("AveragePool", ["valid"], ["cell_valid"], kernel_shape=[CELL, CELL], strides=[CELL, CELL]),
        helper.make_node("ReduceMean", ["known", "spatial"], ["all_known"]),
        helper.make_node("ReduceMean", ["valid", "spatial"], ["all_valid"]),
        helper.make_node("Add", ["all_valid", "tiny"], ["all_valid_safe"]),
        helper.make_node("Div", ["all_known", "all_valid_safe"], ["image_mean"]),
        # a cell without valid pixels takes the image's mean: (k + e m) / (v + e)
        helper.make_node("Mul", ["image_mean", "small"], ["prior"]),
        helper.make_node("Add", ["cell_known", "prior"], ["numerator"]),
        helper.make_node("Add", ["cell_valid", "small"], ["denominator"]),
        helper.make_node("Div", ["numerator", "denominator"], ["cell_fill"]),
        helper.make_node("Resize", ["cell_fill", "", "scales"], ["fill"], mode="nearest"),
        helper.make_node("Where", ["hole", "fill", IMAGE_INPUT], [OUTPUT]),
    ]
    initializers = [
        const("half", [0.5]), const("one", [1.0]), const("tiny", [1e-6]), const("small", [1e-3]),
        const("spatial", [2, 3], np.int64), const("scales", [1.0, 1.0, CELL, CELL]),
    ]  # fmt: skip
    return _save(nodes, initializers, path, "white")


def write_passthrough_model(path: Path, hole_fill: str) -> Path:
    """A graph that returns its image input as it is, of the ``hole_fill`` convention: its
    output's hole shows what the inpainter put there before the network."""
    return _save([helper.make_node("Identity", [IMAGE_INPUT], [OUTPUT])], [], path, hole_fill)


def _save(nodes: list[onnx.NodeProto], initializers: list[onnx.TensorProto], path: Path, hole_fill: str) -> Path:
    graph = helper.make_graph(
        nodes, "contract-stand-in",
        [helper.make_tensor_value_info(IMAGE_INPUT, TensorProto.FLOAT, ["batch", 3, TILE, TILE]),
         helper.make_tensor_value_info(MASK_INPUT, TensorProto.FLOAT, ["batch", 1, TILE, TILE])],
        [helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, ["batch", 3, TILE, TILE])],
        initializers,
    )  # fmt: skip
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 8
    helper.set_model_props(model, metadata_keys(8, "0" * 64, 42, "fp32", "stand-in.pth", "0", hole_fill))
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, str(path))
    return path
