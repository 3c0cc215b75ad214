"""The package's shape: each layer of gincli imports only from the layers below it, and
help never loads a heavy library (ONNX Runtime, OpenCV, PyAV, OpenVINO, torch)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

GINCLI = Path(__file__).resolve().parent.parent / "gincli"
# layer -> the gincli layers it may import (besides itself)
ALLOWED = {
    "core": set(),
    "io": {"core"},
    "masks": {"core"},
    "testing": {"core", "io", "masks"},  # clips and footage for tests and benchmarks
    "jobs": {"core", "io", "masks"},
    "cli": {"core", "io", "masks", "jobs"},
}


def gincli_imports(path: Path) -> set[str]:
    """The gincli layers a module imports, at any depth (lazy imports in functions included)."""
    layers = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
        names += [a.name for a in node.names] if isinstance(node, ast.Import) else []
        for name in names:
            parts = name.split(".")
            if parts[0] == "gincli" and len(parts) > 1:
                layers.add(parts[1])
    return layers


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_each_layer_imports_only_from_layers_below(layer: str) -> None:
    modules = sorted((GINCLI / layer).glob("*.py"))
    assert modules, f"gincli/{layer}/ is empty"
    for module in modules:
        wrong = gincli_imports(module) - ALLOWED[layer] - {layer, "models"}
        assert not wrong, f"{module.relative_to(GINCLI.parent)} imports from layer(s) above it: {sorted(wrong)}"


@pytest.mark.parametrize("command", ["", "inpaint", "video", "scratches", "eval", "train", "export"])
def test_help_imports_no_heavy_library(command: str) -> None:
    code = (
        "import sys\n"
        f"sys.argv = ['gin', *{command.split()!r}, '--help']\n"
        "from gincli.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('onnxruntime', 'cv2', 'av', 'openvino', 'torch', 'onnx') if m in sys.modules]\n"
        "print('HEAVY', heavy, file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "Usage: gin" in result.stdout
    assert "HEAVY []" in result.stderr, result.stderr[-500:]
