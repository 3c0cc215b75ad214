"""gin: DeepGIN image inpainting. Inference runs on ONNX Runtime and never imports torch.

from gincli import Inpainter, inpaint_paths
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["Inpainter", "__version__", "inpaint_paths"]


def __getattr__(name: str) -> Any:
    # lazy, so `gin --help` and `import gincli` stay fast (no ONNX Runtime import)
    if name == "Inpainter":
        from gincli.core.inpainter import Inpainter

        return Inpainter
    if name == "inpaint_paths":
        from gincli.jobs.batch import inpaint_paths

        return inpaint_paths
    raise AttributeError(f"module 'gincli' has no attribute {name!r}")
