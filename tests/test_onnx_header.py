"""The ONNX header reader against the ``onnx`` package's own reading of the same files."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from gincli.core.engine import Engine, EngineError
from gincli.core.onnx_header import read_onnx_header


def onnx_reading(path: Path) -> tuple[dict, dict, dict]:
    """(inputs, outputs, metadata) as the onnx package reads them: the oracle."""
    model = onnx.load(str(path))

    def dims(value: onnx.ValueInfoProto) -> list[int | str]:
        shape = value.type.tensor_type.shape
        return [d.dim_value if d.HasField("dim_value") else (d.dim_param or "?") for d in shape.dim]

    return (
        {i.name: dims(i) for i in model.graph.input},
        {o.name: dims(o) for o in model.graph.output},
        {p.key: p.value for p in model.metadata_props},
    )


def awkward_model(path: Path) -> Path:
    """Every kind of dimension (a size, a name, neither, a 0 size, a size past 2^32, a negative one), a
    sequence-typed input (no tensor shape), a weight of 3 MB between the inputs and the metadata,
    and metadata in several scripts."""
    inputs = [
        helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 3, 256, 256]),
        helper.make_tensor_value_info("odd", TensorProto.FLOAT, [None, 0, 2**33, -1]),
        helper.make_tensor_sequence_value_info("many", TensorProto.FLOAT, None),
    ]
    output = helper.make_tensor_value_info("inpainted", TensorProto.FLOAT, ["N", 3, 256, 256])
    weight = numpy_helper.from_array(np.random.default_rng(0).random((768, 1024), np.float32), "weight")
    nodes = [helper.make_node("Identity", ["image"], ["inpainted"])]
    graph = helper.make_graph(nodes, "g", inputs, [output], initializer=[weight])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    helper.set_model_props(model, {"gin.ngf": "32", "note": "Ünïcode ✓ 写真", "empty": ""})
    onnx.save(model, str(path))
    return path


def test_the_header_reads_what_onnx_reads(contract_model: Path, tmp_path: Path) -> None:
    for path in (contract_model, awkward_model(tmp_path / "awkward.onnx")):
        header = read_onnx_header(path)
        assert (header.inputs, header.outputs, header.metadata) == onnx_reading(path), path.name
    header = read_onnx_header(tmp_path / "awkward.onnx")
    assert header.inputs["odd"] == ["?", 0, 2**33, -1] and header.inputs["many"] == []


def test_a_cut_or_foreign_file_is_a_clear_error_never_a_hang(contract_model: Path, tmp_path: Path) -> None:
    whole = awkward_model(tmp_path / "awkward.onnx").read_bytes()
    broken = tmp_path / "broken.onnx"
    for cut in (1, 10, 100, len(whole) // 2, len(whole) - 1):  # each inside a field
        broken.write_bytes(whole[:cut])
        with pytest.raises(ValueError, match="runs past"):
            read_onnx_header(broken)
    broken.write_bytes(b"")
    with pytest.raises(ValueError, match="empty"):
        read_onnx_header(broken)
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))  # a picture named .onnx
    with pytest.raises(EngineError, match=r"broken\.onnx: not a (usable ONNX|gin inpainting) model"):
        Engine(broken, provider="cpu")


def test_running_a_model_never_imports_onnx(contract_model: Path) -> None:
    """Importing onnx took 0.9 s of every start that loads a model. (ONNX Runtime's path is
    checked with torch's, in test_export_engine.py.)"""
    script = textwrap.dedent(
        f"""
        import sys
        sys.modules["onnx"] = None  # any import of onnx now raises ImportError
        import numpy as np
        from gincli.core.inpainter import Inpainter
        image = np.full((64, 64, 3), 128, np.uint8)
        mask = np.zeros((64, 64), np.uint8); mask[10:50, 10:50] = 255
        assert Inpainter({str(contract_model)!r}).inpaint(image, mask).shape == image.shape  # OpenVINO here
        print("ok")
        """
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert run.returncode == 0 and run.stdout.strip() == "ok", run.stderr
