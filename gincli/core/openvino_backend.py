"""OpenVINO on the CPU: the same graph, compiled by OpenVINO, in bf16 where the CPU has it.

Chosen over ONNX Runtime's OpenVINO execution provider (``onnxruntime-ep-openvino``): the
``openvino`` package alone does the work, compiles the ONNX file directly, caches compiled
models, and its wheel (about 50 MB) is no larger than the plugin's; the plugin adds a second
runtime layer and ties the OpenVINO version to ONNX Runtime's plugin ABI.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from gincli.core.model_contract import IMAGE_INPUT, MASK_INPUT, OUTPUT


def openvino_problem() -> str | None:
    """Why OpenVINO cannot run here, or None."""
    try:
        import openvino  # noqa: F401
    except ImportError:
        return "the openvino package is not installed (pip install openvino)"
    return None


def openvino_cache_dir() -> Path:
    from gincli.core.engine import user_cache_dir

    return user_cache_dir() / "openvino"


class OpenVinoSession:
    """A compiled model and one infer request, reused; ``precision`` is "fp32" or "bf16".

    Compiled on the first batch, not when created: a run whose holes all go to the classical
    fill (scratches and dust in a film) never pays for it (measured: 143 MB resident and 0.6 s
    for the bundled model)."""

    def __init__(self, model_path: Path, precision: str, threads: int | None) -> None:
        self.model_path, self.precision, self.threads = model_path, precision, threads
        self.request = None
        self._compile_lock = threading.Lock()

    def _compile(self) -> None:
        import openvino as ov

        from gincli.core.engine import EngineError

        core = ov.Core()
        cache = openvino_cache_dir()
        cache.mkdir(parents=True, exist_ok=True)
        config: dict[str, object] = {
            "INFERENCE_PRECISION_HINT": "bf16" if self.precision == "bf16" else "f32",
            "PERFORMANCE_HINT": "LATENCY",
            "CACHE_DIR": str(cache),  # the second run of a model loads the compiled blob
        }
        if self.threads:
            config["INFERENCE_NUM_THREADS"] = self.threads
        try:
            compiled = core.compile_model(str(self.model_path), "CPU", config)
        except RuntimeError as exc:  # OpenVINO's compile errors
            raise EngineError(f"{self.model_path}: OpenVINO cannot compile it ({str(exc)[:300]})") from exc
        self.output = compiled.output(OUTPUT)
        self.request = compiled.create_infer_request()  # holds the compiled model

    def run(self, images: np.ndarray, masks: np.ndarray) -> np.ndarray:
        if self.request is None:
            with self._compile_lock:
                if self.request is None:
                    self._compile()
        result = self.request.infer({IMAGE_INPUT: images, MASK_INPUT: masks})
        return np.array(result[self.output], dtype=np.float32, copy=True)  # the request reuses its buffers
