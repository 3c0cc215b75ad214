"""Heavy libraries imported on first use, so `gin --help` and every subcommand's `--help`
appear at once: OpenCV, ONNX Runtime and PyAV load only when a command does real work.

Modules write ``from gincli.core.lazy import cv2`` instead of ``import cv2``; the first
attribute access (``cv2.resize``) imports the real module. Nothing may touch them at
import time (no module-level constants or default arguments read from them).
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class LazyModule(ModuleType):
    """A stand-in that imports the named module on first attribute access."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self._module: ModuleType | None = None

    def __getattr__(self, attribute: str) -> Any:
        if self._module is None:
            self._module = importlib.import_module(self.__name__)
        return getattr(self._module, attribute)


cv2: Any = LazyModule("cv2")
onnxruntime: Any = LazyModule("onnxruntime")
av: Any = LazyModule("av")
