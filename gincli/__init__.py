"""gin: DeepGIN image inpainting. Inference runs on ONNX Runtime and never imports torch.

from gincli import Inpainter, inpaint_paths, inpaint_video
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["Inpainter", "__version__", "inpaint_paths", "inpaint_video"]


def __getattr__(name: str) -> Any:
    # lazy, so `gin --help` and `import gincli` stay fast (no ONNX Runtime import)
    if name == "Inpainter":
        from gincli.core.inpainter import Inpainter

        return Inpainter
    if name == "inpaint_paths":
        from gincli.jobs.batch import inpaint_paths

        return inpaint_paths
    if name == "inpaint_video":
        from gincli.jobs.video import inpaint_video

        return inpaint_video
    raise AttributeError(f"module 'gincli' has no attribute {name!r}")
