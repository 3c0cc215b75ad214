"""Read a generator's weights back out of an ONNX graph made by ``gin export``.

The exporter keeps every parameter as an initializer named ``generator.<state-dict key>``
(fp32, or fp16 for ``--fp16`` graphs), so a shipped model is a complete checkpoint of
the generator: training can continue from it (``gin train --init-from model.onnx``)
and it can be exported again. int8 graphs hold quantised weights and cannot be read back.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import onnx
import torch
from onnx import numpy_helper

from gincli.core.model_contract import parse_metadata
from gincli.core.onnx_header import read_onnx_header

PARAMETER_PREFIX = "generator."  # the exporter's module name for the generator inside InpaintingGraph


def is_onnx_file(path: str | Path) -> bool:
    """An ONNX model (a protobuf): by suffix, since protobuf has no magic number."""
    return Path(path).suffix.lower() == ".onnx"


def graph_precision(path: str | Path) -> str:
    """The ``gin.precision`` a graph's metadata states ("unknown" for foreign graphs), read from
    its header as the engine reads it: the graph itself is not parsed."""
    return parse_metadata(read_onnx_header(path).metadata).precision


def is_fp32_graph(path: str | Path) -> bool:
    """An ONNX file whose metadata says fp32: its graph can be quantised or converted as it is."""
    return is_onnx_file(path) and graph_precision(path) == "fp32"


def generator_state_from_onnx(path: str | Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """The generator's state dict (float32) held in an exported graph, and its metadata.

    Raises ``ValueError`` naming the file when it is not a gin graph or its weights are quantised.
    """
    path = Path(path)
    try:
        model = onnx.load(str(path))
    except Exception as exc:  # protobuf's DecodeError and friends
        raise ValueError(f"{path}: not an ONNX model ({exc.__class__.__name__}: {str(exc)[:200]})") from exc
    info = parse_metadata({p.key: p.value for p in model.metadata_props})
    if info.precision == "int8":
        raise ValueError(
            f"{path}: an int8 graph holds quantised weights that cannot be turned back into the generator's; "
            "start from its fp32 or fp16 export instead"
        )
    state = {
        init.name[len(PARAMETER_PREFIX) :]: torch.from_numpy(numpy_helper.to_array(init).astype(np.float32))
        for init in model.graph.initializer
        if init.name.startswith(PARAMETER_PREFIX)
    }
    if not state:
        raise ValueError(
            f"{path}: holds no generator weights (no initializers named {PARAMETER_PREFIX}*): "
            "only graphs made by `gin export` can be read back"
        )
    return state, {"source": "onnx", "step": info.step, "stage": None, "hole_fill": info.hole_fill}
