"""Heavy libraries imported on first use, so `gin --help` and every subcommand's `--help`
appear at once: OpenCV, ONNX Runtime and PyAV load only when a command does real work.

Modules write ``from gincli.core.lazy import cv2`` instead of ``import cv2``; the first
attribute access (``cv2.resize``) imports the real module. Nothing may touch them at
import time (no module-level constants or default arguments read from them).
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType
from typing import Any

DEFAULT_MAX_PIXELS = 250_000_000  # 250 MP: above any camera; a 16-bit RGB image this size is 1.5 GB


def pixel_limit() -> int:
    """Images with more pixels are refused before decoding (``GIN_MAX_PIXELS`` overrides)."""
    return int(os.environ.get("GIN_MAX_PIXELS", DEFAULT_MAX_PIXELS))


class LazyModule(ModuleType):
    """A stand-in that imports the named module on first attribute access."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self._module: ModuleType | None = None

    def __getattr__(self, attribute: str) -> Any:
        if self._module is None:
            if self.__name__ == "cv2":  # OpenCV refuses images over this many pixels before decoding them
                os.environ.setdefault("OPENCV_IO_MAX_IMAGE_PIXELS", str(pixel_limit()))
            self._module = importlib.import_module(self.__name__)
        return getattr(self._module, attribute)


cv2: Any = LazyModule("cv2")
onnxruntime: Any = LazyModule("onnxruntime")
av: Any = LazyModule("av")
